"""Alert rules (pure evaluation) and the latch (fire once per cycle per level, resolve)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from capwatch.alerts import Condition, evaluate, step
from capwatch.models import AccountStatus, AlertState, Cycle, CycleSummary, Forecast
from capwatch.units import format_bytes as fmt_bytes
from capwatch.units import format_range as fmt_range

GB = 10**9
CAP = 1229 * GB
CYCLE = Cycle(datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC))
NEXT = Cycle(CYCLE.end, datetime(2026, 1, 1, tzinfo=UTC))


@dataclass
class Settings:
    used_percent: list[float] = field(default_factory=lambda: [75, 90, 100])
    projected_percent: list[float] = field(default_factory=lambda: [90])
    projected_basis: str = "low"
    allowance_below_bytes: int | None = None
    stale_hours: float = 6
    disagree_percent: float = 5
    hysteresis_percent: float = 2


def summary(
    used: int | None = 500 * GB,
    *,
    forecast: Forecast | None = None,
    cycle: Cycle = CYCLE,
    day: float = 15,
    last: float = 1.0,
    allowance: int | None = None,
) -> CycleSummary:
    now = cycle.start + timedelta(days=day)
    return CycleSummary(
        account="home", cycle=cycle, as_of=now, used_bytes=used, cap_bytes=CAP,
        forecast=forecast, daily_allowance_bytes=allowance, days_left=30 - day, pace=None,
        overage_cost=None, last_reading_at=now - timedelta(hours=last), status=AccountStatus.OK,
        provider="xfinity",
    )  # fmt: skip


def conds(s: CycleSummary, settings: Settings | None = None, **kw: object) -> list[Condition]:
    args: dict[str, object] = {"auth_required": False, "disagreement_percent": None} | kw
    return evaluate(s, settings or Settings(), **args)  # type: ignore[arg-type]


def by_key(cs: list[Condition]) -> dict[tuple[str, str], Condition]:
    return {(c.rule, c.level): c for c in cs}


def test_used_levels() -> None:
    cs = by_key(conds(summary(int(CAP * 0.91))))
    assert cs["used", "75"].over and cs["used", "90"].over and not cs["used", "100"].over
    assert "home: used 1.12 TB of 1.23 TB (91.0%" in cs["used", "90"].message


def test_projected_uses_the_low_end_by_default() -> None:
    fc = Forecast(int(CAP * 0.95), int(CAP * 0.85), int(CAP * 1.05))
    low = by_key(conds(summary(forecast=fc)))["projected", "90"]
    assert not low.over and low.value is not None and round(low.value) == 85
    exp = by_key(conds(summary(forecast=fc), Settings(projected_basis="expected")))
    assert exp["projected", "90"].over
    assert exp["projected", "90"].message == (
        "home: projected to use 1.17 TB of 1.23 TB (95.0%, 80% range 1.04–1.29 TB) by Dec 1"
    )


def test_allowance_stale_auth_disagree() -> None:
    s = summary(allowance=20 * GB, last=7)
    cs = by_key(
        conds(
            s, Settings(allowance_below_bytes=30 * GB), auth_required=True, disagreement_percent=-8
        )
    )
    assert cs["allowance", "below"].over
    assert cs["stale", "hours"].over and not cs["stale", "hours"].per_cycle
    assert cs["auth", "required"].over
    assert "run `capwatch login xfinity --account home`" in cs["auth", "required"].message
    assert cs["disagree", "percent"].over and cs["disagree", "percent"].value == 8
    fresh = by_key(conds(summary(last=1)))
    assert fresh["stale", "hours"].clear and ("disagree", "percent") not in fresh


def test_unlimited_cap_has_no_cap_rules() -> None:
    s = replace(summary(), cap_bytes=None)
    rules = {c.rule for c in conds(s)}
    assert rules == {"stale", "auth"}


def test_fires_once_per_cycle_per_level_and_survives_restart() -> None:
    now = CYCLE.start + timedelta(days=20)
    states, events = step(conds(summary(int(CAP * 0.8))), {}, CYCLE.start, now)
    assert [(e.rule, e.level, e.kind) for e in events] == [("used", "75", "fired")]
    saved = {(s.rule, s.level): s for s in states}  # what the store round-trips
    states, events = step(conds(summary(int(CAP * 0.8))), saved, CYCLE.start, now)
    assert events == []
    active = {(s.rule, s.level) for s in states if s.active}
    assert active == {("used", "75")}


def test_hysteresis_stops_flapping_and_resolve_has_a_message() -> None:
    t = CYCLE.start + timedelta(days=10)
    fc = lambda pct: Forecast(int(CAP * pct), int(CAP * pct), int(CAP * pct))  # noqa: E731
    prev: dict[tuple[str, str], AlertState] = {}
    kinds = []
    for i, pct in enumerate([0.91, 0.895, 0.905, 0.885, 0.87, 0.92]):
        states, events = step(conds(summary(forecast=fc(pct))), prev, CYCLE.start, t)
        prev = {(s.rule, s.level): s for s in states}
        kinds += [(i, e.kind) for e in events if e.rule == "projected"]
        t += timedelta(hours=1)
    # fired at 91%, held through 89.5/90.5/88.5 (band 88-90), resolved at 87%, no re-fire
    assert kinds == [(0, "fired"), (4, "resolved")]
    assert prev["projected", "90"].message is not None
    assert "projection back under 90%" in prev["projected", "90"].message


def test_new_cycle_resets_the_latch() -> None:
    t = CYCLE.start + timedelta(days=25)
    states, _ = step(conds(summary(int(CAP * 0.95))), {}, CYCLE.start, t)
    prev = {(s.rule, s.level): s for s in states}
    s2 = summary(int(CAP * 0.01), cycle=NEXT, day=0.1)
    states, events = step(conds(s2), prev, NEXT.start, NEXT.start + timedelta(hours=2))
    resolved = sorted(e.level for e in events if e.kind == "resolved" and e.rule == "used")
    assert resolved == ["75", "90"]
    assert all(s.cycle_start == NEXT.start for s in states if s.rule == "used")
    s3 = summary(int(CAP * 0.8), cycle=NEXT, day=20)
    _, events = step(conds(s3), {(s.rule, s.level): s for s in states}, NEXT.start, NEXT.end)
    assert [(e.level, e.kind) for e in events if e.rule == "used"] == [("75", "fired")]


def test_episode_alerts_fire_again_in_a_later_episode() -> None:
    t = CYCLE.start + timedelta(days=3)
    prev: dict[tuple[str, str], AlertState] = {}
    seen = []
    for auth in [True, True, False, True]:
        states, events = step(conds(summary(), auth_required=auth), prev, CYCLE.start, t)
        prev = {(s.rule, s.level): s for s in states}
        seen += [e.kind for e in events if e.rule == "auth"]
    assert seen == ["fired", "resolved", "fired"]


def test_units() -> None:
    assert fmt_bytes(1_130_000_000_000) == "1.13 TB"
    assert fmt_bytes(512 * GB) == "512 GB"
    assert fmt_bytes(3.4 * GB) == "3.4 GB"
    assert fmt_range(1_050 * GB, 1_210 * GB) == "1.05–1.21 TB"
    assert fmt_range(900 * GB, 1_210 * GB) == "900 GB–1.21 TB"


@given(st.lists(st.floats(min_value=0, max_value=1.2), min_size=1, max_size=30))
def test_at_most_one_fire_per_level_per_cycle(path: list[float]) -> None:
    prev: dict[tuple[str, str], AlertState] = {}
    fired: dict[tuple[str, str], int] = {}
    t = CYCLE.start
    for pct in path:
        t += timedelta(hours=1)
        states, events = step(conds(summary(int(CAP * pct))), prev, CYCLE.start, t)
        prev = {(s.rule, s.level): s for s in states}
        for e in events:
            if e.kind == "fired":
                fired[e.rule, e.level] = fired.get((e.rule, e.level), 0) + 1
        for s in states:
            assert not (s.active and s.resolved_at is not None and s.resolved_at > s.fired_at)  # type: ignore[operator]
    assert all(n == 1 for n in fired.values())
