"""What the account page's plan section (``plan.html``) shows of each allowance, worded from
the summary by the shared formatters (the alert texts' wording for what happens at its end)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capwatch.models import AllowanceSummary, CycleSummary
from capwatch.units import format_bytes, format_range


@dataclass(frozen=True, slots=True)
class AllowanceItem:
    """One allowance with the words the page puts beside its figures."""

    a: AllowanceSummary
    counts: str
    size_parts: str
    range: str
    at_end: str


def _counts(a: AllowanceSummary) -> str:
    if a.counts == "outside":
        return f"counts outside {a.windows} (free then)"
    if a.counts == "inside":
        return f"counts inside {a.windows}"
    return "counts all traffic"


def _size_parts(a: AllowanceSummary) -> str:
    parts = []
    if a.rollover_bytes:
        parts.append(f"+{format_bytes(a.rollover_bytes)} rolled over")
    if a.topup_bytes:
        parts.append(f"+{format_bytes(a.topup_bytes)} top-ups")
    return f" ({', '.join(parts)})" if parts else ""


def _end(a: AllowanceSummary) -> str:
    from capwatch.alerts.plan import at_end_text

    text = at_end_text(a)
    if a.at_end == "overage" and not text:
        return "overage may be charged"
    text = text.removeprefix("when it runs out ")
    return text[:1].upper() + text[1:] if text else "-"


def free_window(s: CycleSummary) -> str | None:
    """The free window as the daily bars' legend says it, when the bars have a free part."""
    for a in s.allowances:
        if a.counts == "outside" and a.split_known and a.used_bytes is not None:
            return a.windows
    return None


def plan_context(s: CycleSummary) -> dict[str, Any]:
    """The plan section's context: ``plan`` (items), ``plan_advice`` and ``free_window``."""
    from capwatch.service.advice import plan_advice

    items = [
        AllowanceItem(
            a,
            _counts(a),
            _size_parts(a),
            ""
            if a.projected_low_bytes is None or a.projected_high_bytes is None
            else f"likely {format_range(a.projected_low_bytes, a.projected_high_bytes)}",
            _end(a),
        )
        for a in s.allowances
    ]
    return {"plan": items, "plan_advice": plan_advice(s), "free_window": free_window(s)}


__all__ = ["AllowanceItem", "plan_context"]
