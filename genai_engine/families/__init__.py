"""The family registry: every sub-package of ``genai_engine/families`` that defines ``FAMILY``.

    get_family("vae")            # the VAE family (a ``base.Family``)
    family_names()               # ("vae", "gan", ...) in a stable order

Adding a family is adding a folder with ``FAMILY = MyFamily()`` in its ``__init__``; no
generic module names a family.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from genai_engine.errors import GenAIError
from genai_engine.families.base import Family

DEFAULT_FAMILY = "vae"
# Families the course presents in this order; any other folder follows alphabetically.
_ORDER = ("vae", "gan", "diffusion", "autoregressive")


@functools.cache
def _registry() -> dict[str, Family]:
    found: dict[str, Family] = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg:
            continue
        family = getattr(importlib.import_module(f"{__name__}.{info.name}"), "FAMILY", None)
        if isinstance(family, Family):
            found[family.name] = family
    rank = {name: i for i, name in enumerate(_ORDER)}
    return dict(sorted(found.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))


def family_names() -> tuple[str, ...]:
    return tuple(_registry())


def get_family(name: str) -> Family:
    try:
        return _registry()[name]
    except KeyError:
        raise GenAIError(f"unknown model family {name!r}; choose one of "
                         f"{', '.join(family_names())}") from None
