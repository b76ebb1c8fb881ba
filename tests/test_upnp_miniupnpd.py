"""The upnp provider against a real IGD: Debian's miniupnpd in a network namespace the fixture
made (tests/fixtures/miniupnpd.py), reached only inside it, with ``ip netns exec``.

`capwatch poll --json` runs twice in the namespace with real traffic across miniupnpd's external
interface in between: the second reading is at least the first and at least the traffic sent.
Discovery sends a unicast M-SEARCH to 127.0.0.1:1900 of the namespace; nothing is multicast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.fixtures.miniupnpd import DOWN_BPS, UP_BPS, Gateway


def _config(tmp_path: Path, location: str) -> Path:
    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n\n'
        "[[accounts]]\n"
        'name = "router"\n'
        'provider = "upnp"\n'
        'cap = "1 TB"\n'
        # mid-month in UTC: no instant `make test-instants` runs at puts a cycle edge between
        # the two polls (they read the real clock, in another process)
        "[accounts.cycle]\n"
        "start_day = 15\n"
        'timezone = "UTC"\n'
        "[accounts.options]\n"
        f'location = "{location}"\n'
    )
    return config


def _poll(gw: Gateway, config: Path) -> dict[str, Any]:
    out = gw.exec(sys.executable, "-m", "capwatch", "--config", str(config), "poll", "--json")
    (result,) = json.loads(out)
    assert result["outcome"] == "ok", result
    return dict(result)


def test_poll_json_twice_against_miniupnpd(miniupnpd_gateway: Gateway, tmp_path: Path) -> None:
    gw = miniupnpd_gateway
    config = _config(tmp_path, gw.location)
    kernel_before = gw.wan_bytes()
    first = _poll(gw, config)
    sent = gw.send_traffic(datagrams=300, size=1200)
    kernel_after = gw.wan_bytes()
    second = _poll(gw, config)
    used1, used2 = first["reading"]["used_bytes"], second["reading"]["used_bytes"]
    print(f"miniupnpd poll readings: first {used1} B, second {used2} B (sent {sent} B each way)")
    assert first["reading"]["source"] == "upnp"
    # the first poll says what interval the link needs (100 Mbit/s down: 2**31 B in 172 s)
    assert first["message"] == (
        "first reading of wan:rx, wan:tx (a baseline): polls at most 172 s apart keep its "
        "32-bit counters unambiguous at 100 Mbit/s (wan:rx)"
    )
    assert second["message"] is None
    assert used2 >= used1
    # both directions moved by at least the UDP payload sent each way (plus headers, ARP, ICMP)
    assert used2 - used1 >= 2 * sent
    moved = sum(kernel_after) - sum(kernel_before)
    # never more than the kernel counted (the HTTP and SOAP went over the namespace's lo)
    assert used2 - used1 <= moved + 64 * 1024


def test_provider_reads_counters_rates_and_uptime(miniupnpd_gateway: Gateway) -> None:
    gw = miniupnpd_gateway
    code = (
        "import asyncio, json, sys, httpx\n"
        "from capwatch.providers.upnp import make_requester, load_device, read_counters\n"
        "async def main():\n"
        "    async with httpx.AsyncClient() as c:\n"
        "        dev = await load_device(make_requester(c, 5.0), sys.argv[1])\n"
        "        r = await read_counters(dev, 'upnp test')\n"
        "    print(json.dumps(r.__dict__))\n"
        "asyncio.run(main())\n"
    )
    reading = json.loads(gw.exec(sys.executable, "-c", code, gw.location))
    rx, tx = gw.wan_bytes()
    assert 0 < reading["received"] <= rx and 0 < reading["sent"] <= tx
    assert reading["width"] == 32  # small values, ui4 in miniupnpd's SCPD
    assert (reading["up_bps"], reading["down_bps"]) == (UP_BPS, DOWN_BPS)
    assert reading["link_status"] == "Up"
    assert isinstance(reading["uptime_s"], int) and reading["uptime_s"] >= 0
    assert reading["action"] == "GetTotalBytesReceived/GetTotalBytesSent"


def test_unicast_m_search_finds_miniupnpd(miniupnpd_gateway: Gateway) -> None:
    gw = miniupnpd_gateway
    code = (
        "import asyncio, json\n"
        "from capwatch.providers.upnp_discovery import discover\n"
        "found = asyncio.run(discover([('127.0.0.1', 1900)], timeout_s=1.5))\n"
        "print(json.dumps([f.__dict__ for f in found]))\n"
    )
    found = json.loads(gw.exec(sys.executable, "-c", code))
    assert [f["location"] for f in found] == [gw.location]
    assert found[0]["st"] == "urn:schemas-upnp-org:device:InternetGatewayDevice:2"  # IGD:2 first
    assert "MiniUPnPd/" in found[0]["server"]


def test_poll_without_location_discovers_by_unicast(
    miniupnpd_gateway: Gateway, tmp_path: Path
) -> None:
    gw = miniupnpd_gateway
    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n\n'
        '[[accounts]]\nname = "router"\nprovider = "upnp"\n'
        '[accounts.options]\nssdp_targets = ["127.0.0.1:1900"]\n'
    )
    result = _poll(gw, config)
    assert result["reading"]["used_bytes"] == 0  # the first reading is the baseline


def test_doctor_says_what_the_interval_keeps_unambiguous(
    miniupnpd_gateway: Gateway, tmp_path: Path
) -> None:
    config = _config(tmp_path, miniupnpd_gateway.location)
    out = miniupnpd_gateway.exec(
        sys.executable, "-m", "capwatch", "--config", str(config), "doctor"
    )
    assert "provider upnp ready" in out
    assert "polling every 60 s keeps a 32-bit UPnP counter unambiguous up to 286 Mbit/s" in out


def test_init_offers_the_gateway_it_finds_by_unicast(
    miniupnpd_gateway: Gateway, tmp_path: Path
) -> None:
    import subprocess

    gw = miniupnpd_gateway
    config = tmp_path / "capwatch.toml"
    cmd = [
        "ip", "netns", "exec", gw.gw_ns, sys.executable, "-m", "capwatch",
        "--config", str(config), "init", "--name", "router", "--provider", "upnp",
        "--cap", "1 TB", "--start-day", "calendar", "--timezone", "UTC", "--interval", "",
        "--ssdp-target", "127.0.0.1:1900",
    ]  # fmt: skip
    out = subprocess.run(cmd, input="1\n", capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    print(out.stdout)
    assert "Looking for upnp devices on 127.0.0.1:1900" in out.stdout
    # the choice says what the gateway reports: its counters, their width and the link
    assert f"1) {gw.location}: " in out.stdout
    assert "32-bit counters, link 100/20 Mbit/s" in out.stdout
    assert f'location = "{gw.location}"' in config.read_text()
