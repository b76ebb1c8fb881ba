"""Find Internet Gateway Devices by SSDP M-SEARCH, to targets the caller names.

The targets are an input: the SSDP multicast group (``239.255.255.250:1900``) only when a person
runs discovery at home; tests and CI pass a unicast address (127.0.0.1 or one inside a network
namespace the test made), so nothing is ever multicast from a development machine. The search
uses async-upnp-client's :class:`~async_upnp_client.search.SsdpSearchListener`, which sends a
unicast M-SEARCH to a unicast target and keeps only the answers that come from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from capwatch.errors import ConfigError, MissingExtra

SSDP_MULTICAST = ("239.255.255.250", 1900)
"""The SSDP group: for a person's interactive discovery at home, never for tests."""
IGD_SEARCH_TARGETS = (
    "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
    "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
)


@dataclass(frozen=True)
class FoundGateway:
    """One gateway that answered: its description URL, search target, USN and server line."""

    location: str
    st: str
    usn: str
    server: str


def parse_target(text: str) -> tuple[str, int]:
    """``"host:port"`` (or ``"host"``, port 1900) as an address tuple; bad text names itself."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, "1900"
    try:
        number = int(port)
    except ValueError:
        raise ConfigError(f"upnp.ssdp_targets: {text!r} is not host:port") from None
    if not host or not 0 < number < 65536:
        raise ConfigError(f"upnp.ssdp_targets: {text!r} is not host:port")
    return host, number


def gateway_from(headers: Mapping[str, Any]) -> FoundGateway | None:
    """A found gateway from one M-SEARCH answer's headers (None when it names no location)."""
    lower = {str(k).lower(): v for k, v in headers.items()}
    location = str(lower.get("location") or "")
    if not location:
        return None
    return FoundGateway(
        location, str(lower.get("st", "")), str(lower.get("usn", "")), str(lower.get("server", ""))
    )


async def discover(
    targets: Sequence[tuple[str, int]],
    search_targets: Sequence[str] = IGD_SEARCH_TARGETS,
    *,
    timeout_s: float = 2.0,
) -> list[FoundGateway]:
    """Send M-SEARCH for each search target to each of ``targets``; the gateways that answered
    within ``timeout_s``, one per location, IGD:2 answers first."""
    if not targets:
        raise ConfigError("upnp discovery: no target to send M-SEARCH to")
    try:
        from async_upnp_client.search import SsdpSearchListener
    except ImportError as exc:  # pragma: no cover - the extra is part of the test set
        raise MissingExtra("upnp", "async-upnp-client") from exc

    answers: list[FoundGateway] = []

    async def on_answer(headers: Any) -> None:
        found = gateway_from(headers)
        if found is not None:
            answers.append(found)

    listeners = []
    mx = max(int(timeout_s), 1)
    try:
        for target in targets:
            for st in search_targets:
                listener = SsdpSearchListener(
                    async_callback=on_answer, target=target, search_target=st, timeout=mx
                )
                await listener.async_start()
                listeners.append(listener)
                listener.async_search()
        await asyncio.sleep(timeout_s)
    finally:
        for listener in listeners:
            listener.async_stop()
    order = {st: i for i, st in enumerate(search_targets)}
    answers.sort(key=lambda g: order.get(g.st, len(order)))
    seen: dict[str, FoundGateway] = {}
    for found in answers:
        seen.setdefault(found.location, found)
    return list(seen.values())


async def survey(
    targets: Sequence[tuple[str, int]], *, timeout_s: float = 2.0
) -> list[tuple[FoundGateway, str]]:
    """Discover gateways and read each once: (gateway, what it reports, in words)."""
    import httpx

    from capwatch.providers.upnp import load_device, make_requester, read_counters
    from capwatch.units import format_bytes

    out: list[tuple[FoundGateway, str]] = []
    found = await discover(targets, timeout_s=timeout_s)
    async with httpx.AsyncClient(timeout=5.0, follow_redirects=False) as client:
        for gw in found:
            try:
                device = await load_device(make_requester(client, 5.0), gw.location)
                r = await read_counters(device, f"upnp {gw.location}")
            except Exception as exc:  # a line in the report, never a crash of init
                out.append((gw, f"does not answer its counters ({type(exc).__name__})"))
                continue
            link = ""
            if r.down_bps and r.up_bps:
                link = f", link {r.down_bps / 1e6:g}/{r.up_bps / 1e6:g} Mbit/s"
            out.append(
                (
                    gw,
                    f"{r.model or gw.server}: received {format_bytes(r.received)}, sent "
                    f"{format_bytes(r.sent)} ({r.width}-bit counters{link})",
                )
            )
    return out
