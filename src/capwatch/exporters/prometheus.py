"""Prometheus exposition of the metrics table, read at scrape time.

``build_registry(source)`` returns a registry whose collector calls ``source()`` on every
scrape, so ``/metrics`` always shows the latest summaries without any push; the web app
(:mod:`capwatch.web.app`) serves :func:`metrics_response` of it at ``/metrics``.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    InfoMetricFamily,
    Metric,
    StateSetMetricFamily,
)
from prometheus_client.registry import Collector

from capwatch import __version__
from capwatch.exporters.metrics import (
    ALLOWANCE_METRICS,
    DEVICE_METRICS,
    METRICS,
    MetricDescription,
)
from capwatch.models import AccountStatus, CycleSummary, DeviceUsage

Source = Callable[[], tuple[Sequence[CycleSummary], Mapping[str, Sequence[DeviceUsage]]]]


@dataclass(frozen=True)
class ProcessFacts:
    """What only the serving process knows, each read at scrape time (None: not exported)."""

    store_failures: Callable[[], int] | None = None
    polls: Callable[[], Mapping[tuple[str, str], int]] | None = None
    exports: Callable[[], Mapping[tuple[str, str], int]] | None = None
    last_polls: Callable[[], Mapping[str, datetime]] | None = None
    currency: Callable[[str], str] | None = None
    """The account's currency (its ``[accounts.overage] currency``), a label of overage cost."""


_DEVICE_LABELS = ("account", "device", "name")


def _scaled(metric: MetricDescription, value: float) -> float:
    """Prometheus wants ratios, not percentages."""
    return value / 100.0 if metric.unit == "percent" else value


OVERAGE = "capwatch_overage_cost"


def _account_families(
    summaries: Sequence[CycleSummary], currency: Callable[[str], str] | None
) -> Iterator[Metric]:
    families: dict[str, GaugeMetricFamily] = {}
    for metric in METRICS:
        if not metric.prom_name:
            continue
        money = metric.prom_name == OVERAGE and currency is not None
        label_names = ["account", *(k for k, _ in metric.prom_labels)]
        if money:
            label_names.append("currency")
        family = families.get(metric.prom_name)
        if family is None:
            help_text = metric.prom_help or metric.description
            family = GaugeMetricFamily(metric.prom_name, help_text, labels=label_names)
            families[metric.prom_name] = family
        for summary in summaries:
            value = metric.value_fn(summary)
            if value is None:
                continue
            labels = [summary.account, *(v for _, v in metric.prom_labels)]
            if money and currency is not None:
                labels.append(currency(summary.account))
            family.add_metric(labels, _scaled(metric, value))
    yield from families.values()


def _cycle_families(summaries: Sequence[CycleSummary]) -> Iterator[Metric]:
    start = GaugeMetricFamily(
        "capwatch_cycle_start_timestamp_seconds",
        "When the account's billing cycle began (Unix time).",
        labels=["account"],
    )
    end = GaugeMetricFamily(
        "capwatch_cycle_end_timestamp_seconds",
        "When the account's billing cycle ends (Unix time); time left is this minus time().",
        labels=["account"],
    )
    for summary in summaries:
        start.add_metric([summary.account], summary.cycle.start.timestamp())
        end.add_metric([summary.account], summary.cycle.end.timestamp())
    yield start
    yield end


def _info_families(summaries: Sequence[CycleSummary]) -> Iterator[Metric]:
    info = InfoMetricFamily("capwatch_account", "Account and its provider.", labels=["account"])
    status = StateSetMetricFamily(
        "capwatch_account_status",
        "The account's state: ok, stale, auth-required, failing or new (1 is the current one).",
        labels=["account"],
    )
    for summary in summaries:
        info.add_metric([summary.account], {"provider": summary.provider or ""})
        status.add_metric([summary.account], {s.value: s is summary.status for s in AccountStatus})
    yield info
    yield status
    yield InfoMetricFamily(
        "capwatch_build",
        "capwatch's version and the Python it runs on.",
        value={"version": __version__, "python": platform.python_version()},
    )


