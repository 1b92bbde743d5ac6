"""GenAI Lab engine: Qt-free data, models, training, latent tools and metrics.

Importing this package must stay cheap and must never import Qt; heavy modules (torch) are
imported by the submodules that need them.
"""

__version__ = "0.1.0"
