"""Issue 20, second phase: every surface per allowance, from the one summary. One seeded
satellite plan (tests/fixtures/plan.py) at one instant; the API, the alerts, the exporters, the
account page and the weekly email show each allowance's figures as `status --json` has them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from capwatch.cli import cli
from capwatch.config import Settings, load_settings
from capwatch.models import CycleSummary
from capwatch.store import open_store
from capwatch.store.api import Store
from tests.fixtures.common import FakeClock
from tests.fixtures.plan import GB, PLAN_NOW, PLAN_ZONE, plan_store

PLAN_ZONE_INFO = ZoneInfo(PLAN_ZONE)


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CycleSummary]:
    """The seeded satellite plan (config, summary at PLAN_NOW), once for the module."""
    return plan_store(tmp_path_factory.mktemp("plan"))


@pytest.fixture
def opened(plan: tuple[Path, CycleSummary]) -> Iterator[tuple[Settings, Store]]:
    """The plan's settings and its store, open."""
    settings = load_settings(plan[0])
    store = open_store(settings.resolved_database_url())
    try:
        yield settings, store
    finally:
        store.close()


def _status_json(config: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "status", "--json"],
        obj={"clock": FakeClock(PLAN_NOW, tick=timedelta(0))},
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)[0]
    return data


def _client(settings: Settings, store: Store) -> Any:
    from fastapi.testclient import TestClient

    from capwatch.web.app import create_app

    app = create_app(settings, store, clock=lambda: PLAN_NOW)
    return TestClient(app, base_url="http://127.0.0.1")


def test_the_api_carries_the_allowances_as_status_json_does(
    plan: tuple[Path, CycleSummary], opened: tuple[Settings, Store]
) -> None:
    config, s = plan
    status = _status_json(config)["allowances"]
    assert [a["name"] for a in status] == ["anytime", "bonus-zone"]
    anytime = status[0]
    assert anytime["used_bytes"] == s.allowances[0].used_bytes > 0
    assert anytime["slowdown_mbps"] == 1.0 and status[1]["slowdown_mbps"] is None
    client = _client(*opened)
    one = client.get("/api/v1/accounts/sat").json()
    assert one["allowances"] == status
    (listed,) = client.get("/api/v1/accounts").json()
    assert listed["allowances"] == status
    spec = client.get("/api/v1/openapi.json").json()
    summary = spec["components"]["schemas"]["SummaryOut"]
    assert "allowances" in summary["required"]
    item = spec["components"]["schemas"]["AllowanceOut"]
    assert set(item["properties"]) == set(anytime)


def test_each_allowance_has_its_used_and_projected_alerts(
    plan: tuple[Path, CycleSummary],
) -> None:
    """The metered allowance's alerts fire once per level per cycle, naming it and saying what
    its end does; the account (no cap of its own on this plan) has none; a new cycle re-arms."""
    from dataclasses import replace

    from capwatch.alerts.latch import step
    from capwatch.alerts.rules import evaluate
    from capwatch.config.account import AlertSettings
    from capwatch.units import format_bytes

    _, s = plan
    anytime = s.allowances[0]
    assert anytime.used_bytes is not None and anytime.projected_low_bytes is not None
    assert 0.5 < anytime.used_bytes / anytime.size_bytes < 0.75
    assert anytime.projected_low_bytes > 0.9 * anytime.size_bytes
    cfg = AlertSettings()
    conditions = evaluate(s, cfg, auth_required=False, disagreement_percent=None, tz=PLAN_ZONE_INFO)
    over = {(c.rule, c.level): c for c in conditions if c.over}
    assert set(over) == {("projected:anytime", "90")}  # under 75% used; the free night is quiet
    fired = over[("projected:anytime", "90")].message
    assert fired.startswith("sat: the anytime allowance (outside mon-sun 02:00-08:00) is ")
    assert f"projected to use {format_bytes(anytime.projected_bytes)} of 100 GB" in fired
    assert fired.endswith("by Dec 1; when it runs out the line slows to 1 Mbit/s")
    assert {c.rule for c in conditions} >= {"used:bonus-zone", "projected:bonus-zone"}
    assert not any(c.rule in ("used", "projected") for c in conditions)

    states, events = step(conditions, {}, s.cycle.start, s.as_of)
    assert [(e.rule, e.level, e.kind) for e in events] == [("projected:anytime", "90", "fired")]
    latched = {(st.rule, st.level): st for st in states}
    # a projection that dips back and rises again in the same cycle does not fire twice
    low = replace(anytime, projected_bytes=50 * 10**9, projected_low_bytes=40 * 10**9)
    calm = replace(s, allowances=(low, *s.allowances[1:]))
    later = s.as_of + timedelta(hours=1)
    for summary in (calm, s):
        conds = evaluate(
            summary, cfg, auth_required=False, disagreement_percent=None, tz=PLAN_ZONE_INFO
        )
        new, events = step(conds, latched, s.cycle.start, later)
        latched = {(st.rule, st.level): st for st in new}
        kinds = [(e.rule, e.kind) for e in events]
        assert kinds == ([("projected:anytime", "resolved")] if summary is calm else []), kinds
    # an allowance counting all traffic whose size is the account's cap would repeat its alerts
    same = replace(anytime, counts="all", windows="")
    twin = replace(s, cap_bytes=same.size_bytes, allowances=(same,))
    conds = evaluate(twin, cfg, auth_required=False, disagreement_percent=None, tz=PLAN_ZONE_INFO)
    assert not [c for c in conds if ":" in c.rule]
    assert {c.rule for c in conds} >= {"used", "projected"}
    # the next cycle: nothing projected yet, the latch is reset, and it can fire again
    nxt = s.cycle.end
    new, events = step([], latched, nxt, nxt)
    assert all(st.fired_at is None for st in new if st.rule.startswith("projected:"))


