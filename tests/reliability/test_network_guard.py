"""The suite-wide network guard (tests/network_guard.py) blocks outside connections, fast and
before anything is sent, and lets loopback through."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import network_guard
import pytest


def test_guard_is_active_in_this_suite():
    assert socket.socket.connect is network_guard._guarded_connect
    assert socket.create_connection is network_guard._guarded_create_connection


@pytest.mark.parametrize("connect", ["connect", "connect_ex", "create_connection"])
def test_outside_address_is_blocked_before_connecting(connect, monkeypatch):
    calls = []
    monkeypatch.setattr(network_guard, "_real_connect", lambda *a: calls.append(a))
    monkeypatch.setattr(network_guard, "_real_connect_ex", lambda *a: calls.append(a))
    monkeypatch.setattr(network_guard, "_real_create_connection", lambda *a, **k: calls.append(a))
    start = time.monotonic()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, \
            pytest.raises(network_guard.NetworkAccessBlocked, match="10.255.255.1"):
        if connect == "create_connection":
            socket.create_connection(("10.255.255.1", 80), timeout=5)
        else:
            sock.settimeout(5)
            getattr(sock, connect)(("10.255.255.1", 80))
    assert time.monotonic() - start < 0.5 and not calls  # the real connect was never reached
    network_guard._blocked_in_test.clear()  # this block was expected: do not fail the test


@pytest.mark.parametrize("host", ["8.8.8.8", "2001:4860:4860::8888", "pypi.org"])
def test_public_hosts_and_names_count_as_outside(host):
    assert not network_guard.is_loopback((host, 443))


def test_loopback_is_allowed():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]), daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"hi")
        thread.join(5)
        assert accepted and accepted[0].recv(2) == b"hi"
    finally:
        for sock in accepted:
            sock.close()
        server.close()
    for address in (("localhost", 1), ("::1", 1, 0, 0), ("127.0.0.2", 1), "/tmp/x.sock"):
        assert network_guard.is_loopback(address)


def test_swallowed_block_still_fails_the_test(tmp_path):
    """A library that hides its failed connect (say, an update check) still fails the test."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_quiet.py").write_text(
        "import socket\n"
        "def test_quiet_library():\n"
        "    try:\n"
        "        socket.create_connection(('10.255.255.1', 80), timeout=1)\n"
        "    except Exception:\n"
        "        pass\n")
    guard_dir = Path(network_guard.__file__).parent
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "network_guard",
         str(tmp_path)], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(guard_dir)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout and "GenAI Lab must work offline" in result.stdout
