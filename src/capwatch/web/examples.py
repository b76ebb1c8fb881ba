"""Examples of every API answer for the OpenAPI spec, built by the code that builds the answers.

One made-up account ("home", 1229 GB cap, New York cycles from the 1st) read once a day in
November 2026, summarised at :data:`AS_OF` by :func:`capwatch.analysis.summary.summarize` and
serialised by :mod:`capwatch.service.serialize`: the figures in the examples agree with each
other the way the real answers do, because they come from the same functions.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from capwatch import __version__

ACCOUNT = "home"
ZONE = ZoneInfo("America/New_York")
AS_OF = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
CAP = 1229 * 10**9
PER_DAY = 47 * 10**9


def _readings() -> list[Any]:
    from capwatch.analysis.cycles import CycleRule
    from capwatch.models import Reading

    cycle = CycleRule(1, ZONE).cycle_at(AS_OF)
    out, at, used = [], cycle.start + timedelta(hours=14, minutes=40), 0
    while at <= AS_OF - timedelta(minutes=20):
        used += PER_DAY
        out.append(Reading(ACCOUNT, at, cycle.start, used, CAP, "xfinity"))
        at += timedelta(days=1)
    return out


def _summary() -> Any:
    from capwatch.analysis.cycles import CycleRule
    from capwatch.analysis.plan import AllowanceInput
    from capwatch.analysis.summary import summarize

    readings = _readings()
    # the plan's one allowance, counting all traffic, with a 50 GB top-up bought this cycle
    plan = [AllowanceInput("monthly", "all", "overage", CAP, topup_bytes=50 * 10**9)]
    return summarize(
        account=ACCOUNT,
        cycle=CycleRule(1, ZONE).cycle_at(AS_OF),
        readings=readings,
        cap_bytes=CAP,
        now=AS_OF,
        last_success_at=readings[-1].observed_at,
        tz=ZONE,
        provider="xfinity",
        allowances=plan,
    )


def _alerts(summary: Any) -> list[dict[str, Any]]:
    """The latched states the default alert rules leave at :data:`AS_OF`, active first."""
    from capwatch.alerts.latch import step
    from capwatch.alerts.rules import evaluate
    from capwatch.config.account import AlertSettings
    from capwatch.service.serialize import _iso

    conditions = evaluate(
        summary, AlertSettings(), auth_required=False, disagreement_percent=None, tz=ZONE
    )
    states, _ = step(conditions, {}, summary.cycle.start, summary.as_of)
    return [
        {
            "rule": s.rule,
            "level": s.level,
            "active": s.active,
            "cycle_start": _iso(s.cycle_start),
            "fired_at": _iso(s.fired_at),
            "resolved_at": _iso(s.resolved_at),
            "message": s.message,
        }
        for s in sorted(states, key=lambda s: (not s.active, s.rule))
    ]


def _error(loc: list[str | int], kind: str, msg: str, **more: Any) -> dict[str, Any]:
    return {"detail": [{"type": kind, "loc": loc, "msg": msg, **more}]}


def _limit_error(name: str, maximum: int, value: int) -> dict[str, Any]:
    return _error(
        ["query", name],
        "less_than_equal",
        f"Input should be less than or equal to {maximum}",
        input=str(value),
        ctx={"le": maximum},
    )


NAME_TOO_LONG = _error(
    ["path", "name"],
    "string_too_long",
    "String should have at most 100 characters",
    ctx={"max_length": 100},
)
REFUSALS = {
    "401": {"detail": "authentication required"},
    "403": {"detail": "missing X-Capwatch-Request: 1 header"},
    "404": {"detail": f"unknown account {'basement'!r}"},
    "503": {"detail": "polling is not running in this process"},
}


def _devices_example(summary: Any) -> dict[str, Any]:
    """Who used it, three days into the example's cycle: two devices, built the way the route
    builds its answer (:func:`capwatch.analysis.devices.devices_view`, then ``view_dict``)."""
    from capwatch.analysis.devices import devices_view
    from capwatch.models import Device, DeviceDay
    from capwatch.service.devices import view_dict

    start = summary.cycle.start.astimezone(ZONE).date()
    days = [start + timedelta(days=i) for i in range(3)]
    seen = summary.cycle.start
    tv = Device(ACCOUNT, "mac:aa:bb:cc:00:00:01", "aa:bb:cc:00:00:01", "Living-room TV", None,
                seen, seen, ("192.168.1.20", "fd00::20"))  # fmt: skip
    laptop = Device(ACCOUNT, "ip:192.168.1.31", None, None, None, seen, seen, ("192.168.1.31",))
    counted = [(tv, (14, 12, 86)), (laptop, (3, 4, 2))]
    device_days = [
        DeviceDay(d.key, day, "netflow", gb * 10**9)
        for d, series in counted
        for day, gb in zip(days, series, strict=True)
    ]
    meter = dict(zip(days, (20 * 10**9, 18 * 10**9, 92 * 10**9), strict=True))
    view = devices_view(
        ACCOUNT,
        [tv, laptop],
        device_days,
        days,
        days[-1],
        meter_bytes=sum(meter.values()),
        meter_daily=meter,
    )
    return view_dict(summary.cycle, view)


def _ok_examples() -> dict[str, Any]:
    """The 200 example of each operation, keyed by "METHOD path"."""
    from capwatch.models import PollLogEntry, PollOutcome
    from capwatch.service import serialize
    from capwatch.store.api import CycleRecord
    from capwatch.web.burndown import burndown_dict

    summary = _summary()
    readings = _readings()
    latest = readings[-1]
    samples = [(r.observed_at, r.used_bytes) for r in readings]
    october = CycleRecord(
        ACCOUNT,
        datetime(2026, 10, 1, 4, tzinfo=UTC),
        summary.cycle.start,
        1187 * 10**9,
        CAP,
        31,
        datetime(2026, 10, 1, 19, tzinfo=UTC),
        datetime(2026, 11, 1, 3, 40, tzinfo=UTC),
        "xfinity",
    )
    failed = PollLogEntry(
        ACCOUNT,
        latest.observed_at - timedelta(hours=1),
        10.0,
        PollOutcome.CONNECT,
        "CannotConnect",
        "xfinity: timed out: GET /apis/csp/account/me/services/internet/usage",
    )
    ok = PollLogEntry(ACCOUNT, latest.observed_at, 0.8, PollOutcome.OK, reading_stored=True)
    prefix = "/api/v1/accounts"
    return {
        "GET /healthz": {
            "status": "ok",
            "version": __version__,
            "store_writable": True,
            "store_error": None,
            "last_poll": "ok",
        },
        f"GET {prefix}": [serialize.summary_to_dict(summary)],
        f"GET {prefix}/{{name}}": serialize.summary_to_dict(summary),
        f"GET {prefix}/{{name}}/burndown": burndown_dict(summary, samples, 90.0, ZONE, 400),
        f"GET {prefix}/{{name}}/readings": [serialize.reading_to_dict(r) for r in readings[-2:]],
        f"GET {prefix}/{{name}}/cycles": [serialize.cycle_to_dict(october, AS_OF)],
        f"GET {prefix}/{{name}}/devices": [
            {"device_id": "aa:bb:cc:00:00:01", "name": "Living room TV", "used_bytes": 402 * 10**9},
            {"device_id": "aa:bb:cc:00:00:02", "name": None, "used_bytes": 96 * 10**9},
        ],
        f"GET {prefix}/{{name}}/devices/daily": _devices_example(summary),
        f"PUT {prefix}/{{name}}/devices/{{key}}/name": {
            "account": ACCOUNT,
            "key": "mac:aa:bb:cc:00:00:01",
            "name": "Living-room TV",
        },
        f"GET {prefix}/{{name}}/alerts": _alerts(summary),
        f"GET {prefix}/{{name}}/polls": [serialize.poll_entry_to_dict(e) for e in (ok, failed)],
        f"POST {prefix}/{{name}}/poll": {
            "account": ACCOUNT,
            "outcome": "ok",
            "stored": True,
            "skipped": False,
            "message": None,
            "reading": serialize.reading_to_dict(latest),
        },
    }


@functools.cache
def examples() -> dict[str, dict[str, Any]]:
    """Example bodies by "METHOD path", then by status code (as the spec writes it)."""
    prefix = "/api/v1/accounts"
    invalid = {
        f"GET {prefix}/{{name}}": NAME_TOO_LONG,
        f"GET {prefix}/{{name}}/burndown": _limit_error("points", 5000, 10000),
        f"GET {prefix}/{{name}}/readings": _error(
            ["query", "start"],
            "timezone_aware",
            "start: a UTC offset is required",
            input="2026-11-01T00:00:00",
        ),
        f"GET {prefix}/{{name}}/cycles": _limit_error("limit", 240, 1000),
        f"GET {prefix}/{{name}}/devices": NAME_TOO_LONG,
        f"GET {prefix}/{{name}}/devices/daily": _error(
            ["query", "cycle"],
            "string_pattern_mismatch",
            "String should match pattern '^\\d{4}-(0[1-9]|1[0-2])$'",
            input="2026-13",
        ),
        f"PUT {prefix}/{{name}}/devices/{{key}}/name": NAME_TOO_LONG,
        f"GET {prefix}/{{name}}/alerts": NAME_TOO_LONG,
        f"GET {prefix}/{{name}}/polls": _limit_error("limit", 500, 1000),
        f"POST {prefix}/{{name}}/poll": NAME_TOO_LONG,
    }
    out: dict[str, dict[str, Any]] = {}
    for key, body in _ok_examples().items():
        out[key] = {"200": body, **REFUSALS}
        if key in invalid:
            out[key]["422"] = invalid[key]
    return out
