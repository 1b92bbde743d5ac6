"""The ``genai-lab`` command: the desktop app with no arguments, the headless CLI otherwise.

This dispatch lives in ``desktop`` so that ``genai_engine`` never imports the app; headless
commands (and ``python -m genai_engine``, which torchrun uses) still never load Qt.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] == "--gui" or argv[0].startswith("--self-test"):
        from desktop.app import main as gui_main

        return gui_main([arg for arg in argv if arg != "--gui"])
    from genai_engine.cli import main as cli_main

    return cli_main(argv)
