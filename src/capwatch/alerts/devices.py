"""The ``device_spike`` rule: a device's day well above its usual day (pure).

Level ``<device key>@<day>``: each device and day is its own latch entry, so a spike fires
once for that device and day however often it is evaluated, and a spike the next day fires
again. The condition is an episode (not bound to the cycle); once the day is no longer the
one evaluated, its entry is cleared quietly (an empty resolve message: nothing is sent).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from capwatch.alerts.rules import Condition
from capwatch.analysis.devices import DevicesView
from capwatch.models import AlertState
from capwatch.units import format_bytes

RULE = "device_spike"


class SpikeSettingsLike(Protocol):
    """The two thresholds (``capwatch.config.AlertSettings`` has them)."""

    @property
    def device_spike_factor(self) -> float: ...
    @property
    def device_spike_min_bytes(self) -> int: ...


def spike_conditions(
    view: DevicesView, cfg: SpikeSettingsLike, previous: Iterable[AlertState]
) -> list[Condition]:
    """One condition per device on the view's day, and a quiet clear for older active days."""
    day = view.day.isoformat()
    out: list[Condition] = []
    for row in view.rows:
        if row.isp:  # the ISP's whole-GB figures land when polled: a gap would look a spike
            continue
        usual = row.usual_bytes
        ratio = row.day_bytes / usual if usual else None
        over = (
            ratio is not None
            and ratio > cfg.device_spike_factor
            and row.day_bytes >= cfg.device_spike_min_bytes
        )
        message = (
            f"{row.name} used {format_bytes(row.day_bytes)} yesterday ({view.day:%a %b %-d}), "
            f"{ratio:.0f}x its usual ({format_bytes(usual)})"
            if over and ratio is not None
            else ""
        )
        out.append(
            Condition(
                view.account,
                RULE,
                f"{row.key}@{day}",
                float(row.day_bytes),
                over,
                message,
                clear=False,
                per_cycle=False,
            )
        )
    current = {c.level for c in out}
    for st in previous:
        if st.rule == RULE and st.active and st.level not in current:
            out.append(
                Condition(
                    view.account,
                    RULE,
                    st.level,
                    st.last_value,
                    False,
                    "",
                    clear=True,
                    per_cycle=False,
                )
            )
    return out
