"""A one-line terminal progress display for headless commands (stderr, only on a terminal)."""

from __future__ import annotations

import sys
import time


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class ProgressLine:
    def __init__(self, stream=None, min_interval_s: float = 0.1, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet  # --quiet: no bar and no messages
        self.enabled = not quiet and bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval_s = min_interval_s
        self._last = 0.0

    def update(self, fraction: float, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < self.min_interval_s):
            return
        self._last = now
        width = 24
        filled = int(round(width * min(max(fraction, 0.0), 1.0)))
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r[{bar}] {fraction * 100:5.1f}% {text}\033[K")
        self.stream.flush()

    def message(self, text: str) -> None:
        """A permanent line (e.g. an epoch summary), printed whether or not on a terminal."""
        if self.quiet:
            return
        if self.enabled:
            self.stream.write("\r\033[K")
        print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()
