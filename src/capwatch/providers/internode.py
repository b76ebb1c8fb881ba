"""Internode: the Customer Tools API v1.5 (HTTP Basic auth, XML).

* ``GET /api/v1.5/`` lists services:
  ``<internode><api><services count="1"><service type="Personal_ADSL" href="/api/v1.5/ID">ID
  </service></services></api></internode>``
* ``GET /api/v1.5/{id}/usage``:
  ``<traffic name="total" rollover="YYYY-MM-DD" plan-interval="Monthly" quota="bytes"
  unit="bytes">used</traffic>``; ``rollover`` is the day the quota next resets (local midnight,
  Australia/Adelaide) and a quota of 0 (or none) means unlimited.
* ``GET /api/v1.5/{id}/history``: ``<usagelist><usage day="YYYY-MM-DD"><traffic name="total"
  unit="bytes">N</traffic></usage>...`` daily totals, summed here into earlier whole cycles.

Errors come as ``<error><msg>..</msg></error>``. Internode asks clients to identify themselves
(User-Agent) and to poll at most hourly.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

import httpx

from capwatch.analysis.cycles import CycleRule, local_midnight
from capwatch.errors import AuthRequired, BadResponse, ConfigError
from capwatch.models import Cycle, CycleTotal, Snapshot, utcnow
from capwatch.providers._http import send
from capwatch.providers._isputil import element_to_dict, parse_xml, redact_text, to_int, zone
from capwatch.providers.base import Provider, ProviderOptions
from capwatch.secrets import Secret, redact

SOURCE = "internode"
ADELAIDE = "Australia/Adelaide"
_AUTH_WORDS = ("auth", "password", "login", "credential")


class InternodeOptions(ProviderOptions):
    """Options of the Internode provider."""

    username: str
    password: Secret
    service_id: str | None = None
    fetch_history: bool = True
    base_url: str = "https://customer-webtools-api.internode.on.net"
    timezone: str = ADELAIDE


def _kept(text: str, secrets: Iterable[str]) -> str:
    """The reply as received, secrets out, for the diagnosis archive."""
    return redact_text(redact(text[:20000]), secrets)


def _root(text: str, where: str, secrets: Iterable[str]) -> ET.Element:
    root = parse_xml(text, where, secrets=secrets)
    error = root if root.tag == "error" else root.find(".//error")
    if error is not None:
        message = (error.findtext("msg") or "".join(error.itertext())).strip()[:200]
        for secret in secrets:
            if secret and len(secret) >= 3:
                message = message.replace(secret, "***")
        if any(word in message.lower() for word in _AUTH_WORDS):
            raise AuthRequired(f"{where}: {message}")
        raise BadResponse(f"{where}: error {message!r}", payload=_kept(text, secrets))
    return root


def parse_services(text: str, *, secrets: Iterable[str] = ()) -> list[tuple[str, str]]:
    """Return ``(service_id, type)`` for each service in the service list (pure)."""
    root = _root(text, "Internode services", secrets)
    found = [
        ((node.text or "").strip(), node.get("type", ""))
        for node in root.findall("api/services/service")
        if (node.text or "").strip()
    ]
    return found


def choose_service(services: list[tuple[str, str]], wanted: str | None) -> str:
    """Pick the service to read: the configured one, or the only one."""
    ids = [sid for sid, _ in services]
    if wanted is not None:
        if wanted not in ids:
            raise ConfigError(
                f"internode.service_id: no service {wanted!r} "
                f"(services: {', '.join(ids) or 'none'})"
            )
        return wanted
    if not ids:
        raise BadResponse("Internode services: the account lists no service")
    if len(ids) > 1:
        raise ConfigError(f"internode: {len(ids)} services ({', '.join(ids)}): set service_id")
    return ids[0]


def parse_usage(
    text: str,
    *,
    tz: ZoneInfo | None = None,
    now: datetime | None = None,
    secrets: Iterable[str] = (),
) -> Snapshot:
    """Turn a ``/usage`` answer into a Snapshot (pure)."""
    tz = tz or ZoneInfo(ADELAIDE)
    where = "Internode usage"
    root = _root(text, where, secrets)
    traffic = _usage_traffic(root)
    if traffic is None:
        raise BadResponse(f'{where}: no <traffic name="total">', payload=_kept(text, secrets))
    unit = traffic.get("unit", "bytes")
    if unit != "bytes":
        raise BadResponse(f"{where}: unit {unit!r}, expected 'bytes'")
    used = to_int((traffic.text or "").strip() or None, f"{where} <traffic>")
    quota = traffic.get("quota")
    cap = to_int(quota, f"{where} quota") if quota not in (None, "") else 0
    cycle = _cycle(traffic, tz, where)
    return Snapshot(
        observed_at=now or utcnow(),
        source=SOURCE,
        used_bytes=used,
        cap_bytes=cap or None,
        unlimited=not cap,
        cycle_start=cycle.start if cycle else None,
        cycle_end=cycle.end if cycle else None,
        units="bytes",
        raw=element_to_dict(root),
    )


def _usage_traffic(root: ET.Element) -> ET.Element | None:
    """The ``<traffic name="total">`` of a ``/usage`` answer (``internode/api/traffic``), or
    the root itself when the answer is that element alone; never one nested deeper (a
    ``/history`` answer's per-day traffic is not this cycle's usage)."""
    if root.tag == "traffic":
        return root if root.get("name", "total") == "total" else None
    return _total_traffic(root.findall("api/traffic"))


def _total_traffic(nodes: Iterable[ET.Element]) -> ET.Element | None:
    for node in nodes:
        if node.get("name", "total") == "total":
            return node
    return None


def _cycle(traffic: ET.Element, tz: ZoneInfo, where: str) -> Cycle | None:
    rollover = traffic.get("rollover")
    interval = (traffic.get("plan-interval") or "Monthly").lower()
    if not rollover or interval != "monthly":
        return None
    try:
        day = date.fromisoformat(rollover.strip())
    except ValueError:
        raise BadResponse(f"{where}: bad rollover date {rollover[:20]!r}") from None
    rule = CycleRule(day.day, tz)
    end = local_midnight(day, tz)
    return rule.preceding(rule.cycle_at(end))


def parse_history(text: str, *, secrets: Iterable[str] = ()) -> list[tuple[date, int]]:
    """Return ``(day, bytes)`` from a ``/history`` answer, oldest first (pure)."""
    where = "Internode history"
    root = _root(text, where, secrets)
    days: dict[date, int] = {}
    for usage in root.iter("usage"):
        stamp = usage.get("day")
        traffic = _total_traffic(usage.iter("traffic"))
        if not stamp or traffic is None:
            continue
        try:
            day = date.fromisoformat(stamp.strip())
        except ValueError:
            raise BadResponse(f"{where}: bad day {stamp[:20]!r}") from None
        days[day] = to_int((traffic.text or "").strip() or None, f"{where} {day}")
    return sorted(days.items())


def history_cycles(
    days: list[tuple[date, int]], current: Cycle, tz: ZoneInfo, *, limit: int = 12
) -> tuple[CycleTotal, ...]:
    """Sum daily totals into the whole cycles before ``current`` (pure)."""
    if not days:
        return ()
    start_day = current.start.astimezone(tz).date()
    rule = CycleRule(start_day.day, tz)
    first = local_midnight(days[0][0], tz)
    totals: dict[Cycle, int] = {}
    for day, count in days:
        instant = local_midnight(day, tz)
        cycle = rule.cycle_at(instant)
        if cycle.end <= current.start and cycle.start >= first:
            totals[cycle] = totals.get(cycle, 0) + count
    ordered = sorted(totals.items(), key=lambda item: item[0].start)[-limit:]
    return tuple(CycleTotal(c.start, c.end, used, None) for c, used in ordered)


class InternodeProvider(Provider[InternodeOptions]):
    """Internode Customer Tools API (Basic auth, XML)."""

    name: ClassVar[str] = "internode"
    Options: ClassVar[type[ProviderOptions]] = InternodeOptions
    min_interval_s: ClassVar[float] = 3600.0
    default_interval_s: ClassVar[float] = 3600.0

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Fetch usage (and, when enabled, daily history summed into earlier cycles)."""
        password = self.options.password.reveal()
        secrets = (password,)
        tz = zone(self.options.timezone, "internode.timezone")
        base = f"{self.options.base_url.rstrip('/')}/api/v1.5"
        service_id = self.options.service_id
        if service_id is None:
            text = await self._get(client, f"{base}/", password)
            service_id = choose_service(parse_services(text, secrets=secrets), None)
        snap = parse_usage(
            await self._get(client, f"{base}/{service_id}/usage", password),
            tz=tz,
            secrets=secrets,
            now=self.context.clock(),
        )
        if not self.options.fetch_history or snap.cycle_start is None or snap.cycle_end is None:
            return snap
        days = parse_history(
            await self._get(client, f"{base}/{service_id}/history", password), secrets=secrets
        )
        current = Cycle(snap.cycle_start, snap.cycle_end)
        return replace(snap, history=history_cycles(days, current, tz))

    reply_kind: ClassVar[str] = "the Customer Tools API's /usage XML"

    def parse_reply(self, text: str) -> Snapshot:
        """Read a saved ``/usage`` answer."""
        tz = zone(self.options.timezone, "internode.timezone")
        return parse_usage(text, tz=tz, now=self.context.clock())

    async def _get(self, client: httpx.AsyncClient, url: str, password: str) -> str:
        response = await send(
            client,
            "GET",
            url,
            auth=(self.options.username, password),
            headers={"User-Agent": self.context.user_agent, "Accept": "application/xml"},
        )
        if response.status_code >= 300:
            where = f"GET {response.request.url.path}"
            html = (
                response.text.lstrip()[:1].startswith("<")
                and "<html" in response.text[:500].lower()
            )
            if (
                response.status_code == 404
                and html
                and response.request.url.path.endswith("/v1.5/")
            ):
                # A recorded real exchange: bad credentials on the service list come back as
                # Apache's 404 page (tests/data/real/internode/error_404_bad_credentials.html).
                raise AuthRequired(
                    f"{where}: Internode answered 404 to the service list, which is how it "
                    "refuses a wrong username or password: check them"
                )
            raise BadResponse(f"{where}: HTTP {response.status_code}")
        return response.text
