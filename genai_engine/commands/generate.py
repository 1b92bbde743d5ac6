"""``genai-lab generate``: write text with a character model, streamed as it is sampled.

The prompt and then each character go to stdout as soon as they are drawn; with ``--json``
nothing is streamed and one JSON object (prompt, text, settings, tokens_per_s) is printed at
the end. An image checkpoint is refused in one line that points at ``sample``.
"""

from __future__ import annotations

import sys
import time

from genai_engine.commands.output import add_output_arguments, print_json

# Top-p stays off by default: after a few dozen spaces (python-docs's tables) the model gives the
# next space about 0.9, so top-p 0.9 keeps only the space and writes spaces for ever.
DEFAULTS = {"length": 400, "temperature": 0.8, "top_k": 0, "top_p": 1.0}


def register(subparsers) -> None:
    d = DEFAULTS
    p = subparsers.add_parser("generate", help="write text with a character model (streamed)",
                              description="Write text after a prompt, one character at a time, with a "
                              "character model trained on a text corpus (train --family autoregressive "
                              "--dataset corpus.txt).")
    p.add_argument("--checkpoint", required=True, metavar="CKPT", help="the character model")
    p.add_argument("--prompt", default="", help="the text to continue (default: none, a fresh start)")
    p.add_argument("--length", type=int, default=d["length"], help="characters to write")
    p.add_argument("--temperature", type=float, default=d["temperature"],
                   help="0 always takes the most likely character; below 1 safer, above 1 wilder")
    p.add_argument("--top-k", type=int, default=d["top_k"],
                   help="draw from the k likeliest characters (0: all)")
    p.add_argument("--top-p", type=float, default=d["top_p"],
                   help="draw from the fewest likeliest characters whose probabilities add up to p (1: all)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the draws: the same seed writes the same text")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, mps or cuda:N")
    add_output_arguments(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import torch

    from genai_engine.checkpoints import load_checkpoint
    from genai_engine.errors import GenAIError
    from genai_engine.families.base import TextGenerator

    checkpoint = load_checkpoint(args.checkpoint)
    model = checkpoint.snapshot(args.device)
    on_cpu = model.device.type == "cpu"
    if not isinstance(model, TextGenerator):
        raise GenAIError(f"{args.checkpoint}: a {checkpoint.family} model of images writes no text; "
                         "draw images with genai-lab sample")
    if on_cpu:
        # One character is a handful of tiny operations: threads only hand them off (on a busy
        # 2-core machine, 850 characters/s on one thread, 20 on two).
        torch.set_num_threads(1)
    settings = {"length": args.length, "temperature": args.temperature, "top_k": args.top_k,
                "top_p": args.top_p, "seed": args.seed}
    characters = model.generate(args.prompt, **settings)
    start = time.perf_counter()
    if args.json:
        text = "".join(characters)
    else:
        text = _stream(args.prompt, characters)
    tokens_per_s = len(text) / max(time.perf_counter() - start, 1e-9)
    if args.json:
        print_json({"prompt": args.prompt, "text": text, "settings": settings,
                    "tokens_per_s": round(tokens_per_s, 1), "checkpoint": str(args.checkpoint)})
    elif not args.quiet:
        print(f"{len(text):,} characters, {tokens_per_s:,.0f} per second", file=sys.stderr)
    return 0


def _stream(prompt: str, characters) -> str:
    """Write the prompt, then each character as it comes; returns the characters written."""
    out = sys.stdout
    out.write(prompt)
    out.flush()
    written = []
    for character in characters:
        out.write(character)
        out.flush()
        written.append(character)
    out.write("\n")
    return "".join(written)
