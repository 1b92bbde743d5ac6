"""``genai-lab sample``: draw images from a trained checkpoint."""

from __future__ import annotations

from genai_engine.commands.output import add_output_arguments, print_json
from genai_engine.commands.sampling_options import add_sampling_arguments, sampling_settings


def register(subparsers) -> None:
    p = subparsers.add_parser("sample", help="sample images from a checkpoint")
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="the model to sample")
    p.add_argument("--n", type=int, default=64, help="number of images")
    p.add_argument("--seed", type=int, default=0, help="seed of the samples")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps or cuda:N")
    p.add_argument("--out", required=True, metavar="FILE", help=".png grid or .npz array")
    add_sampling_arguments(p)
    add_output_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.sampling import sample_images, save_samples

    checkpoint = load_checkpoint(args.checkpoint)
    checkpoint.sampling = sampling_settings(args)
    images = sample_images(checkpoint, args.n, seed=args.seed, device=args.device)
    path = save_samples(images, args.out)
    if args.json:
        print_json({"path": str(path), "n": len(images), "seed": args.seed})
    elif not args.quiet:
        print(f"wrote {len(images)} samples to {path}")
    return 0
