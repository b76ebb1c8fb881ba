"""Prometheus exposition: names and labels, read at scrape time, scraped by a real Prometheus."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from capwatch.exporters.prometheus import build_registry, metrics_response
from tests.fixtures._servers import AsgiThread, wait_until
from tests.fixtures.common import free_port
from tests.fixtures.exporters import DEVICES, make_summary, make_unknown_summary


def samples(registry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, content_type = metrics_response(registry)
    assert content_type.startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_names_labels_and_values():
    summary = make_summary()
    reg = build_registry(lambda: ([summary], {"home": DEVICES}), process_metrics=False)
    got = samples(reg)
    home = (("account", "home"),)
    assert got[("capwatch_usage_bytes", home)] == 412_500_000_000
    assert got[("capwatch_cap_bytes", home)] == 1_200_000_000_000
    assert got[("capwatch_remaining_bytes", home)] == 787_500_000_000
    assert got[("capwatch_usage_ratio", home)] == 0.34375
    assert got[("capwatch_projected_bytes", (("account", "home"), ("bound", "low")))] == 8e11
    assert got[("capwatch_projected_bytes", (("account", "home"), ("bound", "high")))] == 1.05e12
    assert got[("capwatch_cycle_end_timestamp_seconds", home)] == summary.cycle.end.timestamp()
    assert ("capwatch_days_left", home) not in got  # promtool: days are not a base unit
    assert got[("capwatch_pace_ratio", home)] == 0.92
    assert got[("capwatch_consecutive_failures", home)] == 0
    assert (
        got[("capwatch_last_success_timestamp_seconds", home)]
        == summary.last_success_at.timestamp()
    )
    info = (("account", "home"), ("provider", "xfinity"))
    assert got[("capwatch_account_info", info)] == 1
    state = (("account", "home"), ("capwatch_account_status", "ok"))
    assert got[("capwatch_account_status", state)] == 1  # a state set: one series per state
    stale = (("account", "home"), ("capwatch_account_status", "stale"))
    assert got[("capwatch_account_status", stale)] == 0
    tv = (("account", "home"), ("device", "AB:CD:EF:01:23:45"), ("name", "Living room TV"))
    assert got[("capwatch_device_usage_bytes", tv)] == 301_000_000_000


def test_unknown_values_are_left_out():
    reg = build_registry(lambda: ([make_unknown_summary()], {}), process_metrics=False)
    names = {name for name, _ in samples(reg)}
    assert "capwatch_usage_bytes" not in names
    assert "capwatch_cap_bytes" not in names
    assert "capwatch_cycle_end_timestamp_seconds" in names
    assert "capwatch_account_info" in names and "capwatch_build_info" in names


def test_values_are_read_at_scrape_time():
    current = [make_summary(used_bytes=1)]
    reg = build_registry(lambda: (current, {}), process_metrics=False)
    assert samples(reg)[("capwatch_usage_bytes", (("account", "home"),))] == 1
    current[0] = make_summary(used_bytes=2)
    assert samples(reg)[("capwatch_usage_bytes", (("account", "home"),))] == 2


def test_process_metrics_are_optional():
    with_process = build_registry(lambda: ([], {}), process_metrics=True)
    without = build_registry(lambda: ([], {}), process_metrics=False)
    assert any(n.startswith("process_") for n, _ in samples(with_process))
    assert not any(n.startswith("python_") for n, _ in samples(without))


def test_openmetrics_when_asked():
    reg = build_registry(lambda: ([make_summary()], {}), process_metrics=False)
    body, content_type = metrics_response(reg, "application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.rstrip().endswith(b"# EOF")


def _app(registry):
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    def metrics(request):
        body, content_type = metrics_response(registry, request.headers.get("accept"))
        return Response(content=body, media_type=content_type)

    return Starlette(routes=[Route("/metrics", metrics)])


def test_real_prometheus_scrapes_the_usage(prometheus_server):
    reg = build_registry(lambda: ([make_summary()], {"home": DEVICES}))
    with AsgiThread(_app(reg), free_port()) as web:
        prom = prometheus_server([f"127.0.0.1:{web.port}"])
        query = 'capwatch_usage_bytes{account="home"}'
        wait_until(lambda: bool(prom.query(query)), "Prometheus to scrape capwatch")
        result = prom.query(query)
        ratio = prom.query('capwatch_usage_ratio{account="home"}')
        process = prom.query('process_resident_memory_bytes{job="capwatch"}')
    assert float(result[0]["value"][1]) == 412_500_000_000
    assert result[0]["metric"]["job"] == "capwatch"
    assert float(ratio[0]["value"][1]) == 0.34375
    assert float(process[0]["value"][1]) > 0


def test_promtool_finds_nothing_to_fix() -> None:
    """Issue 23 point 6: `promtool check metrics` (Debian's prometheus) passes on everything
    /metrics can say, process metrics, counters and the overage's currency label included."""
    import shutil
    import subprocess
    from datetime import UTC, datetime

    from capwatch.exporters.prometheus import ProcessFacts

    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: install Debian's prometheus (make debs)"
    facts = ProcessFacts(
        store_failures=lambda: 0,
        polls=lambda: {("home", "ok"): 3, ("home", "connect"): 1},
        exports=lambda: {("mqtt", "ok"): 2, ("graphite", "failed"): 1},
        last_polls=lambda: {"home": datetime(2026, 11, 20, tzinfo=UTC)},
        currency=lambda account: "£",
    )
    reg = build_registry(lambda: ([make_summary()], {"home": DEVICES}), facts=facts)
    body, _ = metrics_response(reg)
    done = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
    assert done.returncode == 0, (done.stdout + done.stderr).decode()
    got = samples(reg)
    assert got[("capwatch_polls_total", (("account", "home"), ("outcome", "ok")))] == 3
    assert got[("capwatch_exports_total", (("exporter", "graphite"), ("outcome", "failed")))] == 1
    money = (("account", "home"), ("currency", "£"))
    assert ("capwatch_overage_cost", money) in got
    assert got[("capwatch_last_poll_timestamp_seconds", (("account", "home"),))] > 0
