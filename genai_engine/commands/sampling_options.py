"""The sampling options ``sample`` and ``fid`` share: a diffusion model's --sampler, --steps,
--eta, --guidance; an autoregressive model's --temperature, --top-k, --top-p.

Only the options given are passed on (``Checkpoint.sampling``, applied by
``Snapshot.configure_sampling``), so a family without such settings refuses them clearly and
one with them keeps its defaults for the rest.
"""

from __future__ import annotations

SETTINGS = ("sampler", "steps", "eta", "guidance", "temperature", "top_k", "top_p")


def add_sampling_arguments(parser) -> None:
    group = parser.add_argument_group("sampling (diffusion models)")
    group.add_argument("--sampler", default=None, help="ddim, ddpm or dpm++2m (default: ddim)")
    group.add_argument("--steps", type=int, default=None, help="number of sampling steps (default 25)")
    group.add_argument("--eta", type=float, default=None, help="DDIM noise, 0 (deterministic) to 1")
    group.add_argument("--guidance", type=float, default=None,
                       help="classifier-free guidance scale of a conditional model (default 1: none)")
    group = parser.add_argument_group("sampling (autoregressive models)")
    group.add_argument("--temperature", type=float, default=None,
                       help="divides each pixel's logits: 0 takes the likeliest level, below 1 sharper, "
                       "above 1 noisier (default 1: the model's own distribution)")
    group.add_argument("--top-k", type=int, default=None,
                       help="draw each pixel from its k likeliest levels (default 0: all)")
    group.add_argument("--top-p", type=float, default=None,
                       help="draw from the fewest likeliest levels whose probabilities add up to p "
                       "(default 1: all)")


def sampling_settings(args) -> dict:
    return {name: getattr(args, name) for name in SETTINGS if getattr(args, name, None) is not None}
