"""InfluxDB line protocol over HTTP: v1 ``/write`` (db, retention policy) and v2 ``/api/v2/write``.

One point per account (measurement ``capwatch``, tag ``account``, a field per metric) and one
per device (measurement ``capwatch_device``, tags ``account``, ``device``, ``name``) and per
allowance of a plan (``capwatch_allowance``, tags ``account``, ``allowance``), stamped with
the summary's ``as_of`` in seconds. Bytes and counts are integer fields, the rest floats, the
status a string, so field types never change between writes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from capwatch.exporters.base import Exporter, ExportError, SecretLike, reveal, scrub
from capwatch.exporters.metrics import allowance_values, device_values, numeric_values, text_values
from capwatch.models import CycleSummary, DeviceUsage

if TYPE_CHECKING:
    import httpx

TIMEOUT_S = 15.0
_INT_UNITS = frozenset({"bytes", "count", "timestamp"})


class InfluxSettingsLike(Protocol):
    """What the InfluxDB exporter reads from ``capwatch.config.InfluxSettings``."""

    url: str
    version: int
    database: str | None
    retention_policy: str | None
    username: str | None
    password: SecretLike | None
    org: str | None
    bucket: str | None
    token: SecretLike | None
    measurement: str


def escape_measurement(text: str) -> str:
    """Escape a measurement name (commas and spaces)."""
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(" ", "\\ ")


def escape_tag(text: str) -> str:
    """Escape a tag key or value, or a field key (commas, equals signs, spaces)."""
    return escape_measurement(text).replace("=", "\\=")


def escape_string_field(text: str) -> str:
    """Quote a string field value (backslashes and double quotes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _field(value: float, integer: bool) -> str | None:
    if not math.isfinite(value):
        return None
    return f"{round(value)}i" if integer else repr(float(value))


def _line(measurement: str, tags: Mapping[str, str], fields: Mapping[str, str], ts: int) -> str:
    tag_part = "".join(
        f",{escape_tag(k)}={escape_tag(v)}" for k, v in sorted(tags.items()) if v != ""
    )
    field_part = ",".join(f"{escape_tag(k)}={v}" for k, v in fields.items())
    return f"{escape_measurement(measurement)}{tag_part} {field_part} {ts}"


def render_points(
    summaries: Sequence[CycleSummary],
    devices: Mapping[str, Sequence[DeviceUsage]],
    *,
    measurement: str = "capwatch",
) -> list[str]:
    """Render the metrics table as InfluxDB line protocol lines (precision: seconds)."""
    lines: list[str] = []
    for summary in summaries:
        ts = int(summary.as_of.timestamp())
        fields: dict[str, str] = {}
        for metric, value in numeric_values(summary):
            rendered = _field(value, metric.unit in _INT_UNITS)
            if rendered is not None:
                fields[metric.key] = rendered
        for tmetric, text in text_values(summary):
            fields[tmetric.key] = escape_string_field(text)
        lines.append(_line(measurement, {"account": summary.account}, fields, ts))
        for allowance in summary.allowances:
            afields = {
                m.key: f
                for m, v in allowance_values(allowance)
                if (f := _field(v, True)) is not None
            }
            atags = {"account": summary.account, "allowance": allowance.name}
            lines.append(_line(f"{measurement}_allowance", atags, afields, ts))
        for device in devices.get(summary.account, ()):
            dfields = {
                m.key: f for m, v in device_values(device) if (f := _field(v, True)) is not None
            }
            if dfields:
                tags = {"account": summary.account, "device": device.device_id}
                tags["name"] = device.name or ""
                lines.append(_line(f"{measurement}_device", tags, dfields, ts))
    return lines


class InfluxExporter(Exporter):
    """Writes the metrics table to InfluxDB 1.x or 2.x over HTTP."""

    name: ClassVar[str] = "influxdb"

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.settings: InfluxSettingsLike = settings
        self._client: httpx.AsyncClient | None = None

    def _secrets(self) -> list[str | None]:
        return [reveal(self.settings.password), reveal(self.settings.token)]

    def _request_parts(self) -> tuple[str, dict[str, str], dict[str, str], Any]:
        """Return (path, params, headers, auth) for the configured API version."""
        s = self.settings
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if int(s.version) == 2:
            if not s.bucket or not s.org:
                raise ExportError("influxdb: version 2 needs org and bucket in [influxdb]")
            token = reveal(s.token)
            if token:
                headers["Authorization"] = f"Token {token}"
            return (
                "/api/v2/write",
                {"org": s.org, "bucket": s.bucket, "precision": "s"},
                headers,
                None,
            )
        if not s.database:
            raise ExportError("influxdb: version 1 needs database in [influxdb]")
        params = {"db": s.database, "precision": "s"}
        if s.retention_policy:
            params["rp"] = s.retention_policy
        auth = (s.username, reveal(s.password) or "") if s.username else None
        return "/write", params, headers, auth

    async def start(self) -> None:
        """Create the HTTP client."""
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(timeout=TIMEOUT_S)

    async def publish(
        self,
        summaries: Sequence[CycleSummary],
        devices: Mapping[str, Sequence[DeviceUsage]],
    ) -> None:
        """POST every point in one request."""
        lines = render_points(summaries, devices, measurement=self.settings.measurement)
        if not lines:
            return
        await self.start()
        assert self._client is not None
        path, params, headers, auth = self._request_parts()
        url = self.settings.url.rstrip("/") + path
        await self._post(url, params, headers, auth, ("\n".join(lines) + "\n").encode())

    async def _post(
        self, url: str, params: dict[str, str], headers: dict[str, str], auth: Any, body: bytes
    ) -> None:
        import httpx

        assert self._client is not None
        path = httpx.URL(url).path
        try:
            kwargs: dict[str, Any] = {"params": params, "headers": headers, "content": body}
            if auth is not None:
                kwargs["auth"] = auth
            response = await self._client.post(url, **kwargs)
        except httpx.HTTPError as exc:
            raise ExportError(f"influxdb: cannot reach {path} ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            detail = scrub(_error_text(response), self._secrets())[:200]
            raise ExportError(f"influxdb: HTTP {response.status_code} from {path}: {detail}")

    async def stop(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _error_text(response: httpx.Response) -> str:
    """The server's own error message (v1 answers ``{"error": ..}``, v2 ``{"message": ..}``)."""
    try:
        data = response.json()
    except ValueError:
        return response.text or response.reason_phrase
    if isinstance(data, dict):
        return str(data.get("error") or data.get("message") or response.reason_phrase)
    return response.reason_phrase
