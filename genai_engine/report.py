"""Export a training run as one self-contained HTML file.

The page holds the model, training and dataset settings, loss curves and the per-dimension KL
as inline SVG (``report_charts``), prior samples, reconstructions and an interpolation strip as
inline base64 PNGs, and — when given — evaluation metrics (each with its feature network and
sample counts) and likelihood estimates. Nothing is fetched from anywhere: the file opens
offline, can be mailed as is, and prints to PDF from any browser.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import math
import os
from html import escape
from pathlib import Path

import numpy as np

from genai_engine import __version__
from genai_engine.checkpoints import Checkpoint
from genai_engine.data import Dataset
from genai_engine.errors import GenAIError
from genai_engine.families import get_family
from genai_engine.families.base import Encoder, LatentDecoder, prior_samples
from genai_engine.files import atomic_write_text
from genai_engine.latent import slerp
from genai_engine.report_charts import Series, bar_chart, line_chart
from genai_engine.sampling import image_grid, sample_model

ACTIVE_KL = 0.01  # nats: a latent unit with less KL than this carries (almost) no information

CSS = """
body{font:14px/1.45 -apple-system,'Segoe UI',Roboto,sans-serif;color:#1d1d1f;margin:0;background:#f6f6f7}
main{max-width:1180px;margin:0 auto;padding:24px 28px 40px}
h1{font-size:24px;margin:0 0 2px}
h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin:0 0 18px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #e2e2e2;border-radius:8px;padding:10px 14px;min-width:130px}
.card b{display:block;font-size:20px}.card span{color:#666;font-size:12px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
.panel{background:#fff;border:1px solid #e2e2e2;border-radius:8px;padding:10px;overflow-x:auto}
table{border-collapse:collapse;background:#fff}
td,th{border:1px solid #e2e2e2;padding:4px 10px;text-align:left}
th{background:#f0f0f2;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
img.pix{image-rendering:pixelated;image-rendering:crisp-edges;max-width:100%;height:auto}
figure{margin:0}figcaption{color:#555;font-size:12px;margin-top:4px}
.note{color:#555;font-size:13px;max-width:900px}
svg.chart{max-width:100%;height:auto}
@page{size:A4;margin:12mm}
@media print{body{background:#fff;font-size:11px}.panel,.card{border-color:#bbb}main{padding:0}
.grid2{display:block}.panel{break-inside:avoid;margin-bottom:8px}table{font-size:10px}
td,th{padding:2px 5px}}
"""


# --- small builders ----------------------------------------------------------------------

def png_data_uri(image: np.ndarray, scale: int = 1) -> str:
    """uint8 (H, W) / (H, W, 1|3) -> ``data:image/png;base64,...`` (nearest-neighbour upscaled)."""
    from PIL import Image

    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    picture = Image.fromarray(np.ascontiguousarray(array.astype(np.uint8)))
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(image: np.ndarray, caption: str, alt: str, scale: int) -> str:
    return (f'<figure><img class="pix" alt="{escape(alt)}" src="{png_data_uri(image, scale)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _table(rows: list[tuple[str, object]]) -> str:
    body = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(_text(v))}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _text(value) -> str:
    if isinstance(value, float):
        return "—" if not math.isfinite(value) else f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) or "—"
    return "—" if value is None or value == "" else str(value)


def _num(value, digits: int = 2) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    return f"{number:,.{digits}f}" if math.isfinite(number) else "—"


def _columns_for(n: int, most: int = 16) -> int:
    """About twice as wide as tall, preferring a count that fills the last row."""
    low = max(1, min(most, math.ceil(math.sqrt(2 * n))))
    return next((c for c in range(low, most + 1) if n % c == 0), low)


def _scale_for(height: int) -> int:
    return max(1, min(4, 112 // max(height, 1)))


# --- sections ----------------------------------------------------------------------------

def _curves(history: dict) -> str:
    epochs = history.get("epoch") or list(range(1, len(history.get("train_loss", [])) + 1))
    if not epochs:
        return '<p class="note">No finished epoch in this checkpoint: no curves yet.</p>'

    def pair(key: str, title: str) -> list[Series]:
        return [Series(f"train {title}", epochs, history.get(f"train_{key}", [])),
                Series(f"test {title}", epochs, history.get(f"test_{key}", []), dashed=True)]

    total = line_chart(pair("loss", "−ELBO"), title="Negative ELBO (nats per image)",
                       x_label="epoch", y_label="nats")
    parts = line_chart([*pair("recon", "reconstruction")], title="Reconstruction term",
                       x_label="epoch", y_label="nats")
    kl = line_chart(pair("kl", "KL"), title="KL term", x_label="epoch", y_label="nats")
    charts = [total, parts, kl]
    if history.get("images_per_s"):
        charts.append(line_chart([Series("images/s", epochs, history["images_per_s"])],
                                 title="Training speed", x_label="epoch", y_label="images/s"))
    return '<div class="grid2">' + "".join(f'<div class="panel">{c}</div>' for c in charts) + "</div>"


def _kl_section(kl_dims: np.ndarray | None) -> tuple[str, int | None]:
    if kl_dims is None or len(kl_dims) == 0:
        return "", None
    active = int((kl_dims >= ACTIVE_KL).sum())
    chart = bar_chart(kl_dims, title=f"KL per latent dimension (test split): {active} of "
                      f"{len(kl_dims)} active", x_label="latent dimension", y_label="nats",
                      highlight_below=ACTIVE_KL)
    note = (f'<p class="note">A dimension with KL below {ACTIVE_KL} nats (grey) is unused: the '
            "encoder leaves it at the prior and the decoder ignores it.</p>")
    return f'<div class="panel">{chart}</div>{note}', active


def _metrics_section(metrics: list[dict]) -> str:
    if not metrics:
        return ""
    head = ("<tr><th>When</th><th>Epoch</th><th>Feature network</th><th>Real (N)</th><th>Generated (N)</th>"
            "<th>FID</th><th>KID ×10³</th><th>IS</th><th>Precision</th><th>Recall</th></tr>")
    rows = []
    for m in metrics:
        label = m.get("feature_label") or m.get("features_label") or m.get("features") or "?"
        kid = m.get("kid_mean")
        kid_text = _num(float(kid) * 1e3) if isinstance(kid, (int, float)) else "—"
        low, high = m.get("fid_low"), m.get("fid_high")
        if m.get("fid_ci"):
            low, high = m["fid_ci"]
        fid = _num(m.get("fid"))
        if isinstance(low, (int, float)) and isinstance(high, (int, float)) and math.isfinite(low):
            fid += f" ({_num(low)}–{_num(high)})"
        real = m.get("real") or "real"
        rows.append(
            f"<tr><td>{escape(_text(m.get('when')))}</td><td class=num>{escape(_text(m.get('epoch')))}</td>"
            f"<td>{escape(str(label))}</td>"
            f"<td>{escape(str(real))} ({_num(m.get('n_real'), 0)})</td>"
            f"<td class=num>{_num(m.get('n_fake'), 0)}</td><td class=num>{escape(fid)}</td>"
            f"<td class=num>{kid_text}</td><td class=num>{_num(m.get('inception_score'))}</td>"
            f"<td class=num>{_num(m.get('precision'), 3)}</td>"
            f"<td class=num>{_num(m.get('recall'), 3)}</td></tr>")
    note = ('<p class="note">FIDs compare only with the same feature network and similar sample '
            "counts; domain-network FIDs do not compare with Inception FIDs or published ones."
            " The FID interval is a bootstrap confidence interval where one was computed.</p>")
    return f"<h2>Metrics</h2><table>{head}{''.join(rows)}</table>{note}"


def _likelihood_section(result) -> str:
    if result is None:
        return ""
    head = ("<tr><th>k</th><th>NLL estimate (nats)</th><th>± s.e.</th><th>bits/dim</th>"
            "<th>tighter than the ELBO by</th></tr>")
    rows = [f"<tr><td class=num>{k:,}</td><td class=num>{_num(result.nll[k])}</td>"
            f"<td class=num>{_num(result.nll_stderr[k])}</td>"
            f"<td class=num>{_num(result.bits_per_dim(k), 4)}</td>"
            f"<td class=num>{_num(result.elbo - result.nll[k])}</td></tr>" for k in result.ks]
    rows.append(f"<tr><th>−ELBO</th><td class=num>{_num(result.elbo)}</td>"
                f"<td class=num>{_num(result.elbo_stderr)}</td><td></td><td></td></tr>")
    chart = line_chart([Series("IWAE estimate −L_k", [math.log10(k) for k in result.ks],
                               [result.nll[k] for k in result.ks]),
                        Series("−ELBO", [math.log10(k) for k in result.ks],
                               [result.elbo] * len(result.ks), dashed=True)],
                       title="NLL estimate against the number of importance samples",
                       x_label="importance samples k (log scale)", y_label="nats per image",
                       integer_x=False, x_tick_labels=[(math.log10(k), f"{k:,}") for k in result.ks])
    note = (f'<p class="note">Importance-weighted (IWAE) bounds on {result.n_images:,} images with '
            f"{result.samples_per_image:,} posterior samples each, under the model's "
            f"{escape(result.likelihood)} likelihood. Each estimate is an upper bound on the true "
            "negative log-likelihood that tightens as k grows. With a Bernoulli likelihood on "
            "continuous pixels in [0, 1] this is a cross-entropy, not the log-probability of "
            "binarised images: it does not compare with the ~86–90 nats published for one-layer "
            "VAEs on binarised MNIST.</p>")
    return (f"<h2>Likelihood</h2><div class='grid2'><div><table>{head}{''.join(rows)}</table>"
            f"{note}</div><div class='panel'>{chart}</div></div>")


def _checkpoint_kl(checkpoint: Checkpoint) -> np.ndarray | None:
    values = checkpoint.diagnostics.get("latent_importance")
    return values if values is not None and values.ndim == 1 else None


def normalise_metrics(metrics) -> list[dict]:
    """One dict, a list of dicts (``EvalResult.to_dict()``, evaluation-history rows), or None."""
    if metrics is None:
        return []
    if isinstance(metrics, dict):
        metrics = metrics.get("runs", [metrics]) if "runs" in metrics else [metrics]
    rows = []
    for item in metrics:
        if hasattr(item, "to_dict"):
            item = item.to_dict()
        if not isinstance(item, dict) or "fid" not in item:
            raise GenAIError("metrics must be results of `genai-lab fid --json` (objects with a fid)")
        rows.append(item)
    return rows


# --- the page ------------------------------------------------------------------------------

def build_report(checkpoint: Checkpoint, dataset: Dataset | None = None, *, metrics=None,
                 likelihood=None, n_samples: int = 64, seed: int = 0, title: str | None = None,
                 device: str = "cpu", interpolation_steps: int = 10) -> str:
    """The report page as an HTML string (see the module docstring).

    ``dataset`` (the data the model was trained on) adds reconstructions and an interpolation
    between two test images; without it the interpolation runs between two prior samples.
    ``metrics``: see ``normalise_metrics``; ``likelihood``: a ``LikelihoodResult``.
    """
    family = get_family(checkpoint.family)
    model = checkpoint.snapshot(device)
    latent, encoder = isinstance(model, LatentDecoder), isinstance(model, Encoder)
    config = checkpoint.model_config
    c, h, w = config.image_shape
    if dataset is not None and tuple(dataset.image_shape) != (c, h, w):
        dataset = None  # a different dataset cannot feed the model; leave its images out
    scale = _scale_for(h)
    info = checkpoint.dataset
    run_name = title or (checkpoint.path.parent.name if checkpoint.path else f"{family.title} run")
    history = checkpoint.history
    test_loss = (history.get("test_loss") or [math.nan])[-1]
    # KL per dimension is what an amortised posterior (an encoder) spends on each latent
    kl_html, active = _kl_section(_checkpoint_kl(checkpoint) if encoder else None)

    samples = sample_model(model, n_samples, seed)
    columns = _columns_for(n_samples)
    images = [_figure(image_grid(samples, columns), f"{n_samples} samples "
                      f"(seed {seed})" + (", classes in turn" if model.conditional else ""),
                      "samples", scale)]
    if encoder and dataset is not None and len(dataset.test) >= 2:
        count = min(8, len(dataset.test))
        originals = dataset.test.images[:count]
        recon_labels = dataset.test.labels[:count] if model.conditional else None
        reconstructions = model.reconstruct(originals, recon_labels)
        pairs = np.concatenate([originals, reconstructions])
        images.append(_figure(image_grid(pairs, count), "test images (top) and their "
                              "reconstructions through the posterior mean (bottom)",
                              "reconstructions", scale))
        ends_labels = dataset.test.labels[:2] if model.conditional else None
        codes, _ = model.encode(dataset.test.images[:2], ends_labels)
        z0, z1 = codes
        what = "between the first two test images"
    elif latent:
        z0, z1 = prior_samples(2, config.latent_dim, seed + 1)
        what = f"between two prior samples (seed {seed + 1})"
    if latent:
        path = slerp(z0, z1, interpolation_steps)
        strip = model.decode(path, 0 if model.conditional else None)
        images.append(_figure(image_grid(strip, interpolation_steps), f"spherical interpolation {what}, "
                              f"{interpolation_steps} steps", "interpolation", scale))

    cards = [(family.title, "model family"), (str(checkpoint.epoch), "epochs")]
    if math.isfinite(test_loss):
        cards.insert(0, (_num(test_loss), f"test loss ({family.loss_unit})"))
    if latent:
        cards.append((str(config.latent_dim), "latent dimensions"))
    if active is not None:
        cards.append((f"{active}/{config.latent_dim}", "active units"))
    if likelihood is not None:
        best = max(likelihood.ks)
        cards.insert(1, (_num(likelihood.nll[best]), f"NLL estimate, k={best:,}"))
    cards_html = "".join(f'<div class="card"><b>{escape(v)}</b><span>{escape(t)}</span></div>'
                         for v, t in cards)
    model_rows = [("family", family.describe(config)),
                  *((key.replace("_", " "), value) for key, value in config.to_dict().items()),
                  ("parameters", f"{model.parameter_count:,}")]
    train_rows = sorted(checkpoint.train_config.items())
    data_rows = [("name", info.get("name")), ("source", info.get("source")),
                 ("fingerprint", info.get("fingerprint")),
                 ("classes", ", ".join(info.get("class_names") or []) or "—")]
    if dataset is not None:
        data_rows.append(("images opened for this report",
                          f"{dataset.name}: {len(dataset.train):,} train, {len(dataset.test):,} test"))

    when = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    source = str(checkpoint.path) if checkpoint.path else "unsaved model"
    body = f"""
<h1>{escape(run_name)}</h1>
<p class="sub">GenAI Lab {escape(__version__)} report · {escape(when)} · {escape(source)}</p>
<div class="cards">{cards_html}</div>
<h2>Training curves</h2>{_curves(history)}
{"<h2>Latent usage</h2>" + kl_html if kl_html else ""}
<h2>Samples</h2>
<div class="panel">{"".join(images)}</div>
{_metrics_section(normalise_metrics(metrics))}
{_likelihood_section(likelihood)}
<h2>Settings</h2>
<div class="grid2"><div><h3>Model</h3>{_table(model_rows)}</div>
<div><h3>Training</h3>{_table(train_rows)}</div></div>
<h3>Dataset</h3>{_table(data_rows)}
"""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(run_name)} — GenAI Lab report</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def write_report(html: str, path: str | os.PathLike) -> Path:
    """Write atomically (a half-written report never replaces a good one)."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise GenAIError(f"{path}: a report is an .html file")
    return atomic_write_text(path, html)


def export_report(path: str | os.PathLike, checkpoint: Checkpoint, dataset: Dataset | None = None,
                  **options) -> Path:
    """``build_report`` then ``write_report``; returns the written path."""
    return write_report(build_report(checkpoint, dataset, **options), path)
