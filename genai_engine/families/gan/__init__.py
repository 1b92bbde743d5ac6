"""The generative adversarial network family (Goodfellow et al. 2014): a generator and a
discriminator trained against each other; DCGAN or MLP, three losses, an EMA of G."""

from genai_engine.families.gan.family import GANFamily

FAMILY = GANFamily()
