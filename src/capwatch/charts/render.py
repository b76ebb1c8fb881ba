"""The one chart renderer (matplotlib, Agg) for emails, the CLI and the web.

:func:`render_cycle` draws a cycle: usage so far, the pro-rata 100% line, the alarm line, the cap,
the forecast to cycle end (expected plus shaded interval), a today marker, the latest value and a
"projected X of Y" note (red when over), with daily usage bars beneath; the past cycles are
drawn by :mod:`capwatch.charts.history`. Both return PNG or SVG bytes sized for a phone screen.

Every drawn element carries a ``gid`` (``cw-used``, ``cw-cap``, ...) so an SVG can be checked and
styled; colours are the constants below.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from capwatch.charts.data import GB, ChartData
from capwatch.units import format_bytes as gb
from capwatch.units import format_range

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Format = Literal["png", "svg"]

USED = "#1565c0"
PRO_RATA = "#78909c"
ALARM = "#ef6c00"
CAP = "#8e24aa"
FORECAST = "#00897b"
OVER = "#d32f2f"
TODAY = "#616161"
BARS = "#64b5f6"


@dataclass(frozen=True, slots=True)
class Theme:
    """Background, text and grid colours of a light or dark chart."""

    face: str
    text: str
    grid: str

    @classmethod
    def pick(cls, dark: bool) -> Theme:
        """The dark or the light theme."""
        return (
            cls("#121212", "#e0e0e0", "#424242") if dark else cls("#ffffff", "#212121", "#e0e0e0")
        )


def _rc(theme: Theme) -> Any:
    """Matplotlib settings for large, phone-readable text."""
    return {
        "font.family": "DejaVu Sans",
        "font.size": 15,
        "axes.titlesize": 18,
        "axes.labelsize": 15,
        "xtick.labelsize": 13,
        "ytick.labelsize": 13,
        "legend.fontsize": 11,
        "text.color": theme.text,
        "axes.labelcolor": theme.text,
        "axes.edgecolor": theme.grid,
        "xtick.color": theme.text,
        "ytick.color": theme.text,
        "svg.hashsalt": "capwatch",
        "svg.fonttype": "none",
    }


def _new_figure(width_px: int, height_px: int, theme: Theme) -> Figure:
    """A pyplot-free figure on the Agg canvas (no global backend state touched)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_px / 100, height_px / 100), dpi=100, facecolor=theme.face)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, fmt: Format, scale: float) -> bytes:
    """Encode the figure as PNG (at ``scale`` x resolution) or SVG."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"chart format {fmt!r}: use png or svg")
    buf = io.BytesIO()
    meta: dict[str, Any] = {"Software": None} if fmt == "png" else {"Date": None}
    fig.savefig(buf, format=fmt, dpi=100 * scale, facecolor=fig.get_facecolor(), metadata=meta)
    return buf.getvalue()


def _style(ax: Any, theme: Theme) -> None:
    """Grid, spines and background of one axes."""
    ax.set_facecolor(theme.face)
    ax.grid(True, color=theme.grid, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def draw_cycle(
    data: ChartData, *, width_px: int = 640, height_px: int = 600, dark: bool = False
) -> Figure:
    """Build the cycle figure (exposed so tests can map data to pixels)."""
    import matplotlib

    theme = Theme.pick(dark)
    with matplotlib.rc_context(_rc(theme)):
        fig = _new_figure(width_px, height_px, theme)
        top, bottom = fig.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1], "hspace": 0.08}
        )
        _style(top, theme)
        _style(bottom, theme)
        _draw_lines(top, data)
        _draw_forecast(top, data)
        _annotate(top, data, theme)
        _draw_daily(bottom, data)
        _format_axes(top, bottom, data)
        fig.subplots_adjust(left=0.16, right=0.94, top=0.92, bottom=0.08)
    return fig


def render_cycle(
    data: ChartData,
    fmt: Format = "png",
    *,
    width_px: int = 640,
    height_px: int = 600,
    scale: float = 2.0,
    dark: bool = False,
) -> bytes:
    """Render one cycle as PNG or SVG; the PNG is ``width_px*scale`` by ``height_px*scale``."""
    import matplotlib

    fig = draw_cycle(data, width_px=width_px, height_px=height_px, dark=dark)
    with matplotlib.rc_context(_rc(Theme.pick(dark))):
        return _save(fig, fmt, scale)


def _draw_lines(ax: Any, data: ChartData) -> None:
    """Usage so far, the pro-rata 100% line, the alarm line and the cap."""
    start, end = data.cycle.start, data.cycle.end
    if data.cap_bytes:
        cap = data.cap_bytes / GB
        alarm = cap * data.alarm_percent / 100.0
        ax.plot(
            [start, end],
            [0, cap],
            color=PRO_RATA,
            lw=2,
            ls="--",
            gid="cw-prorata",
            label="On pace for 100%",
        )
        ax.plot(
            [start, end],
            [0, alarm],
            color=ALARM,
            lw=2,
            ls=":",
            gid="cw-alarm",
            label=f"Alarm ({data.alarm_percent:g}%)",
        )
        ax.axhline(cap, color=CAP, lw=2.5, gid="cw-cap", label=f"Cap {gb(data.cap_bytes)}")
    if data.times:
        ax.plot(
            list(data.times),
            [u / GB for u in data.used],
            color=USED,
            lw=3,
            drawstyle="steps-post",
            gid="cw-used",
            label="Used",
        )


def _draw_forecast(ax: Any, data: ChartData) -> None:
    """Expected usage at cycle end and its shaded interval, from the latest value."""
    fc, at, used = data.forecast, data.latest_at, data.latest_bytes
    if fc is None or at is None or used is None or not data.is_open:
        return
    end = data.cycle.end
    over = bool(data.cap_bytes and fc.expected_bytes > data.cap_bytes)
    colour = OVER if over else FORECAST
    xs = [at, end, end]
    ys = [used / GB, fc.low_bytes / GB, fc.high_bytes / GB]
    ax.fill(xs, ys, color=colour, alpha=0.15, lw=0, gid="cw-band")
    ax.plot(
        [at, end],
        [used / GB, fc.expected_bytes / GB],
        color=colour,
        lw=2.5,
        ls="--",
        gid="cw-forecast",
        label=f"Forecast ({int(fc.level * 100)}% range)",
    )


def _annotate(ax: Any, data: ChartData, theme: Theme) -> None:
    """Today marker, latest value and the projected-of-cap note."""
    if data.is_open and data.now is not None:
        ax.axvline(data.now, color=TODAY, lw=1.5, ls="-.", gid="cw-today")
    at, used = data.latest_at, data.latest_bytes
    if at is not None and used is not None:
        ax.annotate(
            gb(used),
            (at, used / GB),
            xytext=(-10, 12),
            textcoords="offset points",
            ha="right",
            fontsize=15,
            fontweight="bold",
            color=OVER if data.cap_bytes and used > data.cap_bytes else USED,
            gid="cw-latest",
        )
    fc = data.forecast
    cap = data.cap_bytes
    note = ""
    if fc is not None and data.is_open:
        over = bool(cap and fc.expected_bytes > cap)
        of = f" of {gb(cap)}" if cap else ""
        band = format_range(fc.low_bytes, fc.high_bytes)
        note = f"Projected {gb(fc.expected_bytes)}{of}\n({band})"
    elif not data.is_open and used is not None and cap:
        over = used > cap
        note = f"Final {gb(used)} of {gb(cap)}"
    if note:
        ax.text(
            0.03,
            0.85,
            note,
            transform=ax.transAxes,
            va="top",
            ha="left",
            fontsize=15,
            fontweight="bold",
            color=OVER if over else theme.text,
            gid="cw-projected",
            bbox={
                "facecolor": theme.face,
                "edgecolor": OVER if over else theme.grid,
                "boxstyle": "round,pad=0.4",
            },
        )
    if data.title:
        ax.set_title(data.title, loc="left", fontweight="bold", color=theme.text)


def _draw_daily(ax: Any, data: ChartData) -> None:
    """Daily usage bars at local noon, with the pro-rata daily amount as a line."""
    zone = ZoneInfo(data.zone)
    if data.daily:
        xs = [datetime(d.year, d.month, d.day, 12, tzinfo=zone) for d, _ in data.daily]
        bars = ax.bar(xs, [b / GB for _, b in data.daily], width=0.8, color=BARS)
        for i, patch in enumerate(bars):
            patch.set_gid(f"cw-daily-{i}")
    if data.cap_bytes:
        per_day = data.cap_bytes / GB / (data.cycle.length_seconds / 86400.0)
        ax.axhline(per_day, color=PRO_RATA, lw=1.5, ls="--", gid="cw-perday")
    ax.set_ylabel("GB/day")


def _format_axes(top: Any, bottom: Any, data: ChartData) -> None:
    """Limits, local-date ticks and the legend."""
    import matplotlib.dates

    mdates: Any = matplotlib.dates

    zone = ZoneInfo(data.zone)
    top.set_xlim(data.cycle.start, data.cycle.end)
    peak = max([data.cap_bytes or 0, *(data.used or (0,))])
    if data.forecast is not None and data.is_open:
        peak = max(peak, data.forecast.high_bytes)
    top.set_ylim(0, max(peak / GB * 1.12, 1.0))
    top.set_ylabel("GB used")
    locator = mdates.AutoDateLocator(tz=zone, minticks=4, maxticks=7)
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%b %-d", tz=zone))
    if top.get_legend_handles_labels()[0]:
        top.legend(loc="lower right", framealpha=0.9)