def test_exporters_carry_each_allowance_from_the_one_summary(
    plan: tuple[Path, CycleSummary], opened: tuple[Settings, Store]
) -> None:
    """Prometheus (an ``allowance`` label), Graphite, InfluxDB and Home Assistant's state and
    discovery: used, size, remaining and projected of each allowance, as the summary has them."""
    from prometheus_client.parser import text_string_to_metric_families

    from capwatch.exporters.graphite import render_lines
    from capwatch.exporters.homeassistant import Topics, discovery_configs, state_payload
    from capwatch.exporters.influxdb import render_points

    _, s = plan
    want = {
        (a.name, key): value
        for a in s.allowances
        for key, value in (
            ("used_bytes", a.used_bytes),
            ("size_bytes", a.size_bytes),
            ("remaining_bytes", a.remaining_bytes),
            ("projected_bytes", a.projected_bytes),
        )
    }
    assert all(isinstance(v, int) for v in want.values()) and len(want) == 8

    metrics = _client(*opened).get("/metrics").text
    scraped = {
        (sample.labels["allowance"], sample.name.removeprefix("capwatch_allowance_")): sample.value
        for family in text_string_to_metric_families(metrics)
        if family.name.startswith("capwatch_allowance_")
        for sample in family.samples
        if sample.labels.get("account") == "sat"
    }
    assert scraped == want

    graphite = dict(line.rsplit(" ", 1)[0].split(" ") for line in render_lines([s], {}))
    for (name, key), value in want.items():
        assert int(graphite[f"capwatch.sat.allowances.{name}.{key}"]) == value

    points = [p for p in render_points([s], {}) if p.startswith("capwatch_allowance,")]
    assert len(points) == 2
    anytime = next(p for p in points if ",allowance=anytime" in p)
    for key in ("used_bytes", "size_bytes", "remaining_bytes", "projected_bytes"):
        assert f"{key}={want[('anytime', key)]}i" in anytime

    state = state_payload(s, ())
    assert state["allowances"]["bonus-zone"]["used_bytes"] == want[("bonus-zone", "used_bytes")]
    configs = discovery_configs(s, (), Topics())
    sensor = configs["homeassistant/sensor/capwatch_sat/allowance_anytime_remaining_bytes/config"]
    assert sensor["name"] == "anytime remaining" and sensor["unit_of_measurement"] == "GB"
    assert sensor["unique_id"] == "capwatch_sat_allowance_anytime_remaining_bytes"
    used = configs["homeassistant/sensor/capwatch_sat/allowance_anytime_used_bytes/config"]
    assert used["state_class"] == "total" and "last_reset_value_template" in used
    assert "value_json.allowances['anytime'].used_bytes" in used["value_template"]
    # Home Assistant's own way of reading it: GB, and "unknown" when the split is not known
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def render(template: str, state: dict[str, Any]) -> str:
        value = json.dumps(state)
        env = ImmutableSandboxedEnvironment()
        return env.from_string(template).render(value=value, value_json=json.loads(value)).strip()

    gb = round(want[("anytime", "used_bytes")] / 10**9, 3)
    assert float(render(used["value_template"], state)) == gb
    from dataclasses import replace

    unknown = replace(s, allowances=(replace(s.allowances[0], used_bytes=None),))
    assert render(used["value_template"], state_payload(unknown, ())) == "None"
    assert render(used["value_template"], state_payload(replace(s, allowances=()), ())) == "None"


