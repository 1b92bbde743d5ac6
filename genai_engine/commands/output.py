"""How headless commands talk: results on stdout (with ``--json``, one JSON object and nothing
else, so ``| jq`` works), people's text and progress on stderr, and help that shows defaults."""

from __future__ import annotations

import argparse
import json
import math
import sys

from genai_engine.errors import GenAIError


class UsageError(GenAIError):
    """Options that do not go together: exit 2, as argparse's own usage errors."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` unless the help already says its default or there is none to show."""

    def _get_help_string(self, action):
        text = action.help or ""
        nothing = action.default is None or action.default is False or action.default == argparse.SUPPRESS
        if "default" in text or nothing or not action.option_strings:
            return text
        return super()._get_help_string(action)


class CommandParser(argparse.ArgumentParser):
    """A command's parser: its help shows defaults (``HelpFormatter``)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def add_output_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true",
                        help="print the result as one JSON object on stdout, and nothing else there")
    parser.add_argument("--quiet", action="store_true", help="no progress output on stderr")


def json_ready(value):
    """``value`` with NaN and infinities as ``null``, so the JSON line is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def print_json(data: dict) -> None:
    print(json.dumps(json_ready(data), sort_keys=True))


def print_result(result, formatter, as_json: bool) -> int:
    """Print ``result`` (a dict or anything with ``to_dict``; ``None``: cancelled) and return the
    command's exit code: the table on stdout, or with ``as_json`` the JSON object on stdout and
    the table on stderr."""
    if result is None:
        print("cancelled", file=sys.stderr)
        return 130
    print(formatter(result), file=sys.stderr if as_json else sys.stdout)
    if as_json:
        print_json(result if isinstance(result, dict) else result.to_dict())
    return 0
