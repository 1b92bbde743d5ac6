"""How headless commands print a result: a table for people, then one JSON line with ``--json``."""

from __future__ import annotations

import json
import math
import sys


def json_ready(value):
    """``value`` with NaN and infinities as ``null``, so the JSON line is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def print_result(result, formatter, as_json: bool) -> int:
    """Print ``result`` (``None``: cancelled) and return the command's exit code."""
    if result is None:
        print("cancelled", file=sys.stderr)
        return 130
    print(formatter(result))
    if as_json:
        print(json.dumps(json_ready(result.to_dict()), sort_keys=True))
    return 0
