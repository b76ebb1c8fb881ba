"""The past-cycles chart (`capwatch chart --history`, the monthly email's history): one bar per
cycle against its cap, an empty labelled slot for each cycle capwatch has no figure of, and tick
and value labels thinned until none touches another."""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from statistics import median
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from capwatch.charts.data import GB
from capwatch.charts.render import (
    ALARM,
    CAP,
    OVER,
    PRO_RATA,
    USED,
    Format,
    Theme,
    _new_figure,
    _rc,
    _save,
    _style,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class CycleLike(Protocol):
    """What :func:`render_history` reads of a cycle (a ``CycleRecord`` fits)."""

    @property
    def cycle_start(self) -> datetime:
        """Start of the cycle (aware UTC)."""

    @property
    def used_bytes(self) -> int:
        """Usage of the cycle in bytes."""

    @property
    def cap_bytes(self) -> int | None:
        """Cap of the cycle in bytes, None when unlimited."""


def draw_history(
    cycles: Sequence[CycleLike],
    *,
    zone: str = "UTC",
    width_px: int = 800,
    height_px: int = 500,
    dark: bool = False,
    title: str = "",
) -> Figure:
    """Build the past-cycles figure: one slot per cycle (empty where missing), caps, red overs."""
    import matplotlib

    theme = Theme.pick(dark)
    ordered = sorted(cycles, key=lambda c: c.cycle_start)
    slots, monthly = _history_slots(ordered, ZoneInfo(zone))
    with matplotlib.rc_context(_rc(theme)):
        fig = _new_figure(width_px, height_px, theme)
        ax = fig.subplots()
        _style(ax, theme)
        ax.grid(False, axis="x")
        _history_bars(ax, slots)
        ax.set_xlim(-0.6, len(slots) - 0.4)
        peak = max([1.0, *(max(c.used_bytes, c.cap_bytes or 0) / GB for c in ordered)])
        ax.set_ylim(0, peak * 1.15)
        ax.set_ylabel("GB per cycle")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, borderaxespad=0)
        ax.set_title(title or "Usage by billing cycle", loc="left", fontweight="bold")
        fig.subplots_adjust(left=0.12, right=0.97, top=0.88, bottom=0.16)
        canvas: Any = fig.canvas
        renderer = canvas.get_renderer()
        labelled = _history_ticks(ax, slots, monthly, renderer)
        _no_data_marks(ax, slots, labelled, monthly)
        _value_labels(ax, slots, theme, renderer)
    return fig


@dataclass(frozen=True, slots=True)
class _Slot:
    """One place on the history chart's x axis: a stored cycle, or a missing one (None)."""

    start: datetime
    """Start of the cycle in the chart's zone (estimated for a missing cycle)."""
    cycle: CycleLike | None


MAX_HISTORY_SLOTS = 60
"""At most this many slots (five years of months) are drawn: the newest ones."""


def _history_slots(ordered: Sequence[CycleLike], tz: ZoneInfo) -> tuple[list[_Slot], bool]:
    """A slot per cycle of the span, empty ones for missing cycles; and whether cycles are monthly.

    The step is the median gap between cycle starts. Calendar-monthly cycles (a step of 28-31
    days, one start a month on about the same day) count the missing months; other plans (28 or
    30 days, ...) count a gap of 1.5 steps or more as ``round(gap / step)`` cycles.
    """
    local = [c.cycle_start.astimezone(tz) for c in ordered]
    if len(ordered) < 2:
        return [_Slot(t, c) for t, c in zip(local, ordered, strict=True)], True
    gaps = [b.cycle_start - a.cycle_start for a, b in pairwise(ordered)]
    step = median(g.total_seconds() for g in gaps) / 86400
    months = [_month_index(t) for t in local]
    monthly = (
        27.5 <= step <= 31.6
        and all(b > a for a, b in pairwise(months))
        and max(t.day for t in local) - min(t.day for t in local) <= 3
    )
    slots = [_Slot(local[0], ordered[0])]
    for i, gap in enumerate(gaps):
        days = gap.total_seconds() / 86400
        if monthly:
            count = months[i + 1] - months[i]
        else:
            count = max(round(days / step), 1) if step > 0 and days >= 1.5 * step else 1
        for k in range(1, count):
            when = (
                _add_months(local[i], k)
                if monthly
                else (ordered[i].cycle_start + gap * k / count).astimezone(tz)
            )
            slots.append(_Slot(when, None))
        slots.append(_Slot(local[i + 1], ordered[i + 1]))
    return slots[-MAX_HISTORY_SLOTS:], monthly


