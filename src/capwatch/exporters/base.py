"""The exporter contract and the one discovery mechanism (entry points).

An exporter is built from its settings section and renders the metrics table
(:mod:`capwatch.exporters.metrics`) for one destination. The coordinator calls
:meth:`Exporter.publish` after each poll, in the background with a timeout; an exporter only
raises :class:`ExportError` (one line, no secrets) and the coordinator logs it and retries on the
next cycle, so an exporter failure never blocks polling or loses a reading.
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol

from capwatch.errors import CapwatchError, ConfigError
from capwatch.models import CycleSummary, DeviceUsage

ENTRY_POINT_GROUP = "capwatch.exporters"

# Built-in exporters, also registered under ENTRY_POINT_GROUP in pyproject; listed here too so a
# stale install (metadata older than the source tree) still finds them. Entry points win.
BUILTIN_EXPORTERS: dict[str, str] = {
    "mqtt": "capwatch.exporters.mqtt:MqttExporter",
    "graphite": "capwatch.exporters.graphite:GraphiteExporter",
    "influxdb": "capwatch.exporters.influxdb:InfluxExporter",
}


class ExportError(CapwatchError):
    """An exporter could not deliver; the message is one line and carries no secret."""


class SecretLike(Protocol):
    """A secret held by reference (``capwatch.config.Secret``)."""

    def reveal(self) -> str:
        """Return the secret's value; never log it."""
        ...


@dataclass(frozen=True, slots=True)
class ExportContext:
    """What an exporter may know of the whole configuration beyond its own section.

    ``load_exporters`` fills it from the settings; an exporter built alone (tests, plugins) gets
    the empty default, where ``enabled_accounts`` is None: "not known", so nothing is retired.
    """

    enabled_accounts: tuple[str, ...] | None = None
    """The accounts this configuration polls (disabled ones left out)."""
    currencies: Mapping[str, str] = field(default_factory=dict)
    """Each account's currency (``[accounts.overage] currency``)."""
    base_url: str | None = None
    """The dashboard's public URL (``web.base_url``), for links back to capwatch."""
    instance: str = ""
    """This process's name among the instances serving the same accounts ("" when unknown)."""


def default_instance(settings: Any) -> str:
    """Return ``<hostname>-<web port>``: stable across restarts, unique among running instances."""
    web = getattr(settings, "web", None)
    port = getattr(web, "port", None)
    host = socket.gethostname() or "capwatch"
    return f"{host}-{port}" if port else host


class Exporter(ABC):
    """Base class of every exporter."""

    name: ClassVar[str]

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        # Every configured account, set by load_exporters; publish() may get fewer at a time.
        self.account_names: tuple[str, ...] = ()
        self.context = ExportContext()

    async def start(self) -> None:
        """Open connections; must not block for long nor fail when the destination is down."""
        return None

    @abstractmethod
    async def publish(
        self,
        summaries: Sequence[CycleSummary],
        devices: Mapping[str, Sequence[DeviceUsage]],
    ) -> None:
        """Deliver the current numbers of every account; raise :class:`ExportError` on failure."""

    async def stop(self) -> None:
        """Close connections; never raises."""
        return None


def scrub(text: str, secrets: Sequence[str | None]) -> str:
    """Return ``text`` on one line with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return " ".join(text.split())


def reveal(secret: SecretLike | str | None) -> str | None:
    """Return the value of a secret setting (plain strings are allowed in tests)."""
    if secret is None or isinstance(secret, str):
        return secret
    return secret.reveal()


def _registry() -> dict[str, str]:
    names = dict(BUILTIN_EXPORTERS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        names[ep.name] = ep.value
    return names


def load_exporter_class(name: str) -> type[Exporter]:
    """Return the exporter class registered under ``name``."""
    target = _registry().get(name)
    if target is None:
        raise ConfigError(
            f"unknown exporter {name!r} (installed: {', '.join(sorted(_registry()))})"
        )
    module_name, _, attr = target.partition(":")
    cls = getattr(import_module(module_name), attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Exporter)):
        raise ConfigError(f"exporter entry point {name!r} ({target}) is not a capwatch Exporter")
    return cls


def load_exporters(settings: Any) -> list[Exporter]:
    """Build the exporters whose settings section (``settings.<name>``) is configured."""
    built: list[Exporter] = []
    for name in sorted(_registry()):
        section = getattr(settings, name, None)
        if section is None:
            continue
        exporter = load_exporter_class(name)(section)
        accounts = tuple(getattr(settings, "accounts", None) or ())
        exporter.account_names = tuple(str(a.name) for a in accounts)
        exporter.context = export_context(settings)
        built.append(exporter)
    return built


def export_context(settings: Any) -> ExportContext:
    """Return the :class:`ExportContext` of a whole configuration."""
    accounts = tuple(getattr(settings, "accounts", None) or ())
    currencies: dict[str, str] = {}
    for account in accounts:
        overage = getattr(account, "overage", None)
        currencies[str(account.name)] = str(getattr(overage, "currency", None) or "$")
    web = getattr(settings, "web", None)
    return ExportContext(
        enabled_accounts=tuple(str(a.name) for a in accounts if getattr(a, "enabled", True)),
        currencies=currencies,
        base_url=getattr(web, "base_url", None),
        instance=default_instance(settings),
    )
