"""The chart renderer on hand-made data: size, not blank, lines where they belong, SVG elements."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from capwatch.charts.data import GB, ChartData, daily_increments, naive_forecast
from capwatch.charts.demo import DemoCycle
from capwatch.charts.history import draw_history, render_history
from capwatch.charts.render import CAP, OVER, draw_cycle, render_cycle
from capwatch.models import Cycle, Forecast

START = datetime(2026, 11, 1, 5, tzinfo=UTC)
END = datetime(2026, 12, 1, 6, tzinfo=UTC)
CAP_BYTES = 1000 * GB


def cycle_data(
    per_day_gb: float = 20, days: int = 15, forecast: Forecast | None = None
) -> ChartData:
    """A cycle with a straight-line usage of ``per_day_gb`` up to day ``days``."""
    times = tuple(START + timedelta(hours=6 * i) for i in range(days * 4 + 1))
    used = tuple(int(per_day_gb * GB * i / 4) for i in range(days * 4 + 1))
    daily = tuple((date(2026, 11, d + 1), int(per_day_gb * GB)) for d in range(days))
    data = ChartData(
        account="home",
        cycle=Cycle(START, END),
        times=times,
        used=used,
        cap_bytes=CAP_BYTES,
        zone="America/Chicago",
        now=times[-1] + timedelta(hours=1),
        daily=daily,
        title="home: November 2026",
    )
    return replace(data, forecast=forecast or naive_forecast(data, data.now or END))


def _image(png: bytes):  # type: ignore[no-untyped-def]
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB")


def _hex(colour: str) -> tuple[int, int, int]:
    return (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))


def test_png_has_the_requested_size_and_is_not_blank() -> None:
    png = render_cycle(cycle_data(), "png", width_px=640, height_px=600, scale=2)
    img = _image(png)
    assert img.size == (1280, 1200)
    from PIL import ImageStat

    stddev = ImageStat.Stat(img.convert("L")).stddev[0]
    assert stddev > 20, "the picture is (nearly) one colour"


def test_cap_line_is_drawn_at_the_cap_row() -> None:
    data = cycle_data()
    fig = draw_cycle(data, width_px=640, height_px=600)
    top = fig.axes[0]
    fig.canvas.draw()
    x_mid = START + (END - START) / 2
    import matplotlib.dates as mdates

    _, y_disp = top.transData.transform((mdates.date2num(x_mid), CAP_BYTES / GB))
    png = render_cycle(data, "png", width_px=640, height_px=600, scale=1)
    img = _image(png)
    row = round(img.size[1] - y_disp)
    width = img.size[0]
    want = _hex(CAP)

    def cap_pixels(r: int) -> int:
        return sum(
            1
            for x in range(width)
            if sum(abs(a - b) for a, b in zip(img.getpixel((x, r)), want, strict=True)) < 40
        )

    near = max(cap_pixels(r) for r in range(row - 2, row + 3))
    far = cap_pixels(row + 60)
    assert near > width * 0.5, f"cap colour covers only {near} of {width} pixels on its row"
    assert far < width * 0.05


def test_svg_has_each_element_once() -> None:
    svg = render_cycle(cycle_data(), "svg").decode()
    for gid in (
        "cw-used",
        "cw-cap",
        "cw-prorata",
        "cw-alarm",
        "cw-forecast",
        "cw-today",
        "cw-band",
        "cw-projected",
        "cw-latest",
    ):
        assert svg.count(f'id="{gid}"') == 1, gid
    assert len(re.findall(r'id="cw-daily-\d+"', svg)) == 15
    used_group = svg.split('id="cw-used"', 1)[1].split("</g>", 1)[0]
    assert used_group.count("<path") == 1
    assert re.search(r"Projected 60\d GB of 1.00 TB", svg)  # 20 GB a day for 30 days


def test_over_cap_projection_is_red() -> None:
    hot = cycle_data(per_day_gb=50, days=15)
    assert hot.forecast is not None and hot.forecast.expected_bytes > CAP_BYTES
    svg = render_cycle(hot, "svg").decode()
    projected = svg.split('id="cw-projected"', 1)[1].split("</g>", 2)[1]
    assert OVER.lower() in projected.lower()
    calm = render_cycle(cycle_data(per_day_gb=10), "svg").decode()
    calm_note = calm.split('id="cw-projected"', 1)[1].split("</g>", 2)[1]
    assert OVER.lower() not in calm_note.lower()


def test_closed_cycle_has_no_forecast_or_today_marker() -> None:
    data = replace(cycle_data(), now=END + timedelta(days=2), forecast=None)
    svg = render_cycle(data, "svg").decode()
    assert 'id="cw-forecast"' not in svg and 'id="cw-today"' not in svg
    assert "Final 300 GB of 1.00 TB" in svg


def test_empty_cycle_still_renders() -> None:
    data = ChartData(account="new", cycle=Cycle(START, END), times=(), used=(), cap_bytes=None)
    assert _image(render_cycle(data, "png", scale=1)).size == (640, 600)


def test_dark_theme_background() -> None:
    img = _image(render_cycle(cycle_data(), "png", scale=1, dark=True))
    assert img.getpixel((2, 2)) == (0x12, 0x12, 0x12)


def test_history_bars_and_caps() -> None:
    from capwatch.charts.demo import demo_history

    cycles = demo_history()
    svg = render_history(cycles, "svg", zone="America/Chicago").decode()
    assert len(re.findall(r'id="cw-cycle-\d+"', svg)) == len(cycles)
    assert len(re.findall(r'id="cw-cap-\d+"', svg)) == len(cycles)
    png = render_history(cycles, "png", zone="America/Chicago", scale=1)
    img = _image(png)
    assert img.size == (800, 500)
    red = _hex(OVER)
    assert any(img.getpixel((x, 400)) == red for x in range(img.size[0])), "over-cap bar is red"


def monthly_history(months: int, missing: tuple[int, ...] = ()) -> list[DemoCycle]:
    """``months`` calendar-month cycles from January 2025 (Chicago midnight), values around
    the 1,000 GB cap with two 1,302 GB months side by side, less the ``missing`` ones."""
    tz = ZoneInfo("America/Chicago")
    out = []
    for i in range(months):
        if i in missing:
            continue
        start = datetime(2025 + i // 12, i % 12 + 1, 1, tzinfo=tz).astimezone(UTC)
        used = 1302 if i % 8 in (4, 5) else 880 + (i * 37) % 260
        out.append(DemoCycle(start, used * GB, CAP_BYTES))
    return out


def _texts(ax, prefix: str) -> list:  # type: ignore[no-untyped-def]
    return [t for t in ax.texts if (t.get_gid() or "").startswith(prefix)]


def _slot(artist) -> int:  # type: ignore[no-untyped-def]
    return int(artist.get_gid().rsplit("-", 1)[1])


def _ticked_slots(ax) -> list[int]:  # type: ignore[no-untyped-def]
    """Every slot has a tick, a major (labelled) or a minor one."""
    return sorted(round(x) for x in {*ax.get_xticks(), *ax.get_xticks(minor=True)})


@pytest.mark.parametrize(("months", "missing"), [(16, ()), (24, ()), (16, (9, 10))])
def test_history_labels_do_not_overlap(months: int, missing: tuple[int, ...]) -> None:
    cycles = monthly_history(months, missing=missing)
    fig = draw_history(cycles, zone="America/Chicago")
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
    texts = [t for t in ax.texts if t.get_visible() and t.get_text()]  # values, years, no data
    boxes = [(t.get_text(), t.get_window_extent()) for t in [*ticks, *texts]]
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            apart = (
                box_a.x1 <= box_b.x0
                or box_b.x1 <= box_a.x0
                or box_a.y1 <= box_b.y0
                or box_b.y1 <= box_a.y0
            )
            assert apart, f"{a!r} overlaps {b!r} at {months} cycles"
    shown = [t.get_text() for t in [*ticks, *texts]]
    assert len(ticks) >= months // 3 and "2025" in " ".join(shown) and "2026" in " ".join(shown)
    newest = f"{cycles[-1].used_bytes / GB:,.0f}"
    assert newest in shown and "1,302" in shown, "the newest and the over-cap values are shown"


def test_history_keeps_a_labelled_empty_slot_per_missing_month() -> None:
    # October 2025 to July 2026 in Berlin, where local midnight is the previous day in UTC;
    # March and April 2026 are missing.
    tz = ZoneInfo("Europe/Berlin")
    starts = [datetime(2025 + (9 + i) // 12, (9 + i) % 12 + 1, 1, tzinfo=tz) for i in range(10)]
    cycles = [
        DemoCycle(s.astimezone(UTC), (900 + i) * GB, CAP_BYTES)
        for i, s in enumerate(starts)
        if i not in (5, 6)
    ]
    ax = draw_history(cycles, zone="Europe/Berlin").axes[0]
    assert _ticked_slots(ax) == list(range(10))
    labels = {
        round(x): t.get_text() for x, t in zip(ax.get_xticks(), ax.get_xticklabels(), strict=True)
    }
    assert [labels.get(i) for i in range(10)] == [f"{s:%b}" for s in starts]
    bars = [p for p in ax.patches if (p.get_gid() or "").startswith("cw-cycle-")]
    assert sorted(_slot(p) for p in bars) == [0, 1, 2, 3, 4, 7, 8, 9]
    centres = [p.get_x() + p.get_width() / 2 for p in ax.patches]
    assert not any(4.5 < c < 6.5 for c in centres), "no bar in the missing slots"
    marks = _texts(ax, "cw-nodata-")
    assert sorted(_slot(t) for t in marks) == [5, 6]
    assert all("no data" in t.get_text() for t in marks)
    assert {_slot(t): t.get_text() for t in _texts(ax, "cw-year-")} == {0: "2025", 3: "2026"}


def test_history_of_a_28_day_plan_counts_missing_cycles_by_its_step() -> None:
    first = datetime(2026, 1, 3, 6, tzinfo=UTC)
    cycles = [
        DemoCycle(first + timedelta(days=28 * i), 800 * GB, CAP_BYTES)
        for i in range(9)
        if i not in (3, 4, 5)
    ]
    ax = draw_history(cycles, zone="America/Chicago").axes[0]
    assert _ticked_slots(ax) == list(range(9))
    assert sorted(_slot(t) for t in _texts(ax, "cw-nodata-")) == [3, 4, 5]
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all(re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", t) for t in labels)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="chart format"):
        render_cycle(cycle_data(), "gif")  # type: ignore[arg-type]


def test_daily_increments_from_cumulative_days() -> None:
    rows = [(date(2026, 11, 1), 10), (date(2026, 11, 2), 25), (date(2026, 11, 3), 20)]
    assert daily_increments(rows) == (
        (date(2026, 11, 1), 10),
        (date(2026, 11, 2), 15),
        (date(2026, 11, 3), 0),
    )
