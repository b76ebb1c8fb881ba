"""The test process's socket guard refuses what is not loopback (tests/fixtures/netguard.py)."""

from __future__ import annotations

import socket

import pytest

from tests.fixtures import netguard


@pytest.mark.parametrize(
    ("family", "address", "ok"),
    [
        (socket.AF_INET, ("127.0.0.1", 80), True),
        (socket.AF_INET, ("127.0.0.9", 80), True),
        (socket.AF_INET, ("0.0.0.0", 80), True),
        (socket.AF_INET6, ("::1", 80, 0, 0), True),
        (socket.AF_INET6, ("::ffff:127.0.0.1", 80, 0, 0), True),
        (socket.AF_INET, ("localhost", 80), True),
        (socket.AF_INET, ("239.255.255.250", 1900), False),
        (socket.AF_INET, ("255.255.255.255", 67), False),
        (socket.AF_INET, ("192.168.178.1", 49000), False),
        (socket.AF_INET6, ("ff02::c", 1900, 0, 0), False),
        (socket.AF_INET, ("fritz.box", 49000), False),
        (socket.AF_UNIX, "/run/x.sock", True),
    ],
)
def test_only_loopback_is_allowed(family: int, address: object, ok: bool) -> None:
    assert netguard.allowed(family, address) is ok


def test_an_ssdp_search_is_refused_before_it_is_sent() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with pytest.raises(OSError, match="not loopback"):
            sock.sendto(b"M-SEARCH * HTTP/1.1\r\n\r\n", ("239.255.255.250", 1900))
    finally:
        sock.close()
        netguard.ATTEMPTS.clear()  # this test meant it


def test_a_name_that_needs_dns_is_refused_before_the_query() -> None:
    try:
        with pytest.raises(socket.gaierror, match="no DNS"):
            socket.getaddrinfo("fritz.box", 49000)
        assert socket.getaddrinfo("localhost", 80)  # /etc/hosts
        assert socket.getaddrinfo("127.0.0.1", 80)
    finally:
        assert netguard.ATTEMPTS == ["DNS 'fritz.box'"]
        netguard.ATTEMPTS.clear()  # this test meant it
