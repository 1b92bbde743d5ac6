"""The app's log file: a rotating file under ``user_data_dir()/logs``, set up once per process.

Windowed (frozen) builds have no stdout/stderr, so the file is where errors end up; warnings
also go to stderr when there is one. A home that cannot be written leaves the app without a
log file, not without an app (``setup_logging`` then returns ""). Both the app and its self-test start here.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys


def setup_logging() -> str:
    from genai_engine.files import make_folder, storage_error
    from genai_engine.resources import user_data_dir

    root = logging.getLogger()
    for existing in root.handlers:  # already set up (self-test, a second main() in one process)
        if isinstance(existing, logging.handlers.RotatingFileHandler):
            return existing.baseFilename
    path = None
    try:
        path = make_folder(user_data_dir() / "logs") / "genai-lab.log"
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3,
                                                       encoding="utf-8")
    except OSError as error:  # a full or read-only home: the app runs without a log file
        if sys.stderr is not None:
            reason = error if path is None else storage_error(error, path)
            print(f"genai-lab: no log file: {reason}", file=sys.stderr)
        return ""
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    if sys.stderr is not None:  # None in a windowed PyInstaller build
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.WARNING)
        root.addHandler(console)
    return str(path)
