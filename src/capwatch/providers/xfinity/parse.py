"""Pure parsers for Xfinity's two usage payloads, normalised to one :class:`Snapshot`.

Units. Xfinity's meter counts in "GB" and names its plans in binary terabytes ("1.2 TB = 1229
GB", "1 Terabyte Data Plan" with ``allowableUsage`` 1024). capwatch takes a meter GB as 10**9
bytes (so the number capwatch shows in GB is the number Xfinity shows). The GraphQL gateway
writes caps in TB as decimal figures rounded to two places: real replies give ``{"value": 1.23,
"unit": "TB"}`` for the 1229 GB plan (tests/data/real/xfinity), so a TB there is 1000 meter GB,
and caps are rounded to whole GB: 1.23 TB becomes 1230 GB, within the two places' rounding of
the customer API's 1229.

Dates. Cycles run from ``startDate`` to ``endDate`` inclusive, in the account's time zone; the
snapshot's cycle end is midnight after ``endDate`` (exclusive), in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from capwatch.errors import BadResponse
from capwatch.models import CycleTotal, DeviceUsage, Overage, Snapshot, as_utc

SOURCE = "xfinity"
METER_GB = 10**9
# how many meter GB one unit is worth
_UNIT_GB: dict[str, float] = {"MB": 1 / 1000, "GB": 1.0, "TB": 1000.0}
UNSUPPORTED_PLAN = "does not support the usage meter"


def to_bytes(value: Any, unit: str | None, *, where: str, whole_gb: bool = False) -> int | None:
    """Convert a meter value in ``unit`` to bytes; None stays None; caps round to whole GB."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise BadResponse(f"{where}: expected a number, got {type(value).__name__}")
    try:
        number = float(value)
    except ValueError as exc:
        raise BadResponse(f"{where}: expected a number, got {value!r}") from exc
    key = (unit or "GB").strip().upper()
    factor = _UNIT_GB.get(key)
    if factor is None:
        raise BadResponse(f"{where}: unknown unit {unit!r} (expected MB, GB or TB)")
    gb = number * factor
    if whole_gb:
        gb = float(round(gb))
    if gb < 0:
        raise BadResponse(f"{where}: negative quantity {value!r}")
    return round(gb * METER_GB)


def parse_date(text: Any, *, where: str) -> date:
    """Parse ``MM/DD/YYYY`` (customer API) or ``YYYY-MM-DD`` (GraphQL)."""
    if not isinstance(text, str):
        raise BadResponse(f"{where}: expected a date string, got {type(text).__name__}")
    for fmt in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip()[:10], fmt).date()
        except ValueError:
            continue
    raise BadResponse(f"{where}: bad date {text!r} (expected MM/DD/YYYY or YYYY-MM-DD)")


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return as_utc(datetime.combine(day, time(0), tzinfo=tz))


