"""Graphite plaintext protocol: ``<prefix>.<account>.<key> <value> <epoch>`` lines over TCP
(``<prefix>.<account>.allowances.<name>.<key>`` for a plan's allowances).

With ``compat_names`` it also sends the names xfinity-usage sent, ``<prefix>.used_gb`` and
``<prefix>.total_gb`` (``<prefix>.<account>.used_gb`` when there are several accounts), so
dashboards built on it keep working. xfinity-usage sent Xfinity's own "GB" numbers; capwatch
reads those as decimal gigabytes (``capwatch.units.GB``), so dividing by it gives them back.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

from capwatch.exporters.base import Exporter, ExportError
from capwatch.exporters.metrics import allowance_values, device_values, numeric_values, slug
from capwatch.models import CycleSummary, DeviceUsage
from capwatch.units import GB

CONNECT_TIMEOUT_S = 10.0


class GraphiteSettingsLike(Protocol):
    """What the Graphite exporter reads from ``capwatch.config.GraphiteSettings``."""

    host: str
    port: int
    prefix: str
    compat_names: bool


def _path_part(text: str) -> str:
    """A metric path component: lower case, ``[a-z0-9_-]`` (no dots, spaces or other separators).

    ``-`` is kept: carbon stores it and graphite-web's target grammar reads it as part of a
    path, so ``pi-host`` stays the name the account has everywhere else (the MQTT topics, the
    Prometheus and InfluxDB labels) instead of becoming ``pi_host``.
    """
    return slug(text)


def _fmt(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**63 else repr(value)


def _prefix_parts(prefix: str) -> list[str]:
    return [_path_part(p) for p in prefix.split(".") if p.strip()]


def render_lines(
    summaries: Sequence[CycleSummary],
    devices: Mapping[str, Sequence[DeviceUsage]],
    *,
    prefix: str = "capwatch",
    compat_names: bool = False,
    single_account: bool | None = None,
) -> list[str]:
    """Render the metrics table as Graphite plaintext lines (without newlines).

    ``single_account`` says whether capwatch watches one account only (compat names then drop
    the account); None means "as many as ``summaries`` holds".
    """
    if single_account is None:
        single_account = len(summaries) == 1
    base = ".".join(_prefix_parts(prefix))
    lines: list[str] = []
    for summary in summaries:
        ts = int(summary.as_of.timestamp())
        acct = f"{base}.{_path_part(summary.account)}" if base else _path_part(summary.account)
        for metric, value in numeric_values(summary):
            if math.isfinite(value):
                lines.append(f"{acct}.{metric.key} {_fmt(value)} {ts}")
        for allowance in summary.allowances:
            path = f"{acct}.allowances.{_path_part(allowance.name)}"
            for ametric, avalue in allowance_values(allowance):
                lines.append(f"{path}.{ametric.key} {_fmt(avalue)} {ts}")
        for device in devices.get(summary.account, ()):
            dev = f"{acct}.devices.{_path_part(device.device_id)}"
            for dmetric, dvalue in device_values(device):
                lines.append(f"{dev}.{dmetric.key} {_fmt(dvalue)} {ts}")
        if compat_names:
            compat = base if single_account else acct
            lines.extend(_compat_lines(summary, compat, ts))
    return lines


def _compat_lines(summary: CycleSummary, path: str, ts: int) -> list[str]:
    out: list[str] = []
    if summary.used_bytes is not None:
        out.append(f"{path}.used_gb {_fmt(summary.used_bytes / GB)} {ts}")
    if summary.cap_bytes is not None:
        out.append(f"{path}.total_gb {_fmt(summary.cap_bytes / GB)} {ts}")
    return out


class GraphiteExporter(Exporter):
    """Sends the metrics table to carbon's plaintext receiver."""

    name: ClassVar[str] = "graphite"

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.settings: GraphiteSettingsLike = settings

    async def publish(
        self,
        summaries: Sequence[CycleSummary],
        devices: Mapping[str, Sequence[DeviceUsage]],
    ) -> None:
        """Open a connection, send every line, close it."""
        lines = render_lines(
            summaries,
            devices,
            prefix=self.settings.prefix,
            compat_names=self.settings.compat_names,
            single_account=self._single_account(summaries),
        )
        if lines:
            await self._send(("\n".join(lines) + "\n").encode("ascii", "replace"))

    def _single_account(self, summaries: Sequence[CycleSummary]) -> bool:
        """One account configured (the coordinator publishes one account at a time)."""
        if self.account_names:
            return len(self.account_names) == 1
        return len(summaries) == 1

    async def _send(self, data: bytes) -> None:
        where = f"graphite {self.settings.host}:{self.settings.port}"
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.settings.host, self.settings.port),
                CONNECT_TIMEOUT_S,
            )
        except (OSError, TimeoutError) as exc:
            raise ExportError(f"{where}: cannot connect ({type(exc).__name__})") from exc
        try:
            writer.write(data)
            await asyncio.wait_for(writer.drain(), CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise ExportError(f"{where}: send failed ({type(exc).__name__})") from exc
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