def test_the_weekly_email_says_where_the_use_outside_the_window_went(
    plan: tuple[Path, CycleSummary], opened: tuple[Settings, Store]
) -> None:
    from dataclasses import replace

    from capwatch.notify.reports import build_weekly
    from capwatch.service.advice import plan_advice
    from capwatch.units import format_bytes

    _, s = plan
    anytime = s.allowances[0]
    assert anytime.busiest is not None and anytime.used_bytes is not None
    bonus = s.allowances[1]
    assert bonus.remaining_bytes is not None and anytime.remaining_bytes is not None
    moved = format_bytes(anytime.remaining_bytes + anytime.busiest.bytes)
    (advice,) = plan_advice(s)
    assert advice == (
        f"This cycle {format_bytes(anytime.used_bytes)} of the line's "
        f"{format_bytes(s.used_bytes)} fell outside the window and counted against anytime: "
        f"{format_bytes(anytime.busiest.bytes)} of it between 9 p.m. and midnight. In the "
        "window from 2 a.m. it would have counted against bonus-zone instead "
        f"({format_bytes(bonus.remaining_bytes)} left there), and anytime would have {moved} "
        f"left, not {format_bytes(anytime.remaining_bytes)}."
    )
    # a window that is free (no allowance counts inside it): said as such
    (free,) = plan_advice(replace(s, allowances=(anytime,)))
    assert "fell outside the free window" in free
    assert "In the free window from 2 a.m. it would not have counted, and anytime" in free
    report = build_weekly(opened[1], opened[0], "sat", PLAN_NOW)
    for part in (report.text, report.html):
        assert advice in part.replace("\n", " ") or advice.replace("'", "&#39;") in part
        assert "Allowance anytime" in part and format_bytes(anytime.projected_bytes) in part
    assert report.subject.startswith("Over pace: capwatch sat: anytime ")
    # an ISP's one total: the split is not known, so nothing is said
    unknown = replace(
        anytime, used_bytes=None, projected_bytes=None, split_known=False, busiest=None
    )
    assert plan_advice(replace(s, allowances=(unknown,))) == []


