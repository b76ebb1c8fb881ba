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


def _counts(s: CycleSummary, a: AllowanceSummary) -> str:
    from capwatch.service.advice import window_allowance

    if a.counts == "outside":
        other = window_allowance(s, a)
        then = f"{other.name} then" if other is not None else "free then"
        return f"counts outside {a.windows} ({then})"
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
    """What the light part of a daily bar is, for its legend: the window's use, free or counted
    against the allowance that counts inside it (None when the bars have no such part)."""
    from capwatch.service.advice import window_allowance

    for a in s.allowances:
        if a.counts == "outside" and a.split_known and a.used_bytes is not None:
            other = window_allowance(s, a)
            if other is not None:
                return f"in the window ({a.windows}): counted against {other.name}"
            return f"in the free window ({a.windows}): not counted"
    return None


def plan_context(s: CycleSummary) -> dict[str, Any]:
    """The plan section's context: ``plan`` (items), ``plan_advice`` and ``free_window``."""
    from capwatch.service.advice import plan_advice

    items = [
        AllowanceItem(
            a,
            _counts(s, a),
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
