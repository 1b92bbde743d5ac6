"""The ``genai-lab`` command: the desktop app with no arguments, the headless CLI otherwise.

This dispatch lives in ``desktop`` so that ``genai_engine`` never imports the app; headless
commands (and ``python -m genai_engine``, which torchrun uses) still never load Qt.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

# Qt's xcb platform plugin loads these at start; minimal Linux installs lack some, and Qt then
# aborts with a bare "could not load the Qt platform plugin" message.
XCB_LIBRARIES = ("xcb-cursor", "xcb-icccm", "xcb-keysyms", "xcb-image", "xcb-render-util",
                 "xcb-xinerama", "xkbcommon-x11")
XCB_ADVICE = ("GenAI Lab: Qt's xcb platform plugin needs libraries this system lacks ({missing}). "
              "Install them with:\n  sudo apt-get install libxcb-cursor0 libxcb-icccm4 "
              "libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxkbcommon-x11-0")


def missing_xcb_libraries() -> list[str]:
    """The xcb libraries Qt will fail to load on Linux (none elsewhere or off xcb)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "xcb")
    if (not sys.platform.startswith("linux") or not platform.startswith("xcb")
            or not os.environ.get("DISPLAY")):  # with no X display, xcb fails for that reason
        return []
    return [name for name in XCB_LIBRARIES if ctypes.util.find_library(name) is None]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] == "--gui" or argv[0].startswith("--self-test"):
        missing = missing_xcb_libraries()
        if missing:
            print(XCB_ADVICE.format(missing=", ".join(f"lib{name}" for name in missing)),
                  file=sys.stderr)
        from desktop.app import main as gui_main

        return gui_main([arg for arg in argv if arg != "--gui"])
    from genai_engine.cli import main as cli_main

    return cli_main(argv)
