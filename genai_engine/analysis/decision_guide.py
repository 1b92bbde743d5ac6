"""The course's decision guide, checked against a comparison table.

``decision_guide(rows)`` takes the table's rows (``ModelRow.to_dict()`` or any mappings with
the same keys) and returns ``GuideLine``s: what was measured on this data ("best fidelity
(lowest FID): diffusion"), beside the general claim of the course material, and whether the
measurement agrees. A claim about families that are not in the table cannot be checked, and
says so. Pure: no models, no files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DISAGREES = "the measurement disagrees"


@dataclass(frozen=True)
class GuideLine:
    topic: str  # "best fidelity (lowest FID)"
    measured: str  # "diffusion (FID 12.3)", or why nothing could be measured
    claim: str  # the course's general claim
    agrees: bool | None  # None: the claim cannot be checked on this table

    @property
    def verdict(self) -> str:
        if self.agrees is None:
            return "cannot be checked here"
        return "agrees" if self.agrees else DISAGREES

    def sentence(self) -> str:
        return f"{self.topic}: {self.measured}. Guide: {self.claim} — {self.verdict}."


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _best(rows, key: str, lowest: bool):
    scored = [r for r in rows if _finite(r.get(key))]
    if not scored:
        return None
    return (min if lowest else max)(scored, key=lambda r: r[key])


def _verdict(winners: Sequence[Mapping], expected: set[str], rows) -> bool | None:
    """Agrees when a winner is of an expected family; unknown when no expected family is here."""
    if not winners or not expected & {r["family"] for r in rows}:
        return None
    return any(w["family"] in expected for w in winners)


def _ranked(rows, topic: str, key: str, lowest: bool, show, claim: str, expected: set[str]) -> GuideLine:
    best = _best(rows, key, lowest)
    if best is None:
        return GuideLine(topic, "not measured", claim, None)
    tied = [r for r in rows if _finite(r.get(key)) and r[key] == best[key]]
    if len(tied) > 1:  # no winner: the claim is neither borne out nor refuted
        names = ", ".join(r["label"] for r in tied)
        return GuideLine(topic, f"a tie at {show(best[key])}: {names}", claim, None)
    return GuideLine(topic, f"{best['label']} ({show(best[key])})", claim, _verdict([best], expected, rows))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3g} ms per image"


def decision_guide(rows: Sequence[Mapping]) -> list[GuideLine]:
    rows = [dict(r) for r in rows]
    if not rows:
        return []
    lines = [
        _ranked(rows, "best fidelity (lowest FID)", "fid", True, lambda v: f"FID {v:.3g}",
                "diffusion models give the best quality, GANs come close", {"diffusion", "gan"}),
        _ranked(rows, "sharpest, most realistic samples (precision)", "precision", False,
                lambda v: f"precision {v:.3g}",
                "GANs give the sharpest samples; VAEs blurrier ones", {"gan", "diffusion"}),
        _ranked(rows, "best coverage (recall)", "recall", False, lambda v: f"recall {v:.3g}",
                "diffusion models cover the data best; GANs can collapse onto a few modes",
                {"diffusion", "vae", "autoregressive"}),
        _ranked(rows, "fastest sampler", "seconds_per_image", True, _ms,
                "GANs and VAEs sample in one network pass; diffusion (many steps) and "
                "autoregressive models (pixel by pixel) are slow", {"gan", "vae"}),
    ]
    if len(rows) > 1:
        slowest = _best(rows, "seconds_per_image", lowest=False)
        if slowest is not None:
            lines.append(GuideLine(
                "slowest sampler", f"{slowest['label']} ({_ms(slowest['seconds_per_image'])})",
                "diffusion and autoregressive sampling are the slow ones",
                _verdict([slowest], {"diffusion", "autoregressive"}, rows)))
    lines.append(_likelihood_line(rows))
    lines.append(_encoder_line(rows))
    lines.append(_memorisation_line(rows))
    return lines


def _likelihood_line(rows) -> GuideLine:
    claim = "only autoregressive models give an exact likelihood; VAEs (and diffusion) a bound; GANs none"
    exact = [r for r in rows if r.get("likelihood_kind") == "exact" and _finite(r.get("bits_per_dim"))]
    if exact:
        measured = ", ".join(f"{r['label']} ({r['bits_per_dim']:.3g} bits/dim)" for r in exact)
    else:
        measured = "none of these models"
    bad_gan = any(r["family"] == "gan" and r.get("likelihood_kind") for r in rows)
    if not {"autoregressive", "vae", "gan"} & {r["family"] for r in rows}:
        agrees = None
    else:
        agrees = not bad_gan and all(r["family"] == "autoregressive" for r in exact) and (
            bool(exact) or "autoregressive" not in {r["family"] for r in rows})
    return GuideLine("only exact likelihood", measured, claim, agrees)


def _encoder_line(rows) -> GuideLine:
    claim = "VAEs have an encoder and a smooth latent you can edit; GANs have no encoder"
    both = [r for r in rows if (r.get("capabilities") or {}).get("latent")
            and (r.get("capabilities") or {}).get("encoder")]
    measured = ", ".join(r["label"] for r in both) or "none of these models"
    families = {r["family"] for r in rows}
    if not {"vae", "gan"} & families:
        agrees = None
    else:
        agrees = (("vae" not in families or any(r["family"] == "vae" for r in both))
                  and not any(r["family"] == "gan" for r in both))
    return GuideLine("editable latent with an encoder", measured, claim, agrees)


def _memorisation_line(rows) -> GuideLine:
    claim = ("no family is said to copy more; a median far below that of real held-out images "
             "would mean copying")
    best = _best(rows, "memorisation_median", lowest=True)
    if best is None:
        return GuideLine("closest to its training images", "not measured", claim, None)
    return GuideLine("closest to its training images",
                     f"{best['label']} (median pixel distance {best['memorisation_median']:.3g})",
                     claim, None)


def format_guide(lines: Sequence[GuideLine]) -> str:
    return "\n".join(f"- {line.sentence()}" for line in lines)
