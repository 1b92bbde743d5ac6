"""The denoising diffusion family (Ho et al.; Song et al.): a U-Net learns to remove noise, and
samplers run the noising process backwards from pure noise."""

from genai_engine.families.diffusion.family import DiffusionFamily

FAMILY = DiffusionFamily()