def _process_families(facts: ProcessFacts) -> Iterator[Metric]:
    if facts.store_failures is not None:
        family = GaugeMetricFamily(
            "capwatch_store_write_failures",
            "Writes to the store that failed since the last one that worked (a full disk).",
        )
        family.add_metric([], float(facts.store_failures()))
        yield family
    if facts.polls is not None:
        polls = CounterMetricFamily(
            "capwatch_polls",
            "Polls this process made, by account and how they ended.",
            labels=["account", "outcome"],
        )
        for (account, outcome), n in sorted(facts.polls().items()):
            polls.add_metric([account, outcome], float(n))
        yield polls
    if facts.exports is not None:
        exports = CounterMetricFamily(
            "capwatch_exports",
            "Exports this process made (MQTT, Graphite, InfluxDB), by exporter and outcome.",
            labels=["exporter", "outcome"],
        )
        for (exporter, outcome), n in sorted(facts.exports().items()):
            exports.add_metric([exporter, outcome], float(n))
        yield exports
    if facts.last_polls is not None:
        last = GaugeMetricFamily(
            "capwatch_last_poll_timestamp_seconds",
            "When this process last polled the account, whatever the outcome (Unix time).",
            labels=["account"],
        )
        for account, at in sorted(facts.last_polls().items()):
            last.add_metric([account], at.timestamp())
        yield last


def _allowance_families(summaries: Sequence[CycleSummary]) -> Iterator[Metric]:
    for metric in ALLOWANCE_METRICS:
        family = GaugeMetricFamily(
            metric.prom_name, metric.description, labels=["account", "allowance"]
        )
        for summary in summaries:
            for allowance in summary.allowances:
                value = metric.value_fn(allowance)
                if value is not None:
                    family.add_metric([summary.account, allowance.name], value)
        yield family


def _device_families(devices: Mapping[str, Sequence[DeviceUsage]]) -> Iterator[Metric]:
    for metric in DEVICE_METRICS:
        family = GaugeMetricFamily(metric.prom_name, metric.description, labels=_DEVICE_LABELS)
        for account in sorted(devices):
            for device in devices[account]:
                value = metric.value_fn(device)
                if value is not None:
                    family.add_metric([account, device.device_id, device.name or ""], value)
        yield family


class CapwatchCollector(Collector):
    """Collects the metrics table from ``source()`` at scrape time."""

    def __init__(self, source: Source, facts: ProcessFacts | None = None) -> None:
        self._source = source
        self._facts = facts or ProcessFacts()

    def collect(self) -> Iterable[Metric]:
        """Yield one family per Prometheus name."""
        summaries, devices = self._source()
        yield from _account_families(summaries, self._facts.currency)
        yield from _cycle_families(summaries)
        yield from _allowance_families(summaries)
        yield from _info_families(summaries)
        yield from _device_families(devices)
        yield from _process_families(self._facts)

    def describe(self) -> Iterable[Metric]:
        """Describe nothing, so registering never calls ``source()``."""
        return []


def build_registry(
    source: Source,
    *,
    process_metrics: bool = True,
    store_failures: Callable[[], int] | None = None,
    facts: ProcessFacts | None = None,
) -> CollectorRegistry:
    """Return a registry with capwatch's collector (and the process collectors if asked)."""
    registry = CollectorRegistry(auto_describe=False)
    if facts is None:
        facts = ProcessFacts(store_failures=store_failures)
    registry.register(CapwatchCollector(source, facts))
    if process_metrics:
        from prometheus_client import GCCollector, PlatformCollector, ProcessCollector

        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    return registry


def metrics_response(registry: CollectorRegistry, accept: str | None = None) -> tuple[bytes, str]:
    """Render ``registry`` for a scrape: (body, content type), honouring ``accept``."""
    from prometheus_client.exposition import choose_encoder

    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type
