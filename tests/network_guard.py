"""A pytest plugin that fails any test opening a network connection to a non-loopback address.

The app must work offline, so the test suite proves it: ``socket.connect``/``connect_ex`` and
``socket.create_connection`` raise before the real call when the address is not loopback (so
nothing is sent). Loopback stays allowed: torchrun tests rendezvous on 127.0.0.1, and Unix
sockets are local by definition.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_create_connection = socket.create_connection
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


class NetworkAccessBlocked(RuntimeError):
    """Raised instead of connecting: GenAI Lab must not use the network."""


def is_loopback(address) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX path (str/bytes): local
        return True
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    host = str(host).split("%", 1)[0]  # IPv6 scope id
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: resolving it would already be network traffic


_blocked_in_test: list[str] | None = None  # set while a test runs: blocked attempts


def _check(address) -> None:
    if is_loopback(address):
        return
    message = (f"test tried to open a network connection to {address!r}; GenAI Lab must work "
               "offline (only loopback is allowed in tests)")
    if _blocked_in_test is not None:
        _blocked_in_test.append(message)
    raise NetworkAccessBlocked(message)


def _guarded_connect(self, address):
    if self.family != getattr(socket, "AF_UNIX", None):
        _check(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family != getattr(socket, "AF_UNIX", None):
        _check(address)
    return _real_connect_ex(self, address)


def _guarded_create_connection(address, *args, **kwargs):
    _check(address)
    return _real_create_connection(address, *args, **kwargs)


def install() -> None:
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    socket.create_connection = _guarded_create_connection


def uninstall() -> None:
    socket.socket.connect = _real_connect
    socket.socket.connect_ex = _real_connect_ex
    socket.create_connection = _real_create_connection


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "allow_network: let this test open outside connections")
    install()


def pytest_unconfigure(config) -> None:
    uninstall()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """A blocked connect that library code swallowed still fails the test, with the reason."""
    global _blocked_in_test
    allowed = item.get_closest_marker("allow_network") is not None
    if allowed:
        uninstall()
    _blocked_in_test = []
    try:
        outcome = yield
    finally:
        blocked, _blocked_in_test = _blocked_in_test, None
        install()
    if blocked and outcome.excinfo is None and not allowed:
        pytest.fail(blocked[0], pytrace=False)
