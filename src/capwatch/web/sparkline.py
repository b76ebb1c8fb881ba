"""The overview's small burndown per account, as SVG coordinates for the template to place.

It reads the same burndown payload the account page's chart draws (and so the same forecast as
every other surface); only the geometry is worked out here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

W, H, PAD = 240.0, 64.0, 3.0


@dataclass(frozen=True, slots=True)
class Sparkline:
    """Point lists ("x,y x,y") and the cap's height in a ``W`` x ``H`` view box."""

    used: str
    prorata: str
    forecast: str
    band: str
    cap_y: float | None
    width: float = W
    height: float = H


def _t(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def sparkline(payload: dict[str, Any]) -> Sparkline | None:
    """The small chart of a burndown payload; None before the cycle has a reading."""
    used = payload["used"]
    if not used:
        return None
    start, end = _t(payload["cycle"]["start"]), _t(payload["cycle"]["end"])
    cap = payload["cap_bytes"]
    fc = payload["forecast"]
    top = max([p["bytes"] for p in used] + [cap or 0] + ([fc["high_bytes"]] if fc else []))
    top = max(top * 1.05, 1)

    def x(t: float) -> float:
        return PAD + (W - 2 * PAD) * min(max((t - start) / max(end - start, 1), 0.0), 1.0)

    def y(b: float) -> float:
        return float(H - PAD - (H - 2 * PAD) * b / top)

    def pts(items: list[tuple[float, float]]) -> str:
        return " ".join(f"{a:.1f},{b:.1f}" for a, b in items)

    line = [(x(_t(p["t"])), y(p["bytes"])) for p in used]
    prorata = pts([(x(start), y(0)), (x(end), y(cap))]) if cap else ""
    forecast = band = ""
    if fc:
        last = line[-1]
        forecast = pts([last, (x(end), y(fc["expected_bytes"]))])
        band = pts([last, (x(end), y(fc["high_bytes"])), (x(end), y(fc["low_bytes"]))])
    return Sparkline(pts(line), prorata, forecast, band, round(y(cap), 1) if cap else None)
