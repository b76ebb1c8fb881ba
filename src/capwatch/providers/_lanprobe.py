"""What ``capwatch init`` asks the LAN when it looks for a router it can read.

Only the interactive ``init`` that a person runs at home calls this (tests pass their own
loopback targets): each candidate, the addresses given with ``--find-at`` or else the router's
usual names and this machine's default gateway (:mod:`capwatch.lan`), gets one unauthenticated
HTTP request with a short timeout, the one its web interface answers without a password, and
the reply says what the device is. Credentials are asked afterwards, as for any provider.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import httpx

PROBE_TIMEOUT_S = 3.0


def candidates(targets: Sequence[str] | None, usual: Sequence[str]) -> list[str]:
    """``targets`` when given, else the ``usual`` names and this machine's IPv4 gateways."""
    if targets:
        return list(dict.fromkeys(targets))
    from capwatch.lan import default_gateways

    gateways = [g.split(" (")[0] for g in default_gateways() if ":" not in g.split(" (")[0]]
    return list(dict.fromkeys([*usual, *gateways]))


def xml_field(text: str, name: str) -> str | None:
    """The text of the first ``<name>`` element (a tag match, so no entity is ever expanded)."""
    match = re.search(rf"<{name}>\s*([^<]*?)\s*</{name}>", text)
    return match.group(1) if match else None


def probe_each(
    hosts: Sequence[str],
    ask: Callable[[httpx.Client, str], tuple[dict[str, Any], str] | None],
) -> list[tuple[dict[str, Any], str]]:
    """Run ``ask`` on each host with one short-timeout client; keep the answers that say what
    the device is (a host that does not answer, or answers something else, is left out)."""
    found: list[tuple[dict[str, Any], str]] = []
    with httpx.Client(timeout=PROBE_TIMEOUT_S, follow_redirects=False) as client:
        for host in hosts:
            try:
                answer = ask(client, host)
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                continue
            if answer is not None:
                found.append(answer)
    return found


def split_host(target: str, default_port: int | None = None) -> tuple[str, int | None]:
    """``host[:port]`` (an IPv6 address in brackets) as (host, port)."""
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if target.count(":") == 1:
        host, port = target.split(":")
        return host, int(port)
    return target, default_port


def url_host(host: str) -> str:
    """A host as it goes in a URL (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host else host
