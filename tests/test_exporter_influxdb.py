"""InfluxDB line protocol: escaping, golden lines, a real InfluxDB 1.x, a fake 2.x endpoint."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from capwatch.config import InfluxSettings
from capwatch.exporters.base import ExportError
from capwatch.exporters.influxdb import (
    InfluxExporter,
    escape_measurement,
    escape_string_field,
    escape_tag,
    render_points,
)
from tests.fakes._server import serve
from tests.fakes.influx2 import Influx2State, build
from tests.fixtures.exporters import DEVICES, make_summary, make_unknown_summary


@pytest.mark.parametrize(
    ("fn", "raw", "escaped"),
    [
        (escape_measurement, "cap watch,x", "cap\\ watch\\,x"),
        (escape_measurement, "a=b", "a=b"),
        (escape_tag, "Mum's flat, 2=b", "Mum's\\ flat\\,\\ 2\\=b"),
        (escape_tag, "back\\slash", "back\\\\slash"),
        (escape_string_field, 'say "hi" \\o/', '"say \\"hi\\" \\\\o/"'),
    ],
)
def test_escaping(fn, raw, escaped):
    assert fn(raw) == escaped


def test_points_match_golden_file(exporter_data_dir):
    lines = render_points([make_summary()], {"home": DEVICES})
    expected = (exporter_data_dir / "influx_home.txt").read_text().splitlines()
    assert lines == expected


def test_unknown_values_are_left_out():
    (line,) = render_points([make_unknown_summary()], {})
    assert "used_bytes" not in line
    assert 'status="new"' in line
    assert "days_left=15.5" in line


def v1(server, **extra):
    return InfluxSettings.model_validate({"url": server.url, "database": "capwatch", **extra})


async def test_real_influxdb_1_stores_the_points(influxdb_server):
    now = datetime.now(UTC).replace(microsecond=0)
    exporter = InfluxExporter(v1(influxdb_server, retention_policy="year"))
    await exporter.start()
    try:
        await exporter.publish([make_summary(as_of=now)], {"home": DEVICES})
    finally:
        await exporter.stop()
    rows = influxdb_server.rows('SELECT * FROM "capwatch"."year"."capwatch"', "capwatch")
    devices = influxdb_server.rows(
        'SELECT used_bytes FROM "capwatch"."year"."capwatch_device" GROUP BY *', "capwatch"
    )
    default_rp = influxdb_server.rows('SELECT * FROM "capwatch"."autogen"."capwatch"', "capwatch")
    assert len(rows) == 1
    row = rows[0]
    assert row["time"] == int(now.timestamp())
    assert row["account"] == "home"
    assert row["used_bytes"] == 412_500_000_000
    assert row["percent"] == 34.375
    assert row["status"] == "ok"
    assert {d["device"]: d["used_bytes"] for d in devices} == {
        "AB:CD:EF:01:23:45": 301_000_000_000,
        "12:34:56:78:90:AB": 111_500_000_000,
    }
    assert default_rp == []


async def test_influxdb_1_error_is_an_export_error(influxdb_server):
    exporter = InfluxExporter(v1(influxdb_server, database="missing", password="pw-secret-1"))
    with pytest.raises(ExportError, match=r"HTTP 404 from /write: database not found"):
        await exporter.publish([make_summary()], {})
    await exporter.stop()


async def test_influxdb_unreachable_is_an_export_error():
    from tests.fixtures._servers import free_port

    settings = InfluxSettings(url=f"http://127.0.0.1:{free_port()}", database="capwatch")
    exporter = InfluxExporter(settings)
    with pytest.raises(ExportError, match="influxdb: cannot reach /write"):
        await exporter.publish([make_summary()], {})
    await exporter.stop()


def v2(url, state, token=None):
    return InfluxSettings.model_validate(
        {
            "url": url,
            "version": 2,
            "org": state.org,
            "bucket": state.bucket,
            "token": token or state.token,
        }
    )


async def test_influxdb_2_write():
    state = Influx2State()
    with serve(build(state)) as url:
        exporter = InfluxExporter(v2(url, state))
        await exporter.publish([make_summary()], {"home": DEVICES})
        await exporter.stop()
    assert state.params == [{"org": "home-org", "bucket": "capwatch", "precision": "s"}]
    assert state.bodies[0].splitlines() == render_points([make_summary()], {"home": DEVICES})


async def test_influxdb_2_bad_token_never_shows_the_token():
    state = Influx2State()
    wrong = "wrong-token-value-123"
    with serve(build(state)) as url:
        exporter = InfluxExporter(v2(url, state, token=wrong))
        with pytest.raises(ExportError) as info:
            await exporter.publish([make_summary()], {})
        await exporter.stop()
    message = str(info.value)
    assert "HTTP 401 from /api/v2/write: unauthorized access" in message
    assert wrong not in message
    assert state.token not in message
