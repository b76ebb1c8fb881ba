"""Start.ca: usage in bytes from the usage API (``GET /support/usage/api?key=...``, XML).

The answer looks like::

    <usage><version>1.1</version>
      <total><download>..</download><upload>..</upload></total>   all traffic
      <used><download>..</download><upload>..</upload></used>     counts against the cap
      <grace><download>..</download><upload>..</upload></grace>   free (grace hours)
    </usage>

The cap is not in the answer: it is an option (``cap_gb``; ``unlimited = true`` for unlimited
plans, whose replies put all traffic under ``<grace>`` and 0 under ``<used>``: capwatch then
counts ``<total>``). A wrong key is answered with the plain text ``ERROR``. Start.ca meters
the calendar month in America/Toronto and counts downloads only on most
plans (``count_upload = true`` adds uploads). The API caches usage for an hour. The key travels
in the query string, so it is registered for redaction and never put in errors or ``raw``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, model_validator

from capwatch.analysis.cycles import CycleRule
from capwatch.errors import AuthRequired, BadResponse
from capwatch.models import Snapshot, utcnow
from capwatch.providers._http import send
from capwatch.providers._isputil import parse_xml, redact_text, to_int, zone
from capwatch.providers.base import Provider, ProviderOptions
from capwatch.secrets import Secret, redact

SOURCE = "startca"
TORONTO = "America/Toronto"
_KEY_WORDS = ("key", "auth", "denied", "invalid")


class StartcaOptions(ProviderOptions):
    """Options of the Start.ca provider."""

    api_key: Secret
    cap_gb: float | None = Field(default=None, gt=0)
    unlimited: bool = False
    count_upload: bool = False
    base_url: str = "https://www.start.ca"
    timezone: str = TORONTO

    @model_validator(mode="after")
    def _check(self) -> StartcaOptions:
        if self.unlimited and self.cap_gb is not None:
            raise ValueError("set either cap_gb or unlimited, not both")
        zone(self.timezone, "startca.timezone")
        return self


def parse_usage(
    text: str,
    *,
    cap_bytes: int | None = None,
    unlimited: bool = False,
    count_upload: bool = False,
    tz: ZoneInfo | None = None,
    now: datetime | None = None,
    secrets: tuple[str, ...] = (),
) -> Snapshot:
    """Turn the usage API's XML into a Snapshot (pure)."""
    tz = tz or ZoneInfo(TORONTO)
    where = "Start.ca usage"
    if text.strip() == "ERROR":  # the plain-text failure answer real clients test for
        raise AuthRequired(f"{where}: the API answered ERROR (a wrong or disabled API key)")
    root = parse_xml(text, where, secrets=secrets)
    kept = redact_text(redact(text[:20000]), secrets)  # the reply as received, for diagnosis
    _raise_error(root, where, secrets, kept)
    if root.tag != "usage":
        raise BadResponse(f"{where}: expected <usage>, got <{root.tag}>", payload=kept)
    counts = {
        f"{group}_{way}": _count(root, group, way)
        for group in ("total", "used", "grace")
        for way in ("download", "upload")
    }
    if counts["used_download"] is None:
        raise BadResponse(f"{where}: <used><download> missing", payload=kept)
    used = counts["used_download"] + ((counts["used_upload"] or 0) if count_upload else 0)
    if unlimited and counts["total_download"] is not None:
        # Unlimited plans count everything as grace and report <used> as 0 (real replies in
        # tests/data/real/startca): what the line used is the total.
        used = counts["total_download"] + ((counts["total_upload"] or 0) if count_upload else 0)
    observed = now or utcnow()
    cycle = CycleRule(None, tz).cycle_at(observed)
    raw: dict[str, Any] = {"version": (root.findtext("version") or "").strip() or None, **counts}
    return Snapshot(
        observed_at=observed,
        source=SOURCE,
        used_bytes=used,
        cap_bytes=None if unlimited else cap_bytes,
        unlimited=unlimited,
        cycle_start=cycle.start,
        cycle_end=cycle.end,
        units="bytes",
        raw=raw,
    )


def _raise_error(root: ET.Element, where: str, secrets: tuple[str, ...], kept: str) -> None:
    node = root if root.tag == "error" else root.find("error")
    if node is None:
        return
    message = redact_text(redact("".join(node.itertext()).strip()[:200]), secrets)
    if any(word in message.lower() for word in _KEY_WORDS):
        raise AuthRequired(f"{where}: the API refused the key ({message})")
    raise BadResponse(f"{where}: error {message!r}", payload=kept)


def _count(root: Any, group: str, way: str) -> int | None:
    node = root.find(f"{group}/{way}")
    if node is None:
        return None
    text = (node.text or "").strip()
    if not text:
        raise BadResponse(f"Start.ca usage: <{group}><{way}> is empty")
    return to_int(text, f"Start.ca usage <{group}><{way}>")


class StartcaProvider(Provider[StartcaOptions]):
    """Start.ca usage API (key in the query string; cap from the config)."""

    name: ClassVar[str] = "startca"
    Options: ClassVar[type[ProviderOptions]] = StartcaOptions
    min_interval_s: ClassVar[float] = 1800.0
    default_interval_s: ClassVar[float] = 3600.0

    def _cap_bytes(self) -> int | None:
        cap = self.options.cap_gb
        return None if cap is None else round(cap * 10**9)

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Fetch this month's usage."""
        key = self.options.api_key.reveal()  # reveal() registers the key for redaction
        url = f"{self.options.base_url.rstrip('/')}/support/usage/api"
        response = await send(
            client,
            "GET",
            url,
            params={"key": key},
            headers={"User-Agent": self.context.user_agent, "Accept": "application/xml"},
        )
        if response.status_code >= 300:
            raise BadResponse(
                f"GET /support/usage/api: HTTP {response.status_code}",
                payload=redact_text(redact(response.text[:2000]), (key,)),
            )
        return self._parse(response.text, (key,))

    reply_kind: ClassVar[str] = "the usage API's XML (GET /support/usage/api?key=...)"

    def parse_reply(self, text: str) -> Snapshot:
        """Read a saved usage API answer (the cap comes from the options, as when polling)."""
        return self._parse(text, ())

    def _parse(self, text: str, secrets: tuple[str, ...]) -> Snapshot:
        return parse_usage(
            text,
            cap_bytes=self._cap_bytes(),
            unlimited=self.options.unlimited,
            count_upload=self.options.count_upload,
            tz=zone(self.options.timezone, "startca.timezone"),
            secrets=secrets,
            now=self.context.clock(),
        )
