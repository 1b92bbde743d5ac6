"""Questions to ask a trained VAE, each Qt-free and testable headless.

- ``likelihood``: importance-weighted (IWAE) estimates of the test negative log-likelihood.
- ``memorisation``: the nearest training images of generated samples (pixel / feature space).
- ``anomaly``: per-image anomaly scores, per-class histograms, ROC AUC between two sets.
- ``timeline``: decode one latent point through every per-epoch decoder snapshot.

Long work is a generator of plain records that checks a ``TaskControl`` between batches, like
training; the submodules import torch, so import them directly (this package stays cheap).
"""