def _add_months(t: datetime, k: int) -> datetime:
    """``t`` moved on ``k`` calendar months, the day clamped to the month's length."""
    index = _month_index(t) + k
    year, month = divmod(index, 12)
    return t.replace(year=year, month=month + 1, day=min(t.day, monthrange(year, month + 1)[1]))


def _history_bars(ax: Any, slots: Sequence[_Slot]) -> None:
    """A bar per stored cycle with its cap as a short line across it; none where one is missing."""
    labelled = False
    for x, slot in enumerate(slots):
        c = slot.cycle
        if c is None:
            continue
        ax.bar(x, c.used_bytes / GB, color=_bar_colour(c), width=0.7, gid=f"cw-cycle-{x}")
        if c.cap_bytes:
            ax.plot(
                [x - 0.42, x + 0.42],
                [c.cap_bytes / GB] * 2,
                color=CAP,
                lw=3,
                gid=f"cw-cap-{x}",
                label="_nolegend_" if labelled else "Cap",
            )
            labelled = True


def _no_data_marks(ax: Any, slots: Sequence[_Slot], labelled: Sequence[int], monthly: bool) -> None:
    """An upright "no data" in each missing cycle's slot, naming the month if its tick does not."""
    for x, slot in enumerate(slots):
        if slot.cycle is not None:
            continue
        text = "no data" if x in labelled else f"{_slot_label(slot, monthly)}: no data"
        ax.text(
            x,
            0.02,
            text,
            transform=ax.get_xaxis_transform(),
            rotation=90,
            ha="center",
            va="bottom",
            fontsize=11,
            fontstyle="italic",
            color=PRO_RATA,
            gid=f"cw-nodata-{x}",
        )


def _history_ticks(ax: Any, slots: Sequence[_Slot], monthly: bool, renderer: Any) -> list[int]:
    """Month (or date) labels with the year beneath where it changes, thinned until none touch.

    Every slot keeps a small tick; a label goes on every k-th slot, the smallest k at which
    neighbouring labels keep apart (monthly: k of 1, 2, 3, 4, 6 or 12 months, on Jan, Apr, ...
    for 3; otherwise counted back from the newest cycle). Returns the labelled slots.
    """
    n = len(slots)
    ax.set_xticks(range(n), minor=True)
    ax.tick_params(axis="x", which="minor", length=3)
    slot_px = ax.get_window_extent(renderer).width / max(n, 1)
    steps = [1, 2, 3, 4, 6, *range(12, n + 12, 12)] if monthly else list(range(1, n + 1))
    keep: list[int] = []
    years: list[int] = []
    for k in steps:
        if monthly:
            keep = [i for i, s in enumerate(slots) if _month_index(s.start) % k == 0]
        else:
            keep = [i for i in range(n) if (n - 1 - i) % k == 0]
        ax.set_xticks(keep, [_slot_label(slots[i], monthly) for i in keep])
        labels = ax.get_xticklabels()
        widths = [t.get_window_extent(renderer).width for t in labels]
        years = [
            i for j, i in enumerate(keep) if j == 0 or _year(slots, i) != _year(slots, keep[j - 1])
        ]
        year_widths = [_text_width(ax, str(_year(slots, i)), labels[0], renderer) for i in years]
        if _apart(keep, widths, slot_px) and _apart(years, year_widths, slot_px):
            break
    _year_row(ax, slots, years, renderer)
    return keep


def _month_index(t: datetime) -> int:
    """Months since year 0, so that consecutive months differ by one."""
    return t.year * 12 + t.month - 1


def _year(slots: Sequence[_Slot], i: int) -> int:
    """The (local) year of slot ``i``."""
    return slots[i].start.year


def _slot_label(slot: _Slot, monthly: bool) -> str:
    """The tick text: "Jan" for a calendar month, "Jan 3" for a cycle of a fixed length."""
    return f"{slot.start:%b}" if monthly else f"{slot.start:%b} {slot.start.day}"


