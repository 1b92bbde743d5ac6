"""The sampling options ``sample`` and ``fid`` share: --sampler, --steps, --eta, --guidance.

Only the options given are passed on (``Checkpoint.sampling``, applied by
``Snapshot.configure_sampling``), so a family without such settings refuses them clearly and
one with them keeps its defaults for the rest.
"""

from __future__ import annotations

SETTINGS = ("sampler", "steps", "eta", "guidance")


def add_sampling_arguments(parser) -> None:
    group = parser.add_argument_group("sampling (diffusion models)")
    group.add_argument("--sampler", default=None, help="ddim, ddpm or dpm++2m (default: ddim)")
    group.add_argument("--steps", type=int, default=None, help="number of sampling steps (default 25)")
    group.add_argument("--eta", type=float, default=None, help="DDIM noise, 0 (deterministic) to 1")
    group.add_argument("--guidance", type=float, default=None,
                       help="classifier-free guidance scale of a conditional model (default 1: none)")


def sampling_settings(args) -> dict:
    return {name: getattr(args, name) for name in SETTINGS if getattr(args, name, None) is not None}
