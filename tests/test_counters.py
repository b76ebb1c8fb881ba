"""Counter accounting: wraps, resets, reboots, boundaries (examples and property tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capwatch.analysis.counters import advance, counter_delta
from capwatch.analysis.cycles import CycleRule
from capwatch.models import CounterSample, CounterState, Cycle

T0 = datetime(2024, 5, 10, 12, tzinfo=UTC)
MAY = Cycle(datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC))
JUNE = Cycle(datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 7, 1, tzinfo=UTC))


def _state(value: int, *, width: int = 64, epoch: str = "e1", at: datetime = T0) -> CounterState:
    return CounterState("eth0:rx", value, width, epoch, at, MAY.start, 1000)


def _sample(value: int, *, width: int = 64, epoch: str = "e1") -> CounterSample:
    return CounterSample("eth0:rx", value, width, epoch)


@pytest.mark.parametrize(
    ("last", "sample", "elapsed", "rate", "expected", "why"),
    [
        (100, _sample(250), 60, None, 150, "plain increase"),
        (100, _sample(100), 60, None, 0, "no traffic"),
        (2**32 - 100, _sample(50, width=32), 60, None, 150, "32-bit wrap"),
        (2**64 - 10, _sample(5), 60, None, 15, "64-bit wrap"),
        (1000, _sample(10, width=32), 60, None, 10, "wrap too big (> half range): reset"),
        (2**32 - 100, _sample(5000, width=32), 60, 8 * 50, 3000, "wrap beyond rate: reset, capped"),
        (2**32 - 100, _sample(5000, width=32), 60, 8 * 100, 5100, "wrap within rate"),
        (5000, _sample(300, width=0), 60, None, 300, "width 0 never wraps: reset"),
        (5000, _sample(7000, epoch="e2"), 60, None, 7000, "reboot counts since boot"),
        (5000, _sample(10**12, epoch="e2"), 60, 8e6, 60 * 10**6, "reboot capped by rate"),
        (5000, _sample(9000, width=32), 60, None, 0, "width changed: new baseline"),
    ],
)
def test_counter_delta(
    last: int, sample: CounterSample, elapsed: float, rate: float | None, expected: int, why: str
) -> None:
    state = _state(last, width=64 if "width changed" in why else sample.width)
    assert counter_delta(state, sample, elapsed, rate) == expected, why


def test_first_sight_is_a_baseline() -> None:
    used, states = advance({}, [_sample(10**9)], T0, MAY)
    assert used == 0
    assert states["eth0:rx"].last_value == 10**9
    assert states["eth0:rx"].cycle_bytes == 0
    assert states["eth0:rx"].cycle_start == MAY.start


def test_sums_counters_and_keeps_vanished() -> None:
    states = {
        "eth0:rx": _state(100),
        "wlan0:rx": CounterState("wlan0:rx", 50, 64, "e1", T0, MAY.start, 500),
    }
    later = T0 + timedelta(minutes=5)
    used, new = advance(states, [_sample(400)], later, MAY)
    assert used == 1000 + 300 + 500  # wlan0 went away but keeps what it added
    assert new["wlan0:rx"] == states["wlan0:rx"]
    assert new["eth0:rx"].cycle_bytes == 1300
    assert new["eth0:rx"].observed_at == later


def test_vanished_counter_dropped_once_the_cycle_moves_on() -> None:
    old = {"wlan0:rx": CounterState("wlan0:rx", 50, 64, "e1", T0, MAY.start, 500)}
    used, new = advance(old, [], JUNE.start + timedelta(hours=1), JUNE)
    assert used == 0
    assert new == {}


def test_boundary_split_in_proportion_to_time() -> None:
    before = JUNE.start - timedelta(hours=3)
    after = JUNE.start + timedelta(hours=1)
    state = CounterState("eth0:rx", 0, 64, "e1", before, MAY.start, 123456)
    used, new = advance({"eth0:rx": state}, [_sample(4000)], after, JUNE)
    assert used == 1000  # one hour of four after the boundary
    assert new["eth0:rx"].cycle_start == JUNE.start
    assert new["eth0:rx"].last_value == 4000


def test_poll_outside_cycle_and_duplicates_rejected() -> None:
    with pytest.raises(ValueError, match="outside the cycle"):
        advance({}, [], JUNE.start, MAY)
    with pytest.raises(ValueError, match="twice"):
        advance({}, [_sample(1), _sample(2)], T0, MAY)


def test_state_from_a_later_cycle_rebaselines() -> None:
    state = CounterState("eth0:rx", 10, 64, "e1", JUNE.start, JUNE.start, 99)
    used, new = advance({"eth0:rx": state}, [_sample(50)], T0, MAY)
    assert used == 0
    assert new["eth0:rx"].cycle_start == MAY.start


# --- property test: a simulated host with real traffic -------------------------------------

MAX_RATE = 50_000  # bytes per second, the simulator's fastest link
WIDTHS = {"a": 32, "b": 64, "c": 0}  # a wraps at 2**32; c never wraps but may be reset


@dataclass
class Step:
    """One poll interval: its length, each counter's constant rate, and what happened."""

    dt: int
    rates: tuple[int, int, int]
    reboot: bool = False
    reset_c: bool = False
    c_present: bool = True