def cycle_bounds(start: date, end_inclusive: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC bounds of a cycle whose last day is ``end_inclusive``: [start, end + 1 day)."""
    return _midnight(start, tz), _midnight(end_inclusive + timedelta(days=1), tz)


def _as_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _require_mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadResponse(f"{where}: expected an object, got {type(value).__name__}", payload=value)
    return value


def _pick_current(
    months: list[tuple[datetime, datetime, Any]], observed_at: datetime, where: str
) -> int:
    """Index of the month that holds ``observed_at``.

    Right after a rollover the newest month is the one that just closed (Xfinity publishes the
    new month a little later): that month is taken, as the closed cycle's final figure. A month
    missing in the middle of the list is a BadResponse.
    """
    for index, (start, end, _) in enumerate(months):
        if start <= observed_at < end:
            return index
    newest = max(range(len(months)), key=lambda i: months[i][0])
    start, end, _ = months[newest]
    if observed_at >= end:
        return newest
    raise BadResponse(
        f"{where}: no month covers {observed_at.date().isoformat()} "
        f"(newest {start.date().isoformat()}..{end.date().isoformat()})"
    )


# --- the customer API (usageMonths[], oldest first) -------------------------------------------


def _json_devices(
    month: Mapping[str, Any], unit: str | None, where: str
) -> tuple[DeviceUsage, ...]:
    raw = month.get("devices") or []
    if not isinstance(raw, list):
        raise BadResponse(f"{where}.devices: expected a list")
    devices = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping) or not item.get("id"):
            continue
        used = to_bytes(item.get("usage"), unit, where=f"{where}.devices[{i}].usage")
        devices.append(DeviceUsage(device_id=str(item["id"]), used_bytes=used or 0))
    return tuple(devices)


def _json_month(
    month: Mapping[str, Any], tz: ZoneInfo, where: str
) -> tuple[datetime, datetime, CycleTotal]:
    unit = month.get("unitOfMeasure")
    start, end = cycle_bounds(
        parse_date(month.get("startDate"), where=f"{where}.startDate"),
        parse_date(month.get("endDate"), where=f"{where}.endDate"),
        tz,
    )
    used = to_bytes(month.get("homeUsage"), unit, where=f"{where}.homeUsage")
    if used is None:
        used = to_bytes(month.get("totalUsage"), unit, where=f"{where}.totalUsage")
    unlimited = str(month.get("policy") or "").lower() == "unlimited"
    cap = None
    if not unlimited:
        cap = to_bytes(
            month.get("allowableUsage"), unit, where=f"{where}.allowableUsage", whole_gb=True
        )
        cap = cap or None
    total = CycleTotal(
        start=start,
        end=end,
        used_bytes=used if used is not None else -1,
        cap_bytes=cap,
        devices=_json_devices(month, unit, where),
    )
    return start, end, total


def _json_overage(payload: Mapping[str, Any], month: Mapping[str, Any]) -> Overage:
    unit = month.get("unitOfMeasure")
    block = to_bytes(month.get("additionalUnitsPerBlock"), unit, where="additionalUnitsPerBlock")
    return Overage(
        blocks_used=_as_float(month.get("additionalBlocksUsed")),
        cost_per_block=_as_float(month.get("additionalCostPerBlock")),
        bytes_per_block=block,
        max_charge=_as_float(month.get("maximumOverageCharge")),
        charges=_as_float(month.get("overageCharges")),
        in_paid_overage=_as_bool(payload.get("inPaidOverage")),
        courtesy_used=_as_int(payload.get("courtesyUsed")),
        courtesy_remaining=_as_int(payload.get("courtesyRemaining")),
        courtesy_allowed=_as_int(payload.get("courtesyAllowed")),
    )


def parse_usage_json(payload: Any, *, tz: ZoneInfo, observed_at: datetime) -> Snapshot:
    """Parse the customer API's usage JSON (``usageMonths[]``, oldest first)."""
    body = _require_mapping(payload, "usage")
    raw_months = body.get("usageMonths")
    if not isinstance(raw_months, list) or not raw_months:
        raise BadResponse("usage.usageMonths: missing or empty", payload=payload)
    months = []
    for i, m in enumerate(raw_months):
        where = f"usage.usageMonths[{i}]"
        start, end, total = _json_month(_require_mapping(m, where), tz, where)
        months.append((start, end, (total, m)))
    idx = _pick_current(months, as_utc(observed_at), "usage.usageMonths")
    current, month = months[idx][2]
    if current.used_bytes < 0:
        raise BadResponse(
            f"usage.usageMonths[{idx}]: homeUsage and totalUsage are both null", payload=payload
        )
    unlimited = str(month.get("policy") or "").lower() == "unlimited"
    history = tuple(m[2][0] for j, m in enumerate(months) if j != idx and m[2][0].used_bytes >= 0)
    return Snapshot(
        observed_at=as_utc(observed_at),
        source=SOURCE,
        used_bytes=current.used_bytes,
        cap_bytes=None if unlimited else current.cap_bytes,
        unlimited=unlimited,
        cycle_start=current.start,
        cycle_end=current.end,
        units=str(month.get("unitOfMeasure") or "GB"),
        devices=current.devices,
        history=history,
        overage=_json_overage(body, month),
        raw=dict(body),
    )


def is_unsupported_plan(status: int, text: str) -> bool:
    """True for the customer API's 404 "Plan does not support the usage meter feature"."""
    return status == 404 and UNSUPPORTED_PLAN in text.lower()


def unlimited_snapshot(*, observed_at: datetime, message: str) -> Snapshot:
    """The snapshot for a plan without a usage meter (an unlimited plan)."""
    return Snapshot(
        observed_at=as_utc(observed_at),
        source=SOURCE,
        unlimited=True,
        raw={"unsupported": message[:200]},
    )
