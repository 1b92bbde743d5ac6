"""Reliability tests reuse the desktop fixtures (isolated home, app_state, tiny data/model).

The desktop conftest is loaded by path: a top-level ``desktop`` name would be the app package.
"""

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_desktop_test_fixtures", Path(__file__).parents[1] / "desktop" / "conftest.py")
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

isolated_home = _fixtures.isolated_home
settings = _fixtures.settings
app_state = _fixtures.app_state
tiny_dataset = _fixtures.tiny_dataset
tiny_checkpoint = _fixtures.tiny_checkpoint
ready_state = _fixtures.ready_state
