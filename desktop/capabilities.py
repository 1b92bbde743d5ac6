"""What the open model cannot do, in words a view shows in place of the controls it disables.

Views test a snapshot's capabilities with the protocols of ``genai_engine.families.base``
(``isinstance``), never its family name; these sentences name the family only for people.
"""

from __future__ import annotations

from genai_engine.analysis.likelihood import importance_weighted
from genai_engine.errors import GenAIError
from genai_engine.families import get_family
from genai_engine.families.base import (
    Completer,
    DensityModel,
    Invertible,
    StepwiseSampler,
    TextGenerator,
)


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
    the model's likelihood (the VAE's importance-weighted estimate). A diffusion model has an
    encoder and a likelihood too, but its encoder (DDIM inversion) gives no posterior to weight."""
    return importance_weighted(model)


def no_likelihood(model, what: str) -> str:
    if isinstance(model, DensityModel):
        return (f"{model_phrase(model)} has a likelihood ({model.likelihood_kind}) but not the VAE's "
                f"encoder and decoder likelihood, so it cannot {what}. Analyze ▸ Likelihood scores "
                "its images.")
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


# Where a student gets a character model: said wherever one is missing.
TRAIN_TEXT_HINT = ("Open a text corpus (File ▸ Open Dataset ▸ Python docs, or File ▸ Open Text Corpus… "
                   "for a .txt file) and train it with the autoregressive family in the Train tab, or "
                   "open a character model's checkpoint.")


def writes_text(model) -> bool:
    """A character model: it writes text, and draws no images."""
    return isinstance(model, TextGenerator)


def no_text(model) -> str:
    """Why the Language view cannot write with the open model, and how to get one that can."""
    if model is None:
        return f"No model is open. The Language view writes with a character model. {TRAIN_TEXT_HINT}"
    return (f"{model_phrase(model)} draws images, not text, so there is nothing to write here. The "
            f"Language view works for character models. {TRAIN_TEXT_HINT}")


def images_only(model, dataset, view: str) -> str | None:
    """Why an image view (``view``: "Explore") cannot serve a character model or a text corpus,
    and what to do instead; None when the model and the dataset are images (or not open)."""
    if writes_text(model):
        return (f"The open model is a character model: it writes text and draws no images, and "
                f"{view} works on images. Write with it in the Language tab, or open an "
                "image model (File ▸ Open Checkpoint… or File ▸ Open Demo Model).")
    if dataset is not None and dataset.vocabulary is not None:
        return (f"The open dataset, {dataset.name}, is a text corpus, and {view} works on images. "
                "Open an image dataset (File ▸ Open Dataset), or train a character model on the "
                "corpus in the Train tab and write with it in the Language tab.")
    return None
