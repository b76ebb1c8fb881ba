"""The upnp provider offline: real gateway descriptions and SOAP replies through async-upnp-client,
the counter edges (a 32-bit wrap, a reboot, a missed day) through the shared counter logic.

The descriptions and SCPDs are what a D-Link DIR-890L and a miniupnpd 1.8 gateway really served
(tests/data/real/upnp/SOURCES.md). Real SOAP replies: a GetTotalBytesReceived from a router in
a TinyUPnP issue and a FRITZ!Box GetAddonInfos; replies no public capture shows (the link
properties, the uptime) are built here and marked INVENTED. The live miniupnpd is in
tests/test_upnp_miniupnpd.py.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from capwatch.analysis.counters import advance
from capwatch.analysis.cycles import CycleRule
from capwatch.errors import BadResponse, ConfigError
from capwatch.models import CounterSample
from capwatch.providers.upnp import (
    IgdCounters,
    UpnpOptions,
    counter_value,
    counter_width,
    load_device,
    read_counters,
    samples_from,
)
from capwatch.providers.upnp_discovery import gateway_from, parse_target

REAL = Path(__file__).resolve().parent / "data" / "real" / "upnp"
T0 = datetime(2026, 11, 10, 12, tzinfo=UTC)
RULE = CycleRule(1, ZoneInfo("UTC"))

DLINK = {
    "/InternetGatewayDevice.xml": "dlink_dir890l_InternetGatewayDevice.xml",
    "/OSInfo.xml": "dlink_dir890l_OSInfo.xml",
    "/Layer3Forwarding.xml": "dlink_dir890l_Layer3Forwarding.xml",
    "/WANCommonInterfaceConfig.xml": "dlink_dir890l_WANCommonInterfaceConfig.xml",
    "/WANEthernetLinkConfig.xml": "dlink_dir890l_WANEthernetLinkConfig.xml",
    "/WANIPConnection.xml": "dlink_dir890l_WANIPConnection.xml",
}
MINIUPNPD = {
    "/rootDesc.xml": "miniupnpd_rootDesc.xml",
    "/L3F.xml": "miniupnpd_L3F.xml",
    "/WANCfg.xml": "miniupnpd_WANCfg.xml",
    "/WANIPCn.xml": "miniupnpd_WANIPCn.xml",
    "/WANIP6FC.xml": "miniupnpd_WANIP6FC.xml",
}


def _envelope(action: str, service: str, values: Mapping[str, object]) -> str:
    """INVENTED: a SOAP reply in the shape UPnP's device architecture gives, for the actions
    no public capture shows."""
    args = "".join(f"<{k}>{v}</{k}>" for k, v in values.items())
    return (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:{action}Response xmlns:u="{service}">{args}</u:{action}Response></s:Body></s:Envelope>'
    )


WANCIC = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"


def _soap(sent: int, up: int = 20_000_000, down: int = 100_000_000) -> dict[str, str]:
    return {
        "GetTotalBytesReceived": (REAL / "tinyupnp_issue20_GetTotalBytesReceived.xml").read_text(),
        "GetTotalBytesSent": _envelope("GetTotalBytesSent", WANCIC, {"NewTotalBytesSent": sent}),
        "GetCommonLinkProperties": _envelope(
            "GetCommonLinkProperties",
            WANCIC,
            {
                "NewWANAccessType": "Cable",
                "NewLayer1UpstreamMaxBitRate": up,
                "NewLayer1DownstreamMaxBitRate": down,
                "NewPhysicalLinkStatus": "Up",
            },
        ),
    }


class FileRequester:
    """Serves description files by path and SOAP replies by action name; no network."""

    def __init__(self, files: Mapping[str, str], soap: Mapping[str, str]) -> None:
        self.files, self.soap = files, soap
        self.actions: list[str] = []

    async def async_http_request(self, http_request: Any) -> Any:
        from async_upnp_client.const import HttpResponse

        if http_request.method == "GET":
            name = self.files.get(urlsplit(http_request.url).path)
            if name is None:
                return HttpResponse(404, {}, "")
            return HttpResponse(200, {}, (REAL / name).read_text())
        header = {k.lower(): v for k, v in http_request.headers.items()}["soapaction"]
        action = re.sub(r'.*#|"', "", header)
        self.actions.append(action)
        body = self.soap.get(action)
        return HttpResponse(200 if body else 500, {}, body or "")


def _read(files: Mapping[str, str], location: str, soap: Mapping[str, str]) -> IgdCounters:
    async def run() -> IgdCounters:
        from async_upnp_client.client import UpnpRequester

        requester = FileRequester(files, soap)
        UpnpRequester.register(FileRequester)
        device = await load_device(requester, location)
        return await read_counters(device, "upnp test")

    return asyncio.run(run())


def test_dlink_dir890l_description_and_real_bytes_received() -> None:
    reading = _read(DLINK, "http://10.0.0.1:49152/InternetGatewayDevice.xml", _soap(sent=1_234))
    assert reading.received == 3_283_198_648  # the real router's reply, past 2**31
    assert reading.sent == 1_234
    assert reading.width == 32  # ui4 in the D-Link's SCPD, both values below 2**32
    assert (reading.up_bps, reading.down_bps, reading.link_status) == (20_000_000, 10**8, "Up")
    assert reading.uptime_s is None  # no GetStatusInfo reply: wraps are then told by value
    assert reading.action == "GetTotalBytesReceived/GetTotalBytesSent"
    assert "D-Link" in reading.model


def test_miniupnpd_igd2_description_with_status_uptime() -> None:
    soap = _soap(sent=5 * 2**32)  # miniupnpd without UPNP_STRICT sends the kernel's 64 bits
    soap["GetStatusInfo"] = _envelope(
        "GetStatusInfo",
        "urn:schemas-upnp-org:service:WANIPConnection:2",
        {"NewConnectionStatus": "Connected", "NewLastConnectionError": "ERROR_NONE",
         "NewUptime": 7200},
    )  # fmt: skip
    reading = _read(MINIUPNPD, "http://192.168.128.1:43412/rootDesc.xml", soap)
    assert reading.width == 64
    assert reading.sent == 5 * 2**32
    assert reading.uptime_s == 7200
    rx, tx = samples_from(reading)
    assert (rx.key, rx.max_rate_bps, rx.uptime_s) == ("wan:rx", 1e8, 7200.0)
    assert (tx.key, tx.max_rate_bps, tx.width) == ("wan:tx", 2e7, 64)


def test_a_router_stuck_at_the_32_bit_top_is_refused() -> None:
    with pytest.raises(BadResponse, match=r"NewTotalBytesSent stuck at 4294967295"):
        _read(DLINK, "http://10.0.0.1:49152/InternetGatewayDevice.xml", _soap(sent=2**32 - 1))


def test_a_soap_fault_names_the_action() -> None:
    soap = _soap(sent=1)
    del soap["GetTotalBytesSent"]
    with pytest.raises(BadResponse, match=r"upnp test: GetTotalBytesSent failed"):
        _read(DLINK, "http://10.0.0.1:49152/InternetGatewayDevice.xml", soap)


def test_fritzbox_addon_infos_32_bit_values() -> None:
    """The real GetAddonInfos of a FRITZ!Box without the 64-bit pair: the standard ui4 values."""
    from xml.etree import ElementTree as ET

    root = ET.fromstring((REAL / "fritzbox_netmeter_GetAddonInfos.xml").read_text())
    values = {el.tag: el.text for el in root.iter() if el.tag.startswith("New")}
    sent = counter_value(values["NewTotalBytesSent"], "NewTotalBytesSent")
    received = counter_value(values["NewTotalBytesReceived"], "NewTotalBytesReceived")
    assert (sent, received) == (4_113_851_316, 1_149_211_977)
    assert counter_width("auto", (sent, received), ("ui4", "ui4"), wide=False) == 32
    assert counter_width("auto", (sent, received), ("ui4", "ui4"), wide=True) == 64


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1337", 1337), (-531_985_522, 2**32 - 531_985_522), (0, 0), (2**40, 2**40)],
)
def test_counter_value(raw: object, expected: int) -> None:
    assert counter_value(raw, "x") == expected


@pytest.mark.parametrize("raw", [None, "", "12 MB", True, -(2**31) - 1])
def test_counter_value_refuses_what_is_not_a_counter(raw: object) -> None:
    with pytest.raises(BadResponse, match=r"^upnp: NewTotalBytesSent is "):
        counter_value(raw, "NewTotalBytesSent")


def test_counter_bits_option_wins() -> None:
    assert counter_width("32", (2**40,), ("ui8",), wide=True) == 32
    assert counter_width("64", (5,), ("ui4",), wide=False) == 64
    assert counter_width("auto", (5,), ("ui8", None), wide=False) == 64
    reading = IgdCounters(2**32 + 7, 9, 32, "x")
    assert samples_from(reading)[0].value == 7  # a 32-bit counter is read modulo 2**32


def test_options() -> None:
    assert UpnpOptions().location is None
    assert UpnpOptions().ssdp_targets == ["239.255.255.250:1900"]
    with pytest.raises(ValueError, match=r"upnp\.location must be an http:// URL"):
        UpnpOptions(location="192.168.1.1")


# --- counter edges through the shared counter logic (capwatch.analysis.counters) ------------


def _poll(states: dict[str, Any], reading: IgdCounters, at: datetime) -> tuple[int, dict[str, Any]]:
    samples = samples_from(reading)
    return advance(states, samples, at, RULE.cycle_at(at))


@pytest.mark.parametrize(
    ("seconds", "expected", "why"),
    [
        (
            120,
            2**32 - 4_113_851_316 + 50_000_000,
            "231 MB in 2 min fits 20 Mbit/s: a wrap",
        ),
        (60, 50_000_000, "231 MB in 1 min does not (150 MB): a reset, its value counted"),
    ],
)
def test_a_32_bit_wrap_between_two_polls(seconds: int, expected: int, why: str) -> None:
    # the FRITZ!Box's real NewTotalBytesSent, 181 MB below the top, then past it
    first = IgdCounters(1_149_211_977, 4_113_851_316, 32, "x", 20_000_000, 100_000_000, 86_400)
    _, states = _poll({}, first, T0)
    after = IgdCounters(1_149_211_977, 50_000_000, 32, "x", 20_000_000, 100_000_000, 86_520)
    used, _ = _poll(states, after, T0 + timedelta(seconds=seconds))
    assert used == expected, why


def test_a_router_reboot_counts_since_boot() -> None:
    first = IgdCounters(3_000_000_000, 2_000_000_000, 32, "x", 20_000_000, 100_000_000, 86_400)
    _, states = _poll({}, first, T0)
    # 5 minutes later the router has been up 120 s and its counters are small again
    rebooted = IgdCounters(40_000_000, 5_000_000, 32, "x", 20_000_000, 100_000_000, 120)
    used, states = _poll(states, rebooted, T0 + timedelta(minutes=5))
    assert used == 45_000_000
    assert states["wan:rx"].last_value == 40_000_000


def test_a_missed_day_is_flagged_as_a_lower_bound() -> None:
    from capwatch.analysis.counters import long_gaps
    from capwatch.service.readings import gap_note

    first = IgdCounters(1_000, 2_000, 32, "x", 20_000_000, 100_000_000, 86_400)
    _, states = _poll({}, first, T0)
    later = IgdCounters(501_000, 2_000, 32, "x", 20_000_000, 100_000_000, 2 * 86_400)
    at = T0 + timedelta(days=1)
    gaps = long_gaps(states, samples_from(later), at)
    assert [g.key for g in gaps] == ["wan:rx", "wan:tx"]  # neither can be trusted after a day
    used, _ = _poll(states, later, at)
    assert used == 500_000  # what the counters show: a lower bound, not a guess of wraps
    note = gap_note(gaps[0])
    assert note.startswith("counter wan:rx: 24.0 h since the last poll, longer than the 172 s")
    assert "32-bit counter wraps unambiguously at 100 Mbit/s: counted a lower bound" in note


# --- discovery helpers (the live unicast M-SEARCH is in test_upnp_miniupnpd.py) -------------


def test_parse_target() -> None:
    assert parse_target("127.0.0.1:1900") == ("127.0.0.1", 1900)
    assert parse_target("127.0.0.1") == ("127.0.0.1", 1900)
    for bad in ("127.0.0.1:x", ":1900", "127.0.0.1:0"):
        with pytest.raises(ConfigError, match=r"^upnp.ssdp_targets: "):
            parse_target(bad)


def test_gateway_from_a_real_search_answer() -> None:
    """The headers of the answer the aioupnp capture shows from the miniupnpd 1.8 gateway."""
    headers = {
        "CACHE-CONTROL": "max-age=120",
        "ST": "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
        "USN": "uuid:43c2ed51-faac-4bc2-af42-c33a66379328::"
        "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
        "SERVER": "Ubuntu/lucid UPnP/1.1 MiniUPnPd/1.8",
        "LOCATION": "http://192.168.128.1:43412/rootDesc.xml",
    }
    found = gateway_from(headers)
    assert found is not None
    assert found.location == "http://192.168.128.1:43412/rootDesc.xml"
    assert found.server.endswith("MiniUPnPd/1.8")
    assert gateway_from({"ST": "x"}) is None


def test_every_real_upnp_file_is_read_here() -> None:
    used = {*DLINK.values(), *MINIUPNPD.values()}
    used |= {"tinyupnp_issue20_GetTotalBytesReceived.xml", "fritzbox_netmeter_GetAddonInfos.xml"}
    on_disk = {p.name for p in REAL.iterdir() if p.name != "SOURCES.md"}
    assert on_disk == used


def test_counter_sample_defaults_keep_other_sources_unchanged() -> None:
    sample = CounterSample("eth0:rx", 1, 64, "e")
    assert (sample.max_rate_bps, sample.uptime_s) == (None, None)


# --- the provider's fetch through httpx (a MockTransport serving the D-Link's real files) ---


def _transport(down_bps: int) -> Any:
    import httpx

    soap = _soap(sent=77, up=down_bps // 5, down=down_bps)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            name = DLINK.get(request.url.path)
            if name is None:
                return httpx.Response(404)
            return httpx.Response(200, text=(REAL / name).read_text())
        action = re.sub(r'.*#|"', "", request.headers["soapaction"])
        body = soap.get(action)
        return httpx.Response(200 if body else 500, text=body or "")

    return httpx.MockTransport(handle)


def _fetch(down_bps: int, **options: Any) -> tuple[Any, Any]:
    import httpx

    from capwatch.providers.base import ProviderContext
    from capwatch.providers.upnp import UpnpProvider

    location = "http://10.0.0.1:49152/InternetGatewayDevice.xml"
    opts = UpnpOptions(location=location, **options)
    provider = UpnpProvider(
        opts, ProviderContext("router", ZoneInfo("UTC"), Path("/nonexistent"), clock=lambda: T0)
    )

    async def run() -> Any:
        async with httpx.AsyncClient(transport=_transport(down_bps)) as client:
            return await provider.fetch(client)

    return provider, asyncio.run(run())


def test_fetch_builds_counter_samples_and_payload() -> None:
    provider, snap = _fetch(100_000_000)
    assert snap.source == "upnp" and snap.observed_at == T0
    rx, tx = snap.counters
    assert (rx.key, rx.value, rx.width, rx.max_rate_bps) == ("wan:rx", 3_283_198_648, 32, 1e8)
    assert (tx.key, tx.value, tx.max_rate_bps) == ("wan:tx", 77, 2e7)
    assert snap.raw["safe_interval_s"] == pytest.approx(171.8, abs=0.1)  # the faster direction
    assert snap.raw["location"].endswith("/InternetGatewayDevice.xml")
    assert provider.interval_hint() is None  # 60 s is short enough at 100 Mbit/s


def test_a_gigabit_link_asks_for_a_shorter_interval() -> None:
    provider, snap = _fetch(1_000_000_000)
    assert snap.raw["safe_interval_s"] == pytest.approx(17.18, abs=0.01)
    assert provider.interval_hint() == pytest.approx(0.8 * 17.18, abs=0.01)


def test_link_rate_option_overrides_the_router() -> None:
    _, snap = _fetch(1_000_000_000, link_rate_mbps=50)
    assert {c.max_rate_bps for c in snap.counters} == {50e6}


def test_unreachable_gateway_is_cannot_connect() -> None:
    import httpx

    from capwatch.errors import CannotConnect
    from capwatch.providers.base import ProviderContext
    from capwatch.providers.upnp import UpnpProvider

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    opts = UpnpOptions(location="http://10.0.0.1:49152/InternetGatewayDevice.xml")
    provider = UpnpProvider(opts, ProviderContext("router", ZoneInfo("UTC"), Path("/nonexistent")))

    async def run() -> Any:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
            return await provider.fetch(client)

    with pytest.raises(CannotConnect, match=r"^upnp 10\.0\.0\.1:49152: no answer"):
        asyncio.run(run())


def test_coordinator_follows_the_hint_unless_an_interval_is_set(tmp_path: Path) -> None:
    from capwatch.config import Settings
    from capwatch.service.coordinator import Coordinator
    from capwatch.store import open_store

    def coordinator(**account: Any) -> Coordinator:
        settings = Settings.model_validate(
            {"data_dir": str(tmp_path), "accounts": [
                {"name": "router", "provider": "upnp",
                 "options": {"location": "http://10.0.0.1:49152/x.xml"}, **account}]}
        )  # fmt: skip
        return Coordinator(settings, open_store(settings.resolved_database_url()))

    auto, pinned = coordinator(), coordinator(poll_interval=120)
    try:
        assert auto.interval_for("router") == 60
        auto.runtime("router").provider._hint = 13.7
        assert auto.interval_for("router") == 13.7
        pinned.runtime("router").provider._hint = 13.7
        assert pinned.interval_for("router") == 120
    finally:
        auto.store.close()
        pinned.store.close()


def test_daemon_reschedules_an_account_whose_provider_asks_for_less(tmp_path: Path) -> None:
    from capwatch.service.daemon import Daemon

    class Coordinator:
        interval = 60.0

        def interval_for(self, name: str) -> float:
            return self.interval

    class Scheduler:
        def __init__(self) -> None:
            self.calls: list[tuple[str, float]] = []

        def reschedule_job(self, job_id: str, trigger: Any) -> None:
            self.calls.append((job_id, trigger.interval.total_seconds()))

    coordinator, scheduler = Coordinator(), Scheduler()
    daemon = Daemon(settings=None, store=None, coordinator=coordinator)  # type: ignore[arg-type]
    daemon._scheduler, daemon._intervals["router"] = scheduler, 60.0
    daemon._follow_interval("router")
    assert scheduler.calls == []  # unchanged: no reschedule
    coordinator.interval = 13.7
    daemon._follow_interval("router")
    daemon._follow_interval("router")
    assert scheduler.calls == [("poll:router", 13.7)]  # once, at the new interval
