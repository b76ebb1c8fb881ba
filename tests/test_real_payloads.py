"""Every provider's parser on what the real services answered (issue 17).

The bodies under tests/data/real/<provider>/ come from public sources, each named in the
SOURCES.md beside it. Where a real body disagreed with a parser or an invented fixture, the real
body won: the A&A quota bonus, Start.ca's unlimited replies and plain-text ERROR, Internode's
nesting, MyAussie's empty answer and the GraphQL gateway's decimal TB are read as they really
come. One row per body; a row whose file is absent fails (the table and the README list the
same files).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from capwatch.errors import AuthRequired, BadResponse, CapwatchError, WrongPassword
from capwatch.models import Snapshot

REAL = Path(__file__).resolve().parent / "data" / "real"
GB = 10**9
NY = ZoneInfo("America/New_York")


def _xfinity(shape: str, at: datetime) -> Callable[[str], Snapshot]:
    from capwatch.providers.xfinity.api import Exchange, interpret

    def parse(text: str) -> Snapshot:
        ex = Exchange(shape, "GET", "usage", 200, None, "application/json", text)
        return interpret(ex, account="home", tz=NY, observed_at=at)

    return parse


def _aaisp(at: datetime, credit: dict[str, int] | None = None) -> Callable[[str], Snapshot]:
    from capwatch.providers.aaisp import parse_quota

    return lambda text: parse_quota(json.loads(text), now=at, credit=credit)


def _aaisp_line(at: datetime) -> Callable[[str], Snapshot]:
    from capwatch.providers._http import json_text
    from capwatch.providers.aaisp import parse_line_quota

    return lambda text: parse_line_quota(json_text(text, "quota.aa.net.uk"), now=at)


def _startca(**kw: Any) -> Callable[[str], Snapshot]:
    from capwatch.providers.startca import parse_usage

    at = datetime(2026, 11, 20, 12, tzinfo=UTC)
    return lambda text: parse_usage(text, now=at, **kw)


def _internode(text: str) -> Snapshot:
    from capwatch.providers.internode import parse_usage

    return parse_usage(text, now=datetime(2026, 11, 20, tzinfo=UTC))


def _aussie(text: str) -> Snapshot:
    from capwatch.providers.aussie import parse_usage

    return parse_usage(json.loads(text), tz=ZoneInfo("Australia/Sydney"))


BONUS_REMAINING = 18_897_654_553_833  # the 10 TB line's quota_remaining in the real reply

# (file, parser, expected: {attribute: value} or an error class and a phrase of its message)
ROWS: list[tuple[str, Callable[[str], Snapshot], dict[str, Any] | tuple[type, str]]] = [
    # --- Xfinity customer API: usageMonths, MM/DD/YYYY, GB (1 TB plan = 1024, 1.2 TB = 1229)
    (
        "xfinity/usage_json_2018-04_readme_two_devices.json",
        _xfinity("json", datetime(2018, 4, 16, 21, tzinfo=UTC)),
        {"used_bytes": 224 * GB, "cap_bytes": 1024 * GB, "devices": 1,
         "cycle_start": datetime(2018, 4, 1, 4, tzinfo=UTC)},
    ),
    (
        "xfinity/usage_json_2020-10_over_cap_and_plan_change.json",
        _xfinity("json", datetime(2020, 10, 30, 16, tzinfo=UTC)),
        {"used_bytes": 1153 * GB, "cap_bytes": 1229 * GB, "history": 6},
    ),
    (  # April 2020 over its 1024 GB cap, one 50 GB block: as seen in April
        "xfinity/usage_json_2020-10_over_cap_and_plan_change.json",
        _xfinity("json", datetime(2020, 4, 20, 16, tzinfo=UTC)),
        {"used_bytes": 1042 * GB, "cap_bytes": 1024 * GB, "blocks_used": 1.0,
         "bytes_per_block": 50 * GB},
    ),
    (
        "xfinity/usage_json_2021-01-31_last_day_of_cycle.json",
        _xfinity("json", datetime(2021, 1, 31, 16, 43, tzinfo=UTC)),
        {"used_bytes": 755 * GB, "cap_bytes": 1229 * GB,
         "cycle_end": datetime(2021, 2, 1, 5, tzinfo=UTC)},
    ),
    (
        "xfinity/usage_json_2021-02_early_cycle.json",
        _xfinity("json", datetime(2021, 2, 4, 16, 32, tzinfo=UTC)),
        {"used_bytes": 85 * GB, "cap_bytes": 1229 * GB},
    ),
    (  # a device's figure (592) above the home's (585), as the real reply has it
        "xfinity/usage_json_2024-04_one_month_session_api.json",
        _xfinity("json", datetime(2024, 4, 18, 16, tzinfo=UTC)),
        {"used_bytes": 585 * GB, "cap_bytes": 1229 * GB, "devices": 1, "max_charge": 100.0},
    ),
    (
        "xfinity/usage_json_2025-09_twelve_months_devices_elided.json",
        _xfinity("json", datetime(2025, 9, 17, 16, tzinfo=UTC)),
        {"used_bytes": 324 * GB, "cap_bytes": 1229 * GB, "history": 11},
    ),
    # --- Xfinity GraphQL gateway: {value, unit}, ISO dates, the cap as decimal TB ("1.23")
    (
        "xfinity/graphql_usage_2025-09_limited_tb_cap.json",
        _xfinity("graphql", datetime(2025, 9, 17, 16, tzinfo=UTC)),
        {"used_bytes": 353 * GB, "cap_bytes": 1230 * GB,
         "cycle_start": datetime(2025, 9, 1, 4, tzinfo=UTC)},
    ),
    (
        "xfinity/graphql_error_plan_not_found_TRUNCATED.json",
        _xfinity("graphql", datetime(2025, 9, 17, 16, tzinfo=UTC)),
        (BadResponse, "NOT_FOUND"),
    ),
    # --- Andrews & Arnold: CHAOS v2 (strings, bytes), the line's own quota page (numbers)
    (  # remaining above monthly: the quota bonus; first seen now, nothing counted yet
        "aaisp/chaos_quota_bonus_10tb.json",
        _aaisp(datetime(2024, 7, 29, 13, 30, tzinfo=UTC)),
        {"used_bytes": 0, "cap_bytes": BONUS_REMAINING,
         "cycle_start": datetime(2024, 6, 30, 23, tzinfo=UTC)},
    ),
    (  # seen at 19.5 TB earlier in the month: 602 GB used since, of that allowance
        "aaisp/chaos_quota_bonus_10tb.json",
        _aaisp(datetime(2024, 7, 29, 13, 30, tzinfo=UTC), {"54321": 19_500 * GB}),
        {"used_bytes": 19_500 * GB - BONUS_REMAINING, "cap_bytes": 19_500 * GB},
    ),
    (
        "aaisp/chaos_quota_testdict_200gb.json",
        _aaisp(datetime(2015, 7, 13, 17, tzinfo=UTC)),
        {"used_bytes": 43_424_394_736, "cap_bytes": 200 * GB},
    ),
    (
        "aaisp/chaos_quota_error_auth.json",
        _aaisp(datetime(2024, 7, 29, tzinfo=UTC)),
        (WrongPassword, "Control authorisation failed"),
    ),
    (
        "aaisp/chaos_info_error_auth.json",
        _aaisp(datetime(2024, 7, 29, tzinfo=UTC)),
        (WrongPassword, "Control authorisation failed"),
    ),
    (
        "aaisp/chaos_info_bonus_10tb.json",
        _aaisp(datetime(2024, 7, 29, tzinfo=UTC)),
        (BadResponse, "no 'quota' list"),
    ),
    (
        "aaisp/line_quota_1tb.json",
        _aaisp_line(datetime(2023, 5, 11, 12, tzinfo=UTC)),
        {"used_bytes": 265_010_950_041, "cap_bytes": 1000 * GB},
    ),
    (  # what quota.aa.net.uk sends without Accept: application/json
        "aaisp/line_quota_default.svg",
        _aaisp_line(datetime(2023, 5, 11, 12, tzinfo=UTC)),
        (BadResponse, "expected JSON"),
    ),
    # --- Start.ca: XML, bytes, no cap in the reply
    (
        "startca/usage_capped_ha.xml",
        _startca(cap_bytes=400 * GB),
        {"used_bytes": 304_946_829_777, "cap_bytes": 400 * GB},
    ),
    (
        "startca/usage_capped_ha.xml",
        _startca(cap_bytes=400 * GB, count_upload=True),
        {"used_bytes": 304_946_829_777 + 6_480_700_153},
    ),
    (  # unlimited: everything under <grace>, 0 under <used>; the line used the total
        "startca/usage_unlimited_ha.xml",
        _startca(unlimited=True),
        {"used_bytes": 304_946_829_777, "cap_bytes": None, "unlimited": True},
    ),
    (
        "startca/usage_unlimited_tekuila.xml",
        _startca(unlimited=True),
        {"used_bytes": 239_743_945_534, "unlimited": True},
    ),
    # --- Internode: XML, bytes, the period from rollover (Adelaide)
    (
        "internode/usage_capped.xml",
        _internode,
        {"used_bytes": 1_234_567_890, "cap_bytes": 100 * GB,
         "cycle_end": datetime(2014, 12, 31, 13, 30, tzinfo=UTC)},
    ),
    (
        "internode/usage_capped_2011_nodecl.xml",
        _internode,
        {"used_bytes": 8_633_000_712, "cap_bytes": 60 * GB},
    ),
    (
        "internode/usage_capped_pretty.xml",
        _internode,
        {"used_bytes": 4_650_528_270, "cap_bytes": 10 * GB},
    ),
    (  # the <traffic> element alone, as a client logged it
        "internode/usage_traffic_fragment.xml",
        _internode,
        {"used_bytes": 41_668_182_779, "cap_bytes": 100 * GB},
    ),
    (  # a /history answer is not this cycle's usage (its days' traffic was read as such)
        "internode/history_two_days.xml",
        _internode,
        (BadResponse, 'no <traffic name="total">'),
    ),
    (
        "internode/service_resources.xml",
        _internode,
        (BadResponse, 'no <traffic name="total">'),
    ),
    (
        "internode/service_details.xml",
        _internode,
        (BadResponse, 'no <traffic name="total">'),
    ),
    (
        "internode/error_404_bad_credentials.html",
        _internode,
        (BadResponse, "XML"),
    ),
    # --- Aussie Broadband: MyAussie JSON, decimal MB
    (  # the API's answer while it has no figure: not a reading of 0 on an unlimited plan
        "aussie/usage_zero_null_lastupdated.json",
        _aussie,
        (BadResponse, "no usage figure yet"),
    ),
    (
        "aussie/usage_not_broadband_400.json",
        _aussie,
        (BadResponse, "usedMb missing"),
    ),
    (
        "aussie/telephony_usage.json",
        _aussie,
        (BadResponse, "usedMb missing"),
    ),
]  # fmt: skip

OVERAGE = ("blocks_used", "bytes_per_block", "max_charge")


@pytest.mark.parametrize(
    ("name", "parse", "expected"), ROWS, ids=[f"{r[0]}-{i}" for i, r in enumerate(ROWS)]
)
def test_parse_table(
    name: str, parse: Callable[[str], Snapshot], expected: dict[str, Any] | tuple[type, str]
) -> None:
    text = (REAL / name).read_text(encoding="utf-8")
    if isinstance(expected, tuple):
        error, phrase = expected
        with pytest.raises(error, match=None) as info:
            parse(text)
        assert phrase in str(info.value)
        return
    snap = parse(text)
    for key, value in expected.items():
        if key in ("devices", "history"):
            assert len(getattr(snap, key)) == value, key
        elif key in OVERAGE:
            assert snap.overage is not None and getattr(snap.overage, key) == value, key
        else:
            assert getattr(snap, key) == value, key


def test_every_real_body_has_a_source_line_and_a_row() -> None:
    rows = {r[0] for r in ROWS}
    for folder in sorted(p for p in REAL.iterdir() if p.is_dir()):
        sources = (folder / "SOURCES.md").read_text(encoding="utf-8")
        for body in sorted(folder.iterdir()):
            if body.name == "SOURCES.md":
                continue
            assert f"`{body.name}`" in sources, f"{body}: no line in SOURCES.md"
            rel = f"{folder.name}/{body.name}"
            parsed_elsewhere = body.suffix == ".html" and folder.name == "xfinity"
            assert rel in rows or parsed_elsewhere or _listed_elsewhere(rel), f"{rel}: no row"


def _listed_elsewhere(rel: str) -> bool:
    """Bodies checked by other tests: service lists, history, sign-in pages, API errors."""
    return rel in OTHER_TESTS


OTHER_TESTS = {
    "internode/services.xml",
    "internode/services_pretty.xml",
    "aussie/services_multi_nbn_voip_hardware.json",
    "xfinity/api_401_unauthenticated.json",
    "xfinity/api_404_plan_without_usage_meter.json",
    "xfinity/graphql_monthlyUsage_item_2024-02_fragment.json",
    "cookies/cookies_txt_extension_firefox_2018_amazon.txt",  # tests/test_xfinity_cookies.py
    # router providers: read in their own tests (tests/test_provider_<name>.py) and served by
    # their fakes
    "fritz/tr64desc.xml",
    "fritz/igddesc.xml",
    "fritz/description.json",
    "fritz/GetAddonInfos_telegraf.xml",
    "fritz/GetInfo_7490_readme.xml",
    "openwrt/session_login.json",
    "openwrt/permission_denied.json",
    "openwrt/access_denied.json",
    "openwrt/network_interface_wan_status.json",
    "openwrt/network_device_status_eth0.json",
    "openwrt/system_info.json",
    "huawei_lte/month_statistics_mobitra.xml",
    "huawei_lte/month_statistics_h153_issue.xml",
    "huawei_lte/start_date_b525.xml",
    "netgear_lte/model_lm1200_ha.json",
    # flow exports, decoded in tests/test_netflow_decode.py
    "netflow/v5_icmp_and_multicast.hex",
    "netflow/v9_templates_and_8_flows.hex",
    "netflow/v9_12_flows_no_template.hex",
    "netflow/ipfix_templates_and_flows.hex",
    "netflow/ipfix_two_data_sets.hex",
    "netflow/softflowd_v9_flow_times.hex",  # flow times: tests/test_flow_windows.py
    "netflow/softflowd_ipfix_flow_times.hex",
    # polled device sources: parsed in tests/test_device_<name>.py and served by their fakes
    "unifi/stat_sta_wired_client.json",
    "unifi/stat_sta_wireless_client.json",
    "unifi/login_unifi_os.json",
    "unifi/stat_report_daily_user_row.json",  # built, not captured: its SOURCES.md says so
    "unifi/stat_sysinfo.json",
    "nlbw/download_mac_ip.json",
    "nlbw/periods.json",
}
# UPnP gateways: descriptions, SCPDs and SOAP replies read through async-upnp-client in
# tests/test_upnp.py (a device is several files, not one body per parser call)
OTHER_TESTS |= {
    f"upnp/{name}"
    for name in (
        "dlink_dir890l_InternetGatewayDevice.xml",
        "dlink_dir890l_Layer3Forwarding.xml",
        "dlink_dir890l_OSInfo.xml",
        "dlink_dir890l_WANCommonInterfaceConfig.xml",
        "dlink_dir890l_WANEthernetLinkConfig.xml",
        "dlink_dir890l_WANIPConnection.xml",
        "miniupnpd_L3F.xml",
        "miniupnpd_WANCfg.xml",
        "miniupnpd_WANIP6FC.xml",
        "miniupnpd_WANIPCn.xml",
        "miniupnpd_rootDesc.xml",
        "tinyupnp_issue20_GetTotalBytesReceived.xml",
        "fritzbox_netmeter_GetAddonInfos.xml",
    )
}
# the kernel's routing tables, read for the default gateway in tests/test_lan.py
OTHER_TESTS |= {"proc/route.txt", "proc/ipv6_route.txt"}


def test_internode_service_lists_and_history() -> None:
    from capwatch.providers.internode import choose_service, parse_history, parse_services

    services = parse_services((REAL / "internode/services.xml").read_text())
    assert services == [("0000000", "Personal_ADSL")]
    assert choose_service(services, None) == "0000000"
    history = (REAL / "internode/history_two_days.xml").read_text()
    assert [n for _, n in parse_history(history)] == [2_084_408_661, 3_038_963_621]
    # a usage or history answer's own <service> element is not a service list entry
    assert parse_services((REAL / "internode/usage_capped.xml").read_text()) == []


def test_aussie_service_list_with_voip_and_hardware() -> None:
    from capwatch.errors import ConfigError
    from capwatch.providers.aussie import choose_service

    payload = json.loads((REAL / "aussie/services_multi_nbn_voip_hardware.json").read_text())
    with pytest.raises(ConfigError, match="3 broadband services"):
        choose_service(payload)
    assert choose_service(payload, "1000004") == "1000004"
    with pytest.raises(ConfigError):
        choose_service(payload, "1000006")  # the hardware entry


def test_xfinity_api_errors_as_served() -> None:
    from capwatch.providers.xfinity.api import Exchange, interpret

    def run(name: str, status: int) -> Snapshot:
        text = (REAL / "xfinity" / name).read_text()
        ex = Exchange("json", "GET", "usage", status, None, "application/json", text)
        return interpret(ex, account="home", tz=NY, observed_at=datetime(2024, 4, 18, tzinfo=UTC))

    with pytest.raises(AuthRequired):
        run("api_401_unauthenticated.json", 401)
    snap = run("api_404_plan_without_usage_meter.json", 404)
    assert snap.unlimited and snap.used_bytes is None


def test_xfinity_graphql_month_fragment_with_boolean_overage() -> None:
    from capwatch.providers.xfinity.parse_graphql import parse_usage_graphql

    item = json.loads(
        (REAL / "xfinity/graphql_monthlyUsage_item_2024-02_fragment.json").read_text()
    )
    reply = {
        "data": {"accountByServiceAccountId": {"internet": {"usage": {"monthlyUsage": [item]}}}}
    }
    snap = parse_usage_graphql(reply, tz=NY, observed_at=datetime(2024, 2, 20, 17, tzinfo=UTC))
    assert (snap.used_bytes, snap.cap_bytes) == (558 * GB, 1230 * GB)


def test_the_same_plan_read_from_graphql_and_from_usage_json_has_one_cap() -> None:
    """Issue 17 must show: a real GraphQL reply and a real usage-JSON reply of the same kind of
    account (the 1.2 TB plan, September 2025) give the same cap within "1.23 TB"'s rounding."""
    at = datetime(2025, 9, 17, 16, tzinfo=UTC)
    gql = _xfinity("graphql", at)(
        (REAL / "xfinity/graphql_usage_2025-09_limited_tb_cap.json").read_text()
    )
    usage = _xfinity("json", at)(
        (REAL / "xfinity/usage_json_2025-09_twelve_months_devices_elided.json").read_text()
    )
    assert gql.cap_bytes is not None and usage.cap_bytes is not None
    assert abs(gql.cap_bytes - usage.cap_bytes) <= 5 * GB  # 1.23 TB is 1225-1235 GB


def test_errors_are_capwatch_errors() -> None:
    assert all(issubclass(e[0], CapwatchError) for _, _, e in ROWS if isinstance(e, tuple))


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("login_username_step_2024-05.html", "login-username"),
        ("login_password_step_2024-05.html", "login-password"),
        ("login_verification_code_step_RECONSTRUCTED.html", "mfa"),
    ],
)
def test_xfinity_sign_in_pages_as_they_are(name: str, kind: str) -> None:
    """The real two-step pages (2024) are told apart as the browser login needs (which fields to
    fill); the old one-page form is driven in test_xfinity_browser (the fake's login_single)."""
    from capwatch.providers.xfinity.pages import classify_html

    html = (REAL / "xfinity" / name).read_text(encoding="utf-8")
    assert classify_html(html).value == kind
