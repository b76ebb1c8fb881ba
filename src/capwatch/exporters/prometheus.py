"""Prometheus exposition of the metrics table, read at scrape time.

``build_registry(source)`` returns a registry whose collector calls ``source()`` on every
scrape, so ``/metrics`` always shows the latest summaries without any push; the web app
(:mod:`capwatch.web.app`) serves :func:`metrics_response` of it at ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from capwatch.exporters.metrics import DEVICE_METRICS, METRICS, MetricDescription
from capwatch.models import CycleSummary, DeviceUsage

Source = Callable[[], tuple[Sequence[CycleSummary], Mapping[str, Sequence[DeviceUsage]]]]

_DEVICE_LABELS = ("account", "device", "name")


def _scaled(metric: MetricDescription, value: float) -> float:
    """Prometheus wants ratios, not percentages."""
    return value / 100.0 if metric.unit == "percent" else value


def _account_families(summaries: Sequence[CycleSummary]) -> Iterator[Metric]:
    families: dict[str, GaugeMetricFamily] = {}
    for metric in METRICS:
        label_names = ["account", *(k for k, _ in metric.prom_labels)]
        family = families.get(metric.prom_name)
        if family is None:
            family = GaugeMetricFamily(metric.prom_name, metric.description, labels=label_names)
            families[metric.prom_name] = family
        for summary in summaries:
            value = metric.value_fn(summary)
            if value is None:
                continue
            labels = [summary.account, *(v for _, v in metric.prom_labels)]
            family.add_metric(labels, _scaled(metric, value))
    yield from families.values()


def _info_family(summaries: Sequence[CycleSummary]) -> Metric:
    info = InfoMetricFamily(
        "capwatch_account", "Account, its provider and polling status.", labels=["account"]
    )
    for summary in summaries:
        info.add_metric(
            [summary.account], {"provider": summary.provider or "", "status": str(summary.status)}
        )
    return info


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

    def __init__(self, source: Source, store_failures: Callable[[], int] | None = None) -> None:
        self._source = source
        self._store_failures = store_failures

    def collect(self) -> Iterable[Metric]:
        """Yield one family per Prometheus name."""
        summaries, devices = self._source()
        yield from _account_families(summaries)
        yield _info_family(summaries)
        yield from _device_families(devices)
        if self._store_failures is not None:
            family = GaugeMetricFamily(
                "capwatch_store_write_failures",
                "Writes to the store that failed since the last one that worked (a full disk).",
            )
            family.add_metric([], float(self._store_failures()))
            yield family

    def describe(self) -> Iterable[Metric]:
        """Describe nothing, so registering never calls ``source()``."""
        return []


def build_registry(
    source: Source,
    *,
    process_metrics: bool = True,
    store_failures: Callable[[], int] | None = None,
) -> CollectorRegistry:
    """Return a registry with capwatch's collector (and the process collectors if asked)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CapwatchCollector(source, store_failures))
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