def _text_width(ax: Any, text: str, like: Any, renderer: Any) -> float:
    """Width in pixels of ``text`` set in the font of the text ``like``."""
    probe = ax.text(0, 0, text, fontproperties=like.get_fontproperties())
    width = float(probe.get_window_extent(renderer).width)
    probe.remove()
    return width


def _apart(xs: Sequence[int], widths: Sequence[float], slot_px: float) -> bool:
    """True when labels centred on slots ``xs`` (ascending) leave 5 px between neighbours."""
    return all(
        (xs[j + 1] - xs[j]) * slot_px >= (widths[j] + widths[j + 1]) / 2 + 5
        for j in range(len(xs) - 1)
    )


def _year_row(ax: Any, slots: Sequence[_Slot], at: Sequence[int], renderer: Any) -> None:
    """The year, in a row beneath the month labels, under the slots ``at``."""
    labels = ax.get_xticklabels()
    if not labels:
        return
    bottom = min(t.get_window_extent(renderer).y0 for t in labels)
    drop = (ax.get_window_extent(renderer).y0 - bottom) * 72 / ax.figure.dpi + 2
    for i in at:
        ax.annotate(
            str(_year(slots, i)),
            (i, 0),
            xycoords=ax.get_xaxis_transform(),
            xytext=(0, -drop),
            textcoords="offset points",
            ha="center",
            va="top",
            fontproperties=labels[0].get_fontproperties(),
            color=labels[0].get_color(),
            gid=f"cw-year-{i}",
        )


def _value_labels(ax: Any, slots: Sequence[_Slot], theme: Theme, renderer: Any) -> None:
    """Each bar's GB on top when all fit (12 pt down to 10 pt), else the latest, overs and peak."""
    bars = [(x, s.cycle) for x, s in enumerate(slots) if s.cycle is not None]
    for size in (12, 11, 10):
        if _place_values(ax, bars, theme, renderer, size, all_or_none=True):
            return
    overs = sorted(
        (b for b in bars if b[1].cap_bytes and b[1].used_bytes > b[1].cap_bytes),
        key=lambda b: -b[1].used_bytes,
    )
    peak = max(bars, key=lambda b: b[1].used_bytes, default=None)
    chosen: list[tuple[int, CycleLike]] = []
    for bar in [*bars[-1:], *overs, *([peak] if peak else [])]:
        if bar not in chosen:
            chosen.append(bar)
    _place_values(ax, chosen, theme, renderer, 12, all_or_none=False)


def _place_values(
    ax: Any,
    bars: Sequence[tuple[int, CycleLike]],
    theme: Theme,
    renderer: Any,
    size: float,
    *,
    all_or_none: bool,
) -> bool:
    """Annotate bars in order, dropping one that would touch an earlier one; True if none was.

    With ``all_or_none`` a clash removes every label placed so far.
    """
    boxes: list[Any] = []
    placed: list[Any] = []
    for x, c in bars:
        ann = ax.annotate(
            f"{c.used_bytes / GB:,.0f}",
            (x, c.used_bytes / GB),
            ha="center",
            va="bottom",
            xytext=(0, 4),
            textcoords="offset points",
            fontsize=size,
            gid=f"cw-value-{x}",
            bbox={"facecolor": theme.face, "edgecolor": "none", "alpha": 0.8, "pad": 1},
        )
        box = ann.get_window_extent(renderer).padded(2)
        if any(box.overlaps(b) for b in boxes):
            ann.remove()
            if all_or_none:
                for a in placed:
                    a.remove()
                return False
            continue
        boxes.append(box)
        placed.append(ann)
    return True


def _bar_colour(c: CycleLike) -> str:
    """Red over the cap, orange within 10% of it, blue otherwise."""
    if not c.cap_bytes:
        return USED
    ratio = c.used_bytes / c.cap_bytes
    return OVER if ratio > 1 else ALARM if ratio >= 0.9 else USED


def render_history(
    cycles: Sequence[CycleLike],
    fmt: Format = "png",
    *,
    zone: str = "UTC",
    width_px: int = 800,
    height_px: int = 500,
    scale: float = 2.0,
    dark: bool = False,
    title: str = "",
) -> bytes:
    """Render past cycles as PNG or SVG."""
    import matplotlib

    fig = draw_history(
        cycles, zone=zone, width_px=width_px, height_px=height_px, dark=dark, title=title
    )
    with matplotlib.rc_context(_rc(Theme.pick(dark))):
        return _save(fig, fmt, scale)
