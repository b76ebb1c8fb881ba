"""Graphite plaintext: rendered lines (golden file), compat names, a real carbon-cache."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from capwatch.config import GraphiteSettings, Settings
from capwatch.exporters.base import ExportError, load_exporters
from capwatch.exporters.graphite import GraphiteExporter, render_lines
from tests.fixtures.common import free_port
from tests.fixtures.exporters import DEVICES, make_summary, make_unknown_summary


def test_lines_match_golden_file(exporter_data_dir):
    lines = render_lines([make_summary()], {"home": DEVICES}, prefix="capwatch")
    expected = (exporter_data_dir / "graphite_home.txt").read_text().splitlines()
    assert lines == expected


def test_unknown_values_are_not_sent():
    lines = render_lines([make_unknown_summary()], {}, prefix="capwatch")
    keys = {line.split()[0] for line in lines}
    assert "capwatch.new.used_bytes" not in keys
    assert "capwatch.new.days_left" in keys


@pytest.mark.parametrize(
    ("accounts", "expected"),
    [
        (["home"], {"cw.used_gb 412.5", "cw.total_gb 1200"}),
        (["home", "cabin"], {"cw.home.used_gb 412.5", "cw.cabin.total_gb 1200"}),
    ],
)
def test_compat_names(accounts, expected):
    summaries = [make_summary(a) for a in accounts]
    lines = render_lines(summaries, {}, prefix="cw", compat_names=True)
    heads = {line.rsplit(" ", 1)[0] for line in lines}
    assert expected <= heads
    assert not any("used_gb" in line for line in render_lines(summaries, {}, prefix="cw"))


@pytest.mark.parametrize(
    ("configured", "expected"),
    [(["home"], "cw.used_gb"), (["home", "cabin"], "cw.home.used_gb")],
)
async def test_compat_names_follow_configured_accounts(configured, expected):
    """The coordinator publishes one account at a time; names follow the configured count."""
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read())
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    exporter = GraphiteExporter(
        GraphiteSettings(host="127.0.0.1", port=port, prefix="cw", compat_names=True)
    )
    exporter.account_names = tuple(configured)
    async with server:
        await exporter.publish([make_summary()], {})
        for _ in range(1000):  # bounded wait for the handler
            if received:
                break
            await asyncio.sleep(0.01)
    heads = {line.split()[0] for line in received[0].decode().splitlines()}
    assert expected in heads
    assert "cw.home.used_bytes" in heads


def test_load_exporters_tells_the_configured_accounts():
    settings = Settings.model_validate(
        {
            "accounts": [
                {"name": "home", "provider": "host", "cap": "1 TB"},
                {"name": "cabin", "provider": "host", "cap": "1 TB"},
            ],
            "graphite": {"host": "127.0.0.1", "compat_names": True},
        }
    )
    (exporter,) = load_exporters(settings)
    assert exporter.account_names == ("home", "cabin")


def test_path_parts_are_sanitised():
    lines = render_lines([make_summary("Mum's flat.2")], {}, prefix="a b.c")
    assert lines[0].startswith("a_b.c.mum_s_flat_2.used_bytes ")


def test_hyphens_are_kept():
    """Issue 23 point 7: `-` is valid in a Graphite path (carbon stores it, graphite-web's
    target grammar reads it), so the account keeps the name it has in MQTT and Prometheus."""
    lines = render_lines([make_summary("Pi-Host")], {}, prefix="cap-watch")
    assert lines[0].startswith("cap-watch.pi-host.used_bytes ")


async def test_connection_refused_is_an_export_error():
    settings = GraphiteSettings(host="127.0.0.1", port=free_port())
    with pytest.raises(ExportError, match=r"graphite 127\.0\.0\.1:\d+: cannot connect"):
        await GraphiteExporter(settings).publish([make_summary()], {})


async def test_real_carbon_stores_the_metrics(carbon_server):
    now = datetime.now(UTC).replace(microsecond=0)
    summaries = [make_summary(as_of=now)]
    settings = GraphiteSettings(
        host="127.0.0.1", port=carbon_server.port, prefix="capwatch", compat_names=True
    )
    exporter = GraphiteExporter(settings)
    await exporter.start()
    await exporter.publish(summaries, {"home": DEVICES})
    await exporter.stop()
    used = carbon_server.read("capwatch.home.used_bytes")
    compat = carbon_server.read("capwatch.used_gb")
    device = carbon_server.read("capwatch.home.devices.ab_cd_ef_01_23_45.used_bytes")
    assert [v for _, v in used] == [412_500_000_000]
    assert abs(used[0][0] - now.timestamp()) < 10  # the 10 s bucket holding as_of
    assert [v for _, v in compat] == [412.5]
    assert [v for _, v in device] == [301_000_000_000]
