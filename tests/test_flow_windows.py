"""Issue 20: a flow source splits an ISP's total across a plan's windows by the flows' own times.

Flow times read from what Debian's softflowd really exported (v9 uptime stamps, IPFIX sysUpTime
from its systemInitTimeMilliseconds); bytes spread over each flow's time per quarter hour and
split at window edges, on the night New York skips 02:00 and the night Sydney shows it twice;
and the summary: the ISP's figure is the total, the flows' share says how it splits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from capwatch.analysis.cycles import CycleRule
from capwatch.analysis.windows import SLOT, Window, slots_split, spread_over_slots
from capwatch.devices.flows import FlowDecoder, TimeBase, to_flow
from capwatch.models import CycleSummary, DeviceTraffic, Reading
from capwatch.service.plan import SPLIT_UNKNOWN
from capwatch.store.api import Store
from tests.fixtures.web import one_isp_summary
from tests.test_netflow_decode import packet

NIGHT = Window(frozenset(range(7)), 2 * 60, 8 * 60)  # mon-sun 02:00-08:00
NEW_YORK, SYDNEY = ZoneInfo("America/New_York"), ZoneInfo("Australia/Sydney")
GB = 10**9


def _utc(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def _device_flow(name: str, address: str = "127.0.0.2") -> tuple[datetime, datetime]:
    flows = FlowDecoder().decode(packet(name), "127.0.0.1")
    flow = next(f for f in flows if str(f.src) == address)
    assert flow.start is not None and flow.end is not None
    return flow.start, flow.end


def test_softflowd_v9_times_are_the_headers_export_time_less_the_uptime_between() -> None:
    # header: unix_secs 1796197751, sys_uptime 2571; the flow: FIRST 50, LAST 2551 (ms)
    start, end = _device_flow("softflowd_v9_flow_times")
    assert start == _utc(1796197751_000 - (2571 - 50))
    assert end == _utc(1796197751_000 - (2571 - 2551))
    # the traffic was sent between 1796197749.21 and 1796197751.73 by the capturing clock;
    # v9's header has whole seconds, so the times are early by less than one
    assert _utc(1796197748_209) < start < end < _utc(1796197751_730)


def test_softflowd_ipfix_times_count_from_its_system_init_time() -> None:
    # options record: systemInitTimeMilliseconds 1796197754791; flowStart/EndSysUpTime 49/2551
    start, end = _device_flow("softflowd_ipfix_flow_times")
    assert (start, end) == (_utc(1796197754791 + 49), _utc(1796197754791 + 2551))
    assert _utc(1796197754_840) <= start < end < _utc(1796197757_359)


def test_an_uptime_stamp_from_before_the_exporters_start_reads_as_negative() -> None:
    # softflowd reading a capture exports flows from before its own start: FIRST_SWITCHED is
    # then 2**32 less what came before (python-netflow's recorded v9 packet: uptime 3 ms)
    start, end = _device_flow("v9_templates_and_8_flows", address="127.0.0.1")
    export = _utc(1553946008_000)
    assert export - timedelta(days=1) < start <= end < export


def test_a_record_without_usable_times_takes_the_export_time() -> None:
    base = TimeBase(export_ms=1796197751_000, uptime_ms=2571)
    plain = {"IPV4_SRC_ADDR": "10.0.0.2", "IPV4_DST_ADDR": "192.0.2.1", "IN_BYTES": 10}
    flow = to_flow(plain, base)
    assert flow is not None and flow.start == flow.end == _utc(1796197751_000)
    ends_first = {**plain, "flowStartMilliseconds": 1796197751_000, "flowEndMilliseconds": 5}
    flow = to_flow(ends_first, base)
    assert flow is not None and flow.start == _utc(1796197751_000)
    from_1970 = {**plain, "flowStartSeconds": 10, "flowEndSeconds": 20}
    flow = to_flow(from_1970, base)
    assert flow is not None and flow.end == _utc(1796197751_000)
    exact = {**plain, "flowStartSeconds": 1796197700, "flowEndSeconds": 1796197750}
    flow = to_flow(exact, base)
    assert flow is not None and (flow.start, flow.end) == (
        _utc(1796197700_000),
        _utc(1796197750_000),
    )


def test_spread_over_quarter_hours_adds_up_and_follows_time() -> None:
    start = datetime(2026, 12, 1, 6, 50, tzinfo=UTC)
    slots = spread_over_slots(3_000_001, start, start + timedelta(minutes=30))
    assert sum(slots.values()) == 3_000_001
    quarter = [datetime(2026, 12, 1, h, m, tzinfo=UTC) for h, m in ((6, 45), (7, 0), (7, 15))]
    assert sorted(slots) == quarter
    assert slots[quarter[0]] == 1_000_000  # 10 of the 30 minutes
    assert slots[quarter[1]] == 1_500_000  # 15 of them
    one_instant = spread_over_slots(7, start, start)
    assert one_instant == {quarter[0]: 7}


def _split(
    zone: ZoneInfo, start: datetime, end: datetime, nbytes: int = 6_000_000
) -> tuple[int, int]:
    split = slots_split(spread_over_slots(nbytes, start, end), [NIGHT], zone)
    assert split.inside + split.outside == nbytes
    return split.inside, split.outside


@pytest.mark.parametrize(
    ("local_start", "minutes", "inside_share"),
    [
        ("01:50", 20, 0.5),  # straddles the opening: 10 min before, 10 after
        ("07:30", 60, 0.5),  # straddles the closing
        ("02:00", 15, 1.0),  # exactly inside
        ("08:00", 15, 0.0),  # starts as it closes
        ("01:00", 60 * 8, 6 / 8),  # spans the whole window
    ],
)
def test_a_flow_straddling_a_window_edge_splits_by_its_time_on_each_side(
    local_start: str, minutes: int, inside_share: float
) -> None:
    hours, mins = map(int, local_start.split(":"))
    start = datetime(2026, 12, 1, hours, mins, tzinfo=NEW_YORK).astimezone(UTC)
    inside, _outside = _split(NEW_YORK, start, start + timedelta(minutes=minutes))
    assert inside == round(6_000_000 * inside_share)


def test_the_night_new_york_skips_two_oclock() -> None:
    # 8 March 2026: 02:00 EST never shows; the window opens at the change, 03:00 EDT (07:00
    # UTC), and closes at 08:00 EDT (12:00 UTC): 5 real hours
    opens, closes = datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 3, 8, 12, tzinfo=UTC)
    half = timedelta(minutes=30)
    assert _split(NEW_YORK, opens - half, opens + half) == (3_000_000, 3_000_000)
    assert _split(NEW_YORK, closes - half, closes + half) == (3_000_000, 3_000_000)
    # had the clocks stayed on EST, 08:00 would have been an hour later: all of it inside
    assert _split(ZoneInfo("Etc/GMT+5"), closes - half, closes + half) == (6_000_000, 0)
    whole = _split(NEW_YORK, opens - timedelta(hours=1), closes + timedelta(hours=1), 7_000_000)
    assert whole == (5_000_000, 2_000_000)


def test_the_night_sydney_shows_two_oclock_twice() -> None:
    # 5 April 2026: 03:00 AEDT goes back to 02:00 AEST; the window opens at the first 02:00
    # (15:00 UTC on the 4th) and lasts 7 real hours, to 08:00 AEST (22:00 UTC)
    opens = datetime(2026, 4, 4, 15, tzinfo=UTC)
    assert (
        _split(SYDNEY, opens - timedelta(minutes=30), opens + timedelta(minutes=30))[0] == 3_000_000
    )
    closes = datetime(2026, 4, 4, 22, tzinfo=UTC)
    assert _split(SYDNEY, closes - timedelta(hours=1), closes + timedelta(hours=1))[0] == 3_000_000
    whole = _split(SYDNEY, opens - timedelta(hours=1), closes + timedelta(hours=1), 9_000_000)
    assert whole == (7_000_000, 2_000_000)


def test_a_window_edge_within_a_quarter_hour_spreads_that_quarter_hour() -> None:
    odd = Window(frozenset(range(7)), 2 * 60 + 5, 8 * 60)  # 02:05
    start = datetime(2026, 12, 1, 2, tzinfo=NEW_YORK).astimezone(UTC)
    split = slots_split(spread_over_slots(1_500, start, start + SLOT), [odd], NEW_YORK)
    assert (split.inside, split.outside) == (1_000, 500)


# the summary -------------------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
PLAN = """
[[accounts.allowances]]
name = "anytime"
size = "100 GB"
counts = "outside"
windows = [{days = "mon-sun", from = "02:00", to = "08:00"}]
[[accounts.allowances]]
name = "bonus-zone"
size = "50 GB"
counts = "inside"
windows = [{days = "mon-sun", from = "02:00", to = "08:00"}]
"""


def _summary(tmp_path: Path, flows: bool) -> CycleSummary:
    def fill(store: Store, rule: CycleRule) -> None:
        start = datetime(2026, 11, 1, 4, tzinfo=UTC)  # local midnight, 1 November (EDT)
        store.add_readings(
            [
                Reading("isp", start + timedelta(days=d), start, d * 3 * GB, None, "http_json")
                for d in range(1, 20)
            ]
        )
        if flows:
            # 3 GB at 03:00-04:00 New York (inside the night), 9 GB at noon (outside)
            night = datetime(2026, 11, 10, 8, tzinfo=UTC)
            noon = datetime(2026, 11, 10, 17, tzinfo=UTC)
            slots = {
                **spread_over_slots(3 * GB, night, night + timedelta(hours=1)),
                **spread_over_slots(9 * GB, noon, noon + timedelta(hours=1)),
            }
            store.add_device_traffic(
                "isp", noon, "netflow", [DeviceTraffic("192.168.1.5", 12 * GB)], slots=slots
            )

    netflow = '[[device_sources]]\nkind = "netflow"\naccount = "isp"\n'
    summary: CycleSummary = one_isp_summary(tmp_path, NOW, fill, PLAN + netflow)[1]
    return summary


def test_an_isp_total_splits_as_the_flows_do(tmp_path: Path) -> None:
    summary = _summary(tmp_path, flows=True)
    assert summary.used_bytes == 57 * GB  # the ISP's figure, 19 days in
    plan = {a.name: a for a in summary.allowances}
    assert plan["anytime"].split_known and plan["bonus-zone"].split_known
    assert plan["anytime"].used_bytes == 57 * GB * 3 // 4  # 9 of the flows' 12 GB outside
    assert plan["bonus-zone"].used_bytes == 57 * GB // 4
    for a in plan.values():
        assert a.note is not None and a.note.startswith("estimated from flows")
        assert "25% of their bytes inside the windows" in a.note
        assert a.projected_bytes is not None and a.projected_bytes >= a.used_bytes


def test_without_flows_the_split_stays_unknown(tmp_path: Path) -> None:
    summary = _summary(tmp_path, flows=False)
    for a in summary.allowances:
        assert not a.split_known and a.used_bytes is None and a.note == SPLIT_UNKNOWN


# the store ---------------------------------------------------------------------------------


def test_flow_slots_add_up_in_the_device_write_and_a_bad_one_writes_nothing(
    store_url: str,
) -> None:
    from capwatch.errors import InputError
    from capwatch.store import open_store

    store = open_store(store_url)
    try:
        store.ensure_account("home", "xfinity", "America/New_York")
        at = datetime(2026, 12, 1, 17, 5, tzinfo=UTC)
        quarter = datetime(2026, 12, 1, 17, tzinfo=UTC)
        traffic = [DeviceTraffic("192.168.1.5", 30)]
        for _ in range(2):
            store.add_device_traffic("home", at, "netflow", traffic, slots={quarter: 10, at: 20})
        day = (quarter, quarter + SLOT)
        assert store.flow_slots("home", *day) == {quarter: 60}  # 17:05 is in 17:00's quarter
        assert store.flow_slots("home", quarter + SLOT, quarter + 2 * SLOT) == {}
        with pytest.raises(InputError, match="flow slot"):
            store.add_device_traffic("home", at, "netflow", traffic, slots={quarter: -1})
        assert store.flow_slots("home", *day) == {quarter: 60}
        assert sum(d.bytes for d in store.device_days("home")) == 60  # the device write too
    finally:
        store.close()


def _rolled_over(tmp_path: Path, october_flows: bool) -> int | None:
    """What rolls into November of "bonus-zone" (inside the night, 50 GB, rollover) when
    October's ISP total is 60 GB and its flows were a quarter inside the night (or absent)."""
    october = datetime(2026, 10, 1, 4, tzinfo=UTC)
    november = datetime(2026, 11, 1, 4, tzinfo=UTC)

    def fill(store: Store, rule: CycleRule) -> None:
        def flows(night: datetime, inside: int, outside: int) -> None:
            noon = night + timedelta(hours=9)
            slots = spread_over_slots(inside, night, night + timedelta(hours=1))
            slots.update(spread_over_slots(outside, noon, noon + timedelta(hours=1)))
            traffic = [DeviceTraffic("192.168.1.5", inside + outside)]
            store.add_device_traffic("isp", noon, "netflow", traffic, slots=slots)

        readings = [
            Reading("isp", october + timedelta(days=d), october, d * 2 * GB, None, "http_json")
            for d in range(1, 30)
        ]
        last = november - timedelta(minutes=5)  # capwatch saw October's end
        readings.append(Reading("isp", last, october, 60 * GB, None, "http_json"))
        readings += [
            Reading("isp", november + timedelta(days=d), november, d * GB, None, "http_json")
            for d in range(1, 20)
        ]
        store.add_readings(readings)
        if october_flows:
            flows(datetime(2026, 10, 10, 8, tzinfo=UTC), 1 * GB, 3 * GB)  # 04:00 EDT
        flows(datetime(2026, 11, 10, 8, tzinfo=UTC), 1 * GB, 1 * GB)

    tmp_path.mkdir()
    rollover = "[accounts.allowances.rollover]\nexpires_after = 1\n"  # of "bonus-zone"
    summary: CycleSummary = one_isp_summary(tmp_path, NOW, fill, PLAN + rollover)[1]
    bonus = next(a for a in summary.allowances if a.name == "bonus-zone")
    assert bonus.split_known and bonus.used_bytes == 19 * GB // 2  # November: half inside
    return bonus.rollover_bytes


def test_rollover_uses_each_earlier_cycles_own_flow_share(tmp_path: Path) -> None:
    # October: 60 GB, a quarter inside the night: 15 GB of bonus-zone's 50 used, 35 GB left
    assert _rolled_over(tmp_path / "a", october_flows=True) == 35 * GB
    # without October's flows its split is unknown, and nothing rolls over an unknown cycle
    assert _rolled_over(tmp_path / "b", october_flows=False) == 0
