"""Pure parser for the GraphQL usage shape (``monthlyUsage[]``, newest first).

Same units and cycle rules as :mod:`capwatch.providers.xfinity.parse`, so a plan read through
either API gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from capwatch.errors import AuthRequired, BadResponse
from capwatch.models import CycleTotal, Overage, Snapshot, as_utc
from capwatch.providers.xfinity.parse import (
    SOURCE,
    _as_bool,
    _as_float,
    _as_int,
    _pick_current,
    _require_mapping,
    cycle_bounds,
    parse_date,
    to_bytes,
)

_AUTH_CODES = {"UNAUTHENTICATED", "UNAUTHORIZED", "FORBIDDEN"}


def find_usage(node: Any, depth: int = 0) -> Mapping[str, Any] | None:
    """Find the object holding ``monthlyUsage`` anywhere under ``data`` (wrappers change)."""
    if depth > 8:
        return None
    if isinstance(node, Mapping):
        if isinstance(node.get("monthlyUsage"), list):
            return node
        for value in node.values():
            found = find_usage(value, depth + 1)
            if found is not None:
                return found
    return None


def check_errors(payload: Mapping[str, Any]) -> None:
    """Raise AuthRequired or BadResponse for a GraphQL ``errors`` list."""
    errors = payload.get("errors")
    if not errors or not isinstance(errors, list):
        return
    codes = set()
    for err in errors:
        if isinstance(err, Mapping):
            ext = err.get("extensions")
            if isinstance(ext, Mapping) and isinstance(ext.get("code"), str):
                codes.add(ext["code"].upper())
    if codes & _AUTH_CODES:
        raise AuthRequired(f"graphql: {sorted(codes & _AUTH_CODES)[0]}: session expired")
    if find_usage(payload.get("data")) is None:
        names = ", ".join(sorted(codes)) or "unnamed error"
        raise BadResponse(f"graphql: errors ({names}) and no usage data", payload=payload)


def _quantity(node: Any, where: str, *, whole_gb: bool = False) -> int | None:
    if node is None:
        return None
    q = _require_mapping(node, where)
    return to_bytes(q.get("value"), q.get("unit"), where=f"{where}.value", whole_gb=whole_gb)


def _month(m: Mapping[str, Any], tz: ZoneInfo, where: str) -> tuple[datetime, datetime, Any]:
    start, end = cycle_bounds(
        parse_date(m.get("startDate"), where=f"{where}.startDate"),
        parse_date(m.get("endDate"), where=f"{where}.endDate"),
        tz,
    )
    unlimited = str(m.get("policy") or "").lower() == "unlimited"
    used = _quantity(m.get("currentUsage"), f"{where}.currentUsage")
    cap = (
        None
        if unlimited
        else _quantity(m.get("allowableUsage"), f"{where}.allowableUsage", whole_gb=True)
    )
    total = CycleTotal(
        start=start, end=end, used_bytes=-1 if used is None else used, cap_bytes=cap or None
    )
    return start, end, (total, m)


def _overage(usage: Mapping[str, Any], month: Mapping[str, Any]) -> Overage:
    courtesy = usage.get("courtesy") if isinstance(usage.get("courtesy"), Mapping) else {}
    assert isinstance(courtesy, Mapping)
    return Overage(
        blocks_used=None,
        cost_per_block=None,
        bytes_per_block=None,
        max_charge=_as_float(month.get("maximumOverageCharge")),
        charges=_as_float(month.get("overageCharge")),
        in_paid_overage=_as_bool(usage.get("inPaidOverage")),
        courtesy_used=_as_int(courtesy.get("usedCourtesy")),
        courtesy_remaining=_as_int(courtesy.get("remainingCourtesy")),
        courtesy_allowed=_as_int(courtesy.get("totalAllowableCourtesy")),
    )


def parse_usage_graphql(payload: Any, *, tz: ZoneInfo, observed_at: datetime) -> Snapshot:
    """Parse the GraphQL ``InternetDataUsage`` answer into a Snapshot."""
    body = _require_mapping(payload, "graphql")
    check_errors(body)
    usage = find_usage(body.get("data"))
    if usage is None:
        raise BadResponse("graphql: no monthlyUsage under data", payload=payload)
    raw_months = usage["monthlyUsage"]
    if not raw_months:
        raise BadResponse("graphql.monthlyUsage: empty", payload=payload)
    months = [
        _month(_require_mapping(m, f"graphql.monthlyUsage[{i}]"), tz, f"graphql.monthlyUsage[{i}]")
        for i, m in enumerate(raw_months)
    ]
    idx = _pick_current(months, as_utc(observed_at), "graphql.monthlyUsage")
    current, month = months[idx][2]
    if current.used_bytes < 0:
        raise BadResponse(f"graphql.monthlyUsage[{idx}].currentUsage: null", payload=payload)
    unlimited = str(month.get("policy") or "").lower() == "unlimited"
    earlier = [m[2][0] for j, m in enumerate(months) if j != idx and m[2][0].used_bytes >= 0]
    unit = (
        (month.get("currentUsage") or {}).get("unit")
        if isinstance(month.get("currentUsage"), Mapping)
        else None
    )
    return Snapshot(
        observed_at=as_utc(observed_at),
        source=SOURCE,
        used_bytes=current.used_bytes,
        cap_bytes=None if unlimited else current.cap_bytes,
        unlimited=unlimited,
        cycle_start=current.start,
        cycle_end=current.end,
        units=str(unit or "GB"),
        history=tuple(sorted(earlier, key=lambda c: c.start)),
        overage=_overage(usage, month),
        raw=dict(body),
    )


def parse_any(payload: Any, *, tz: ZoneInfo, observed_at: datetime) -> Snapshot:
    """Parse either shape, told apart by ``usageMonths`` versus ``data``/``errors``."""
    from capwatch.providers.xfinity.parse import parse_usage_json

    if isinstance(payload, Mapping) and ("data" in payload or "errors" in payload):
        return parse_usage_graphql(payload, tz=tz, observed_at=observed_at)
    return parse_usage_json(payload, tz=tz, observed_at=observed_at)