def test_the_account_page_shows_each_allowance_from_the_one_summary(
    plan: tuple[Path, CycleSummary], opened: tuple[Settings, Store]
) -> None:
    from dataclasses import replace

    from capwatch.service.advice import next_step, plan_advice
    from capwatch.units import format_bytes, format_range

    _, s = plan
    client = _client(*opened)
    page = client.get("/accounts/sat").text
    for a in s.allowances:
        assert a.used_bytes is not None and a.projected_bytes is not None
        assert f'data-allowance-name="{a.name}"' in page and f'data-allowance="{a.name}"' in page
        for n in (a.used_bytes, a.size_bytes, a.remaining_bytes, a.projected_bytes):
            assert f'data-bytes="{n}">{format_bytes(n)}<' in page, (a.name, n)
        assert a.projected_low_bytes is not None and a.projected_high_bytes is not None
        assert f"likely {format_range(a.projected_low_bytes, a.projected_high_bytes)}" in page
    assert "The line slows to 1 Mbit/s" in page and "The service stops" in page
    assert "counts outside mon-sun 02:00-08:00 (bonus-zone then)" in page
    alone = replace(s, allowances=(s.allowances[0],))  # nothing counts in the window: free
    assert "a day outside the free window for" in next_step(alone)
    (advice,) = plan_advice(s)
    assert advice.replace("'", "&#39;") in page
    assert "in the window (mon-sun 02:00-08:00): counted against bonus-zone" in page
    assert 'of <span data-field="cap" data-bytes="0">the plan&#39;s allowances<' in page
    step = next_step(s)
    assert step.startswith("Heading over the anytime allowance: keep to ")
    assert "a day outside the window for" in step and step.replace("'", "&#39;") in page

    # the overview: a meter per allowance in place of the cap's (this plan has none)
    overview = client.get("/").text
    for a in s.allowances:
        assert a.used_bytes is not None and a.projected_bytes is not None
        assert f'<li data-allowance-name="{a.name}">' in overview
        assert f'data-bytes="{a.projected_bytes}">{format_bytes(a.projected_bytes)}<' in overview
    assert 'aria-label="sat: share of anytime used"' in overview
    assert 'aria-label="sat: share of cap used"' not in overview

    # the allowance's burndown is the account's chart code on the allowance's own figures
    bd = client.get("/api/v1/accounts/sat/burndown", params={"allowance": "anytime"}).json()
    anytime = s.allowances[0]
    assert bd["allowance"] == "anytime" and bd["cap_bytes"] == anytime.size_bytes
    assert bd["used"][-1]["bytes"] == anytime.used_bytes
    assert bd["forecast"]["expected_bytes"] == anytime.projected_bytes
    assert bd["forecast"]["low_bytes"] == anytime.projected_low_bytes
    whole = client.get("/api/v1/accounts/sat/burndown").json()
    assert sum(d["used_bytes"] for d in whole["daily"]) == s.used_bytes
    free = sum(d["free_bytes"] for d in whole["daily"])
    bonus = s.allowances[1]  # counts inside the same window: what was free is what it counted
    assert free == bonus.used_bytes == s.used_bytes - anytime.used_bytes
    missing = client.get("/api/v1/accounts/sat/burndown", params={"allowance": "night"})
    assert missing.status_code == 404 and "no allowance 'night'" in missing.json()["detail"]


def test_status_shows_each_allowance_as_the_summary_has_it(plan: tuple[Path, CycleSummary]) -> None:
    from capwatch.units import format_bytes

    config, s = plan
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "status"],
        obj={"clock": FakeClock(PLAN_NOW, tick=timedelta(0))},
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    line = next(row for row in result.output.splitlines() if row.startswith("│ sat "))
    assert "│ plan " in line and "unlimited" not in line  # the allowances carry the limits
    for a in s.allowances:
        assert a.used_bytes is not None and a.projected_bytes is not None
        row = next(line for line in result.output.splitlines() if f" {a.name} " in f" {line} ")
        for n in (a.used_bytes, a.size_bytes, a.remaining_bytes, a.projected_bytes):
            assert format_bytes(n) in row, (a.name, n, row)


