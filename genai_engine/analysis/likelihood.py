"""Importance-weighted estimates of a VAE's negative log-likelihood (Burda et al., IWAE).

For an image x, with z_1..z_k drawn from the encoder's posterior q(z|x),

    log p(x) >= E[ log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x) ]   (the IWAE bound L_k)

L_1 is the ELBO, and L_k rises towards log p(x) as k grows, so the NLL estimate -L_k falls
(tightens) with k. Every k is estimated from the same K = max(ks) samples per image, split into
K // k disjoint groups of k: each group is one draw of the k-sample bound, and their mean is an
unbiased, low-variance estimate of it. The ELBO beside it uses the analytic KL, like training.

Numbers are nats per image under the model's own likelihood. With the Bernoulli likelihood on
continuous pixels in [0, 1] (our Fashion-MNIST) this is a cross-entropy, not the log-probability
of binarised images, so it does not compare with the ~86-90 nats published for binarised MNIST.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from genai_engine.errors import GenAIError
from genai_engine.families.vae.losses import kl_per_dim, reconstruction_nll
from genai_engine.families.vae.nets import VAE
from genai_engine.tasks import TaskControl
from genai_engine.tensors import images_to_tensor, to_unit

DEFAULT_KS = (1, 10, 100, 1000)
MAX_K = 100_000
LOG_2PI = math.log(2 * math.pi)


@dataclass
class LikelihoodProgress:
    done: int  # images finished
    total: int
    seconds: float
    nll: dict[int, float]  # running mean estimate per k over the images done so far
    elbo: float  # running negative ELBO

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass
class LikelihoodResult:
    """Means over ``n_images`` images; ``*_stderr`` are standard errors of those means."""

    ks: list[int]
    nll: dict[int, float]  # -L_k, nats per image
    nll_stderr: dict[int, float]
    elbo: float  # negative ELBO, nats per image
    elbo_stderr: float
    n_images: int
    samples_per_image: int
    likelihood: str
    pixels: int  # values per image (C*H*W), for bits per dimension
    seed: int
    seconds: float
    cancelled: bool = False
    per_image: dict[int, np.ndarray] = field(default_factory=dict, repr=False)  # -L_k per image

    def bits_per_dim(self, k: int) -> float:
        return self.nll[k] / (self.pixels * math.log(2))

    def to_dict(self) -> dict:
        return {
            "ks": list(self.ks),
            "nll": {str(k): v for k, v in self.nll.items()},
            "nll_stderr": {str(k): v for k, v in self.nll_stderr.items()},
            "bits_per_dim": {str(k): self.bits_per_dim(k) for k in self.ks},
            "elbo": self.elbo,
            "elbo_stderr": self.elbo_stderr,
            "n_images": self.n_images,
            "samples_per_image": self.samples_per_image,
            "likelihood": self.likelihood,
            "pixels": self.pixels,
            "seed": self.seed,
            "seconds": self.seconds,
            "cancelled": self.cancelled,
        }

    @classmethod
    def from_dict(cls, data: dict) -> LikelihoodResult:
        """Read back ``to_dict`` output (e.g. ``genai-lab likelihood --json``) for a report."""
        try:
            ks = [int(k) for k in data["ks"]]
            return cls(
                ks=ks,
                nll={k: float(data["nll"][str(k)]) for k in ks},
                nll_stderr={k: float(data.get("nll_stderr", {}).get(str(k), math.nan)) for k in ks},
                elbo=float(data["elbo"]), elbo_stderr=float(data.get("elbo_stderr", math.nan)),
                n_images=int(data["n_images"]), samples_per_image=int(data["samples_per_image"]),
                likelihood=str(data.get("likelihood", "bernoulli")), pixels=int(data["pixels"]),
                seed=int(data.get("seed", 0)), seconds=float(data.get("seconds", math.nan)),
                cancelled=bool(data.get("cancelled", False)),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise GenAIError(f"not a likelihood result (missing or bad {error})") from None


def parse_ks(text: str | Sequence[int]) -> tuple[int, ...]:
    """'1,10,100' (or a sequence) -> sorted unique sample counts, each 1..MAX_K."""
    if isinstance(text, str):
        try:
            values = [int(part) for part in text.replace(" ", "").split(",") if part]
        except ValueError:
            raise GenAIError(f"k must be integers like 1,10,100, got {text!r}") from None
    else:
        values = [int(v) for v in text]
    if not values:
        raise GenAIError("give at least one k, e.g. 1,10,100")
    if any(not 1 <= k <= MAX_K for k in values):
        raise GenAIError(f"each k must be between 1 and {MAX_K:,}, got {values}")
    return tuple(sorted(set(values)))


def importance_weighted(model) -> bool:
    """Whether ``estimate_nll`` takes ``model``: a VAE, whose encoder's posterior is the proposal
    of the importance weights. Other likelihoods are scored as they are (``score_nll``): an
    autoregressive model's exact one, or a diffusion model's bound (its encoder, DDIM
    inversion, is deterministic and gives no posterior to weight)."""
    return isinstance(getattr(model, "model", model), VAE)


def unwrap_model(model) -> tuple[VAE, torch.device]:
    """A ``VAE`` (on its device) from a ``VAE`` or a ``VAEInference`` snapshot."""
    inner = getattr(model, "model", model)
    if not isinstance(inner, VAE):
        raise TypeError(f"expected a VAE or VAEInference, got {type(model).__name__}")
    return inner, next(inner.parameters()).device


@torch.inference_mode()
def sample_log_weights(model: VAE, x: torch.Tensor, labels: torch.Tensor | None, n_samples: int,
                       generator: torch.Generator, max_decodes: int = 8192):
    """log p(x|z) + log p(z) - log q(z|x) for ``n_samples`` posterior draws per image.

    Returns float64 tensors on the CPU: log weights (B, S), reconstruction NLL (B, S) and the
    analytic KL (B,). Draws are decoded ``max_decodes`` at a time to bound memory.
    """
    mu, logvar = model.encode(x, labels)
    std = torch.exp(0.5 * logvar)
    batch, dim = mu.shape
    log_sigma = getattr(model, "log_sigma", None)
    likelihood = model.config.likelihood
    chunk = max(1, min(n_samples, max_decodes // max(batch, 1)))
    log_w, recon = [], []
    for start in range(0, n_samples, chunk):
        s = min(chunk, n_samples - start)
        eps = torch.randn((s, batch, dim), generator=generator, device=mu.device)
        z = mu + std * eps  # (s, B, D)
        flat_labels = None if labels is None else labels.repeat(s)
        logits = model.decode(z.reshape(s * batch, dim), flat_labels)
        target = x.unsqueeze(0).expand(s, *x.shape).reshape(s * batch, *x.shape[1:])
        nll = reconstruction_nll(logits, target, likelihood, log_sigma).view(s, batch)
        log_q = -0.5 * (LOG_2PI + logvar + eps.pow(2)).sum(-1)
        log_p = -0.5 * (LOG_2PI + z.pow(2)).sum(-1)
        log_w.append((-nll + log_p - log_q).double().cpu())
        recon.append(nll.double().cpu())
    kl = kl_per_dim(mu, logvar).sum(-1).double().cpu()
    return torch.cat(log_w).T.contiguous(), torch.cat(recon).T.contiguous(), kl


def iwae_bound(log_w: torch.Tensor, k: int) -> torch.Tensor:
    """(B,) estimate of L_k per image from (B, S) log weights: the mean over S // k disjoint
    groups of k samples of log-mean-exp within a group."""
    groups = log_w.shape[1] // k
    if groups < 1:
        raise ValueError(f"need at least k={k} samples per image, got {log_w.shape[1]}")
    grouped = log_w[:, :groups * k].reshape(log_w.shape[0], groups, k)
    return (torch.logsumexp(grouped, dim=2) - math.log(k)).mean(dim=1)


def _stderr(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan


def estimate_nll(
    model,
    images: np.ndarray,
    labels: np.ndarray | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    *,
    seed: int = 0,
    max_decodes: int = 8192,
    control: TaskControl | None = None,
    report_interval_s: float = 0.2,
) -> Iterator[LikelihoodProgress | LikelihoodResult]:
    """Estimate -L_k for every k in ``ks`` on uint8 ``images`` (N, H, W, C).

    ``model`` is a ``VAE`` or a ``VAEInference``; a conditional model needs ``labels`` and then
    estimates log p(x | y). Yields ``LikelihoodProgress`` a few times a second and ends with a
    ``LikelihoodResult``; when ``control`` is cancelled the result covers the images done so
    far and has ``cancelled=True`` (no result at all when cancelled before the first batch).
    Repeatable for a seed.
    """
    vae, device = unwrap_model(model)
    ks = parse_ks(ks)
    control = control or TaskControl()
    n = len(images)
    if n < 1:
        raise GenAIError("no images to estimate the likelihood on")
    if vae.config.num_classes and labels is None:
        raise GenAIError("a conditional model needs the images' class labels")
    if tuple(images.shape[1:]) != tuple(vae.config.image_shape[1:]) + (vae.config.image_shape[0],):
        c, h, w = vae.config.image_shape
        raise GenAIError(f"the model takes {h}x{w}x{c} images, these are "
                         f"{'x'.join(map(str, images.shape[1:]))}")
    total_samples = max(ks)
    # Several images per forward pass while k is small; one image (in sample chunks) for huge k.
    batch = max(1, min(n, max_decodes // total_samples, 1000))
    generator = torch.Generator(device=device).manual_seed(int(seed))
    per_image = {k: np.empty(n) for k in ks}
    elbo = np.empty(n)
    done = 0
    began = last = time.perf_counter()
    cancelled = False
    was_training = vae.training
    vae.eval()
    try:
        while done < n:
            if not control.checkpoint():
                cancelled = True
                break
            stop = min(n, done + batch)
            x = to_unit(images_to_tensor(images[done:stop], device))
            y = None
            if vae.config.num_classes:
                y = torch.as_tensor(np.asarray(labels[done:stop], np.int64), device=device)
            log_w, recon, kl = sample_log_weights(vae, x, y, total_samples, generator, max_decodes)
            for k in ks:
                per_image[k][done:stop] = -iwae_bound(log_w, k).numpy()
            elbo[done:stop] = (recon.mean(1) + kl).numpy()
            done = stop
            now = time.perf_counter()
            if now - last >= report_interval_s and done < n:
                last = now
                yield LikelihoodProgress(done, n, now - began,
                                         {k: float(v[:done].mean()) for k, v in per_image.items()},
                                         float(elbo[:done].mean()))
    finally:
        vae.train(was_training)
    if done == 0:
        return  # cancelled before the first batch: nothing to report
    seconds = time.perf_counter() - began
    yield LikelihoodProgress(done, n, seconds, {k: float(v[:done].mean()) for k, v in per_image.items()},
                             float(elbo[:done].mean()))
    kept = {k: v[:done].copy() for k, v in per_image.items()}
    yield LikelihoodResult(
        ks=list(ks),
        nll={k: float(v.mean()) for k, v in kept.items()},
        nll_stderr={k: _stderr(v) for k, v in kept.items()},
        elbo=float(elbo[:done].mean()),
        elbo_stderr=_stderr(elbo[:done]),
        n_images=done,
        samples_per_image=total_samples,
        likelihood=vae.config.likelihood,
        pixels=math.prod(vae.config.image_shape),
        seed=int(seed),
        seconds=seconds,
        cancelled=cancelled,
        per_image=kept,
    )


def format_result(result: LikelihoodResult) -> str:
    """A small text table for the CLI."""
    lines = [f"{'k':>6}  {'NLL (nats)':>11}  {'± s.e.':>7}  {'bits/dim':>8}  {'gap to ELBO':>11}"]
    for k in result.ks:
        lines.append(f"{k:>6}  {result.nll[k]:>11.2f}  {result.nll_stderr[k]:>7.2f}  "
                     f"{result.bits_per_dim(k):>8.4f}  {result.elbo - result.nll[k]:>11.2f}")
    lines.append(f"{'ELBO':>6}  {result.elbo:>11.2f}  {result.elbo_stderr:>7.2f}  "
                 f"{result.elbo / (result.pixels * math.log(2)):>8.4f}")
    note = " (cancelled: partial)" if result.cancelled else ""
    lines.append(f"{result.n_images:,} images, {result.samples_per_image:,} posterior samples each, "
                 f"{result.likelihood} likelihood, {result.seconds:.1f} s{note}")
    return "\n".join(lines)


@dataclass
class ScoredNLL:
    """The NLL a ``DensityModel`` gives directly (``snapshot.nll``), nats per image: exact for an
    autoregressive model, an upper bound where ``kind`` is "bound". No encoder, no k."""

    nll: float
    nll_stderr: float
    n_images: int
    pixels: int
    kind: str  # the model's likelihood_kind
    seconds: float
    cancelled: bool = False

    @property
    def bits_per_dim(self) -> float:
        return self.nll / (self.pixels * math.log(2))

    def to_dict(self) -> dict:
        return {**asdict(self), "bits_per_dim": self.bits_per_dim}


def format_scored(result: ScoredNLL) -> str:
    """The CLI's lines for a likelihood the model gives directly."""
    note = " (cancelled: partial)" if result.cancelled else ""
    return (f"NLL {result.nll:.2f} ± {result.nll_stderr:.2f} nats per image, {result.bits_per_dim:.4f} "
            f"bits/dim ({'an upper bound' if result.kind == 'bound' else result.kind})\n"
            f"{result.n_images:,} images, {result.seconds:.1f} s{note}")


