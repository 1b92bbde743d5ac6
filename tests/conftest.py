"""Shared by every test: Qt runs offscreen, and nothing writes to the user's own folders.

``QT_QPA_PLATFORM`` must be set before any Qt module is imported, so it lives here at import
time rather than in a fixture.
"""

import os
import tempfile

pytest_plugins = ["network_guard"]  # no test may reach the network (tests/network_guard.py)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The app keeps logs, runs and settings under GENAI_LAB_HOME; point it at a throwaway folder so a
# test run never touches the real per-user data directory (tests may override it per test).
os.environ.setdefault("GENAI_LAB_HOME", tempfile.mkdtemp(prefix="genai-lab-tests-"))