def test_what_each_end_does_in_words_and_an_overage_allowance_priced() -> None:
    """The wording the alerts and the page share; an "overage" allowance priced with the
    account's terms on its projected use over its own size."""
    from datetime import UTC, datetime

    from capwatch.alerts.plan import at_end_text
    from capwatch.analysis.overage import OverageTerms
    from capwatch.analysis.plan import AllowanceInput, summarize_allowance
    from capwatch.models import Cycle

    gb = 10**9
    cycle = Cycle(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    now = datetime(2026, 11, 16, tzinfo=UTC)
    samples = [(cycle.start.replace(day=d), (d - 1) * 10 * gb) for d in range(2, 17)]
    terms = OverageTerms(bytes_per_block=50 * gb, cost_per_block=10.0, max_charge=None)
    item = AllowanceInput("monthly", "all", "overage", 200 * gb)
    priced = summarize_allowance(item, cycle, now, UTC, samples, (), terms)
    assert priced.projected_bytes is not None and priced.projected_bytes > 250 * gb
    blocks = -(-(priced.projected_bytes - 200 * gb) // (50 * gb))
    assert priced.overage_cost == 10.0 * blocks
    assert at_end_text(priced, "£") == f"projected overage charge £{10.0 * blocks:,.2f}"
    assert summarize_allowance(item, cycle, now, UTC, samples, ()).overage_cost is None
    assert at_end_text(summarize_allowance(item, cycle, now, UTC, samples, ())) == ""
    stop = summarize_allowance(
        AllowanceInput("day", "all", "hard-cap", gb), cycle, now, UTC, [], ()
    )
    assert at_end_text(stop) == "when it runs out the service stops"
    slow = AllowanceInput("priority", "all", "slowdown", gb)
    assert at_end_text(summarize_allowance(slow, cycle, now, UTC, [], ())) == (
        "when it runs out the line slows down"
    )


def test_promtool_passes_the_allowance_metrics(plan: tuple[Path, CycleSummary]) -> None:
    """Debian's `promtool check metrics` on /metrics of the plan (allowance label included)."""
    import shutil
    import subprocess

    from capwatch.exporters.prometheus import build_registry, metrics_response

    _, s = plan
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: install Debian's prometheus (make debs)"
    body, _ = metrics_response(build_registry(lambda: ([s], {}), process_metrics=False))
    assert b'capwatch_allowance_used_bytes{account="sat",allowance="anytime"}' in body
    done = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
    assert done.returncode == 0, done.stdout + done.stderr


async def test_real_influxdb_stores_each_allowance(
    plan: tuple[Path, CycleSummary], influxdb_server: Any
) -> None:
    from capwatch.config import InfluxSettings
    from capwatch.exporters.influxdb import InfluxExporter

    _, s = plan
    settings = InfluxSettings.model_validate({"url": influxdb_server.url, "database": "capwatch"})
    exporter = InfluxExporter(settings)
    await exporter.start()
    try:
        await exporter.publish([s], {})
    finally:
        await exporter.stop()
    rows = influxdb_server.rows('SELECT * FROM "capwatch_allowance" GROUP BY *', "capwatch")
    got = {r["allowance"]: r for r in rows}
    assert set(got) == {"anytime", "bonus-zone"}
    for a in s.allowances:
        row = got[a.name]
        assert row["account"] == "sat" and row["time"] == int(s.as_of.timestamp())
        assert (row["used_bytes"], row["size_bytes"], row["projected_bytes"]) == (
            a.used_bytes,
            a.size_bytes,
            a.projected_bytes,
        )


def test_an_allowance_whose_use_cannot_be_known_is_said_so_on_the_page(
    plan: tuple[Path, CycleSummary],
) -> None:
    """An allowance with windows metered by an ISP total: the page says so, draws no chart
    for it, shades no free window and gives no advice (nothing is guessed)."""
    from dataclasses import replace
    from zoneinfo import ZoneInfo

    from capwatch.service.plan import SPLIT_UNKNOWN
    from capwatch.web.account_page import render_account

    _, s = plan
    night = replace(
        s.allowances[0],
        used_bytes=None,
        projected_bytes=None,
        projected_low_bytes=None,
        projected_high_bytes=None,
        split_known=False,
        note=SPLIT_UNKNOWN,
        busiest=None,
    )
    html = render_account(replace(s, allowances=(night,)), [], [], [], ZoneInfo(PLAN_ZONE))
    assert 'data-allowance-name="anytime"' in html and "not known" in html
    assert "cannot be known" in html and 'data-allowance="anytime"' not in html
    assert 'aria-label="Legend of the daily bars"' not in html
    assert 'data-field="plan-advice"' not in html


@pytest.mark.parametrize("cap", [None, 200 * GB])
def test_the_earlier_cycles_value_sits_above_its_bar(cap: int | None) -> None:
    """With no cap the tallest bar fills the chart; its value is drawn above it, not across it
    (a plan's account has no cap of its own)."""
    from capwatch.store.api import CycleRecord
    from capwatch.web.account_page import cycle_bars

    start = datetime(2026, 11, 1, tzinfo=UTC)
    cycles = [
        CycleRecord("aa", start, None, used, cap, 1, None, None, "aaisp")
        for used in (50 * GB, 20 * GB)
    ]
    bars = cycle_bars(cycles, UTC)
    assert bars is not None
    for bar in bars.bars:
        assert bar.value and 10 <= bar.value_y < bar.y - 3  # the text's baseline clears the bar
    if cap:
        assert bars.cap_y is not None and bars.cap_y < min(b.y for b in bars.bars)
