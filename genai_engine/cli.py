"""The headless ``genai-lab`` commands (``desktop.launcher`` adds the app when given none).

Each command lives in ``genai_engine/commands/<name>.py`` with ``register(subparsers)`` that
adds its parser and sets ``func``. Headless commands never import Qt. Exit codes: 0 done, 1 a
runtime failure (a bad file, a diverged run, no room), 2 a usage error (argparse's or a
``UsageError``), 130/143 stopped by Ctrl+C/SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from genai_engine import __version__
from genai_engine.commands.output import CommandParser, UsageError
from genai_engine.errors import GenAIError
from genai_engine.files import STORAGE_ERRNOS, storage_error

COMMANDS = ("train", "sample", "generate", "info", "fid", "weights", "likelihood", "memorisation",
            "anomalies", "report", "compare")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genai-lab",
        description="GenAI Lab: train, explore and evaluate generative models. "
        "Run `genai-lab` with no command to open the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"genai-lab {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
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
        if getattr(args, "reparse", None):  # a settings file (train --config) under the options given
            args = args.reparse(args, argv[argv.index(args.command) + 1:])
        return int(args.func(args) or 0)
    except UsageError as error:  # options that do not go together: a usage error, as argparse's
        print(f"genai-lab {args.command}: error: {error}", file=sys.stderr)
        return 2
    except GenAIError as error:  # a bad file, a diverged run, no room: the command ran and failed
        print(f"genai-lab {args.command}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        if error.errno not in STORAGE_ERRNOS or not error.filename:
            raise  # not about room or rights: a bug, keep its traceback
        print(f"genai-lab {args.command}: error: {storage_error(error, error.filename)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"genai-lab {args.command}: interrupted", file=sys.stderr)
        return 130
