"""The variational autoencoder family (Kingma & Welling): an encoder, a decoder, the ELBO."""

from genai_engine.families.vae.family import VAEFamily

FAMILY = VAEFamily()
