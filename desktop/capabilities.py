"""What the open model cannot do, in words a view shows in place of the controls it disables.

Views test a snapshot's capabilities with the protocols of ``genai_engine.families.base``
(``isinstance``), never its family name; these sentences name the family only for people.
"""

from __future__ import annotations

from genai_engine.errors import GenAIError
from genai_engine.families import get_family
from genai_engine.families.base import Completer, DensityModel, Encoder, Invertible, StepwiseSampler


def model_phrase(model) -> str:
    """'A generative adversarial network' (the family's title), or 'This model'."""
    try:
        title = get_family(getattr(model, "family", "")).title
    except GenAIError:
        return "This model"
    return f"{'An' if title[:1].lower() in 'aeiou' else 'A'} {title[:1].lower()}{title[1:]}"


def no_latent(model, what: str) -> str:
    text = (f"{model_phrase(model)} has no latent space that decodes to images, so there is "
            f"nothing to {what}. Explore and Interpolate work for models with one (VAE, GAN).")
    if isinstance(model, (StepwiseSampler, Completer)):
        text += (" This one writes images pixel by pixel: watch it, and give it the top of an "
                 "image to finish, in Generate ▸ Generation view and Completion.")
    return text


def lacks_encoder(model) -> str:
    return f"{model_phrase(model)} has no encoder"


def no_encoder(model) -> str:
    """Why a dataset image has no latent code, and what to do instead."""
    instead = "pick a prior sample" + (", or use Encode by inversion"
                                       if isinstance(model, Invertible) else "")
    return f"{lacks_encoder(model)}: {instead}."


def scores_likelihood(model) -> bool:
    """Analyze's likelihood and anomaly scores draw codes from the encoder and score them with
    the model's likelihood (the VAE's importance-weighted estimate): both capabilities."""
    return isinstance(model, Encoder) and isinstance(model, DensityModel)


def no_likelihood(model, what: str) -> str:
    return (f"{model_phrase(model)} has no likelihood (and no encoder to estimate one with), "
            f"so it cannot {what}. Memorisation, FID and the report work for every model.")


def noise_latent(model) -> bool:
    """The latent is a starting noise image (a diffusion model), not a learned code."""
    return getattr(model, "latent_kind", "code") == "noise"


def noise_latent_note(model) -> str:
    return (f"The latent of {model_phrase(model)[0].lower()}{model_phrase(model)[1:]} is its starting "
            f"noise, one value per pixel ({model.latent_dim:,} here): deterministic DDIM decodes "
            "it, so the same noise always gives the same image. A slider per noise pixel would "
            "mean little: choose the noise by its seed, blend it towards another seed's noise, "
            "or encode a dataset image by DDIM inversion.")
