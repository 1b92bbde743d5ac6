"""The headless ``genai-lab`` commands (``desktop.launcher`` adds the app when given none).

Each command lives in ``genai_engine/commands/<name>.py`` with ``register(subparsers)`` that
adds its parser and sets ``func``. Headless commands never import Qt.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from genai_engine import __version__
from genai_engine.errors import GenAIError

COMMANDS = ("train", "sample", "info", "fid", "weights", "likelihood", "report")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genai-lab",
        description="GenAI Lab: train, explore and evaluate generative models. "
        "Run `genai-lab` with no command to open the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"genai-lab {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"genai_engine.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except GenAIError as error:
        print(f"genai-lab {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"genai-lab {args.command}: interrupted", file=sys.stderr)
        return 130
