"""Keep ``None``, ``True`` and ``False`` alive under PySide6 6.12 on Python 3.11.

PySide6/shiboken 6.12.0 returns ``None`` from void C++ methods without taking a reference.
Python 3.12+ made ``None`` immortal, so it does not matter there; on 3.11 every call such as
``QProgressBar.setValue`` drops ``None``'s count by one, and after a few thousand calls the
interpreter aborts with "none_dealloc: deallocating None" (a GUI doing live updates gets there
in seconds). Raising the counts far out of reach does what 3.12's immortality does.
"""

from __future__ import annotations

import ctypes
import sys

_BOOST = 1 << 50  # ~1e15 calls: decades of 1 MHz void calls
_done = False


def protect_singletons() -> bool:
    """Make the singletons effectively immortal (once); True if anything was changed."""
    global _done
    if _done or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object (non-debug builds).
        ctypes.c_ssize_t.from_address(id(obj)).value += _BOOST
    _done = True
    return True
