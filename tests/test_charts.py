"""The chart renderer on hand-made data: size, not blank, lines where they belong, SVG elements."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from capwatch.charts.data import GB, ChartData, daily_increments, naive_forecast
from capwatch.charts.render import CAP, OVER, draw_cycle, render_cycle, render_history
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
    assert re.search(r"Projected 60\d GB of 1,000 GB", svg)  # 20 GB a day for 30 days


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
    assert "Final 300 GB of 1,000 GB" in svg


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