def score_nll(model, images: np.ndarray, labels: np.ndarray | None = None, *, batch_size: int = 100,
              control: TaskControl | None = None) -> Iterator[LikelihoodProgress | ScoredNLL]:
    """``model.nll`` of uint8 ``images`` in batches: ``LikelihoodProgress`` (its ``nll`` keyed
    by 0) after each, then one ``ScoredNLL`` (of the images done, if cancelled)."""
    control = control or TaskControl()
    n = len(images)
    if n < 1:
        raise GenAIError("no images to score the likelihood of")
    c, h, w = model.config.image_shape
    if tuple(images.shape[1:]) != (h, w, c):
        shape = "x".join(map(str, images.shape[1:]))
        raise GenAIError(f"the model takes {h}x{w}x{c} images, these are {shape}")
    if model.conditional and labels is None:
        raise GenAIError("a conditional model needs the images' class labels")
    scores = np.empty(n)
    done, began, cancelled = 0, time.perf_counter(), False
    while done < n:
        if not control.checkpoint():
            cancelled = True
            break
        stop = min(n, done + batch_size)
        scores[done:stop] = model.nll(images[done:stop], None if labels is None else labels[done:stop])
        done = stop
        yield LikelihoodProgress(done, n, time.perf_counter() - began, {0: float(scores[:done].mean())},
                                 math.nan)
    if done:
        yield ScoredNLL(float(scores[:done].mean()), _stderr(scores[:done]), done,
                        math.prod(model.config.image_shape), model.likelihood_kind,
                        time.perf_counter() - began, cancelled)