@dataclass
class Host:
    """Raw counters of a simulated host (values since the counter's origin)."""

    values: dict[str, int]
    epoch: int = 0
    read_at: dict[str, int] = field(default_factory=dict)


steps_strategy = st.lists(
    st.builds(
        Step,
        dt=st.integers(min_value=30, max_value=4 * 3600).map(lambda x: 2 * x),
        rates=st.tuples(*(st.integers(min_value=0, max_value=MAX_RATE) for _ in range(3))),
    ),
    min_size=10,
    max_size=120,
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Step], bool]:
    """Steps plus whether resets, reboots and vanishing are allowed."""
    steps = draw(steps_strategy)
    messy = draw(st.booleans())
    if messy:
        for s in steps:
            s.reboot = draw(st.integers(0, 14)) == 0
            s.reset_c = draw(st.integers(0, 9)) == 0
            s.c_present = draw(st.integers(0, 6)) != 0
    return steps, messy


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


@settings(max_examples=150, deadline=None)
@given(
    scenario=scenarios(),
    anchor=st.integers(1, 31),
    lead=st.floats(0.0, 1.0),
    init=st.tuples(
        st.integers(2**32 - 2**31, 2**32 - 1),
        st.integers(2**64 - 2**33, 2**64 - 1),
        st.integers(0, 2**40),
    ),
    tz=st.sampled_from(["UTC", "America/New_York"]),
)
def test_counters_against_true_traffic(
    scenario: tuple[list[Step], bool],
    anchor: int,
    lead: float,
    init: tuple[int, int, int],
    tz: str,
) -> None:
    steps, messy = scenario
    rule = CycleRule(anchor, ZoneInfo(tz))
    boundary = rule.cycle_at(datetime(2024, 8, 15, tzinfo=UTC)).end
    t = int(boundary.timestamp()) - int(lead * sum(s.dt for s in steps))  # cross it
    host = Host(values=dict(zip("abc", init, strict=True)))
    # Per counter: list of (start, end, rate) traffic segments, for the truth.
    segments: dict[str, list[tuple[int, int, int]]] = {k: [] for k in "abc"}
    first_seen: dict[str, int] = {}
    states: dict[str, CounterState] = {}
    last_used: tuple[Cycle, int] | None = None
    slack = 0

    def read(keys: str) -> list[CounterSample]:
        out = []
        for k in keys:
            first_seen.setdefault(k, t)
            host.read_at[k] = t
            out.append(CounterSample(k, host.values[k], WIDTHS[k], f"boot{host.epoch}"))
        return out

    used, states = advance(states, read("abc"), _utc(t), rule.cycle_at(_utc(t)))
    for step in steps:
        t0, t = t, t + step.dt
        for k, rate in zip("abc", step.rates, strict=True):
            segments[k].append((t0, t, rate))
            if step.reboot or (k == "c" and step.reset_c):
                host.values[k] = rate * (t - (t0 + step.dt // 2))  # restarted mid-interval
            else:
                host.values[k] += rate * step.dt
            if WIDTHS[k]:
                host.values[k] %= 1 << WIDTHS[k]
        host.epoch += step.reboot
        at = _utc(t)
        cycle = rule.cycle_at(at)
        before = {k: host.read_at.get(k) for k in "abc"}
        keys = "abc" if step.c_present else "ab"
        used, states = advance(states, read(keys), at, cycle, max_rate_bps=8 * MAX_RATE)
        truth = 0
        if last_used is None or last_used[0] != cycle:
            slack = 0  # pre-boundary traffic a split may have moved into this cycle
        c0 = int(cycle.start.timestamp())
        for k in "abc":
            if k not in first_seen:
                continue
            since = max(c0, first_seen[k])
            truth += sum(r * _overlap(a, b, since, t) for a, b, r in segments[k])
            prev = before[k]
            if prev is not None and prev < c0 and k in keys:
                slack += sum(r * _overlap(a, b, prev, c0) for a, b, r in segments[k])
        assert used >= 0
        assert used <= truth + slack
        if not messy:
            assert truth - 3 <= used <= truth  # exact but for flooring each boundary share
        if last_used is not None and last_used[0] == cycle:
            assert used >= last_used[1]  # monotone within a cycle
        last_used = (cycle, used)
    assert set(states) >= {"a", "b"}


def _utc(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


# --- a sample's own link rate and uptime (UPnP gateways report both) -------------------------


def _gw(value: int, *, rate: float | None = None, uptime: float | None = None) -> CounterSample:
    return CounterSample("eth0:rx", value, 32, "e1", rate, uptime)


@pytest.mark.parametrize(
    ("last", "sample", "elapsed", "expected", "why"),
    [
        (2**32 - 100, _gw(5000, rate=8 * 100), 60, 5100, "wrap within the sample's own rate"),
        (2**32 - 100, _gw(5000, rate=8 * 50), 60, 3000, "wrap beyond the sample's rate: capped"),
        (3 * 2**30, _gw(10**6, uptime=30), 60, 10**6, "uptime < elapsed, value down: reboot"),
        (3 * 2**30, _gw(10**6, rate=8e3, uptime=30), 60, 30_000, "reboot capped by rate x uptime"),
        (2**32 - 100, _gw(50, uptime=10**6), 60, 150, "long uptime: a wrap, not a reboot"),
        (100, _gw(250, uptime=5), 60, 150, "uptime reset but value up: daemon restart, a diff"),
    ],
)
def test_counter_delta_with_rate_and_uptime(
    last: int, sample: CounterSample, elapsed: float, expected: int, why: str
) -> None:
    assert counter_delta(_state(last, width=32), sample, elapsed, None) == expected, why


def test_sample_rate_wins_over_the_poll_wide_one() -> None:
    state = _state(2**32 - 100, width=32)
    # poll-wide 8 bit/s would make the wrap impossible; the sample's 800 bit/s allows it
    assert counter_delta(state, _gw(5000, rate=800.0), 60, 8.0) == 5100


def test_safe_interval_and_long_gaps() -> None:
    from capwatch.analysis.counters import long_gaps, safe_interval_s

    assert safe_interval_s(32, 100e6) == pytest.approx(2**31 * 8 / 100e6)  # 171.8 s
    assert safe_interval_s(64, 100e6) == pytest.approx(2**63 * 8 / 100e6)
    assert safe_interval_s(32, None) is None
    assert safe_interval_s(0, 100e6) is None
    states = {"eth0:rx": _state(10, width=32)}
    on_time = long_gaps(states, [_gw(20, rate=100e6)], T0 + timedelta(seconds=60))
    assert on_time == []
    late = long_gaps(states, [_gw(20, rate=100e6)], T0 + timedelta(days=1))
    assert [(g.key, g.width, g.rate_bps) for g in late] == [("eth0:rx", 32, 100e6)]
    assert late[0].elapsed_s == 86400 and late[0].limit_s == pytest.approx(171.8, abs=0.1)
    assert long_gaps(states, [_gw(20)], T0 + timedelta(days=1)) == []  # no rate: no claim
    assert long_gaps({}, [_gw(20, rate=100e6)], T0 + timedelta(days=1)) == []  # first sight
