"""Decoding real flow exports (softflowd's, as the decoder's project recorded them) and
attributing their bytes to LAN devices."""

from __future__ import annotations

from ipaddress import ip_address
from pathlib import Path

import pytest

from capwatch.devices.flows import (
    Flow,
    FlowDecodeError,
    FlowDecoder,
    attribute,
    parse_networks,
    to_flow,
)

REAL = Path(__file__).resolve().parent / "data" / "real" / "netflow"


def packet(name: str) -> bytes:
    """One recorded export packet (hex, wrapped)."""
    return bytes.fromhex("".join((REAL / f"{name}.hex").read_text(encoding="ascii").split()))


def test_v5_flows_and_what_stays_in_the_lan() -> None:
    flows = FlowDecoder().decode(packet("v5_icmp_and_multicast"), "192.0.2.1")
    assert [(str(f.src), str(f.dst), f.bytes) for f in flows] == [
        ("172.17.0.2", "172.17.0.1", 840),
        ("172.17.0.1", "172.17.0.2", 840),
        ("172.17.0.1", "224.0.0.251", 169),
    ]
    # Both ends in the LAN, or a multicast peer: nothing reaches the meter.
    assert attribute(flows, parse_networks(["172.17.0.0/16"])) == {}
    # With only .2 as "the LAN", .1 is outside: the ping counts for .2 both ways.
    assert attribute(flows, parse_networks(["172.17.0.2/32"])) == {("172.17.0.2", None): 1680}


def test_v9_data_before_its_template_is_held_and_counted_when_it_arrives() -> None:
    decoder = FlowDecoder()
    assert decoder.decode(packet("v9_12_flows_no_template"), "192.0.2.1") == []
    assert decoder.waiting() == 1
    flows = decoder.decode(packet("v9_templates_and_8_flows"), "192.0.2.1")
    assert decoder.waiting() == 0
    # 8 flows of the template packet (164,207 bytes) and the 12 held back (8,843 bytes).
    assert len(flows) == 20
    assert sum(f.bytes for f in flows[:8]) == 164_207
    assert sum(f.bytes for f in flows[8:]) == 8_843
    assert {str(f.src) for f in flows} == {"127.0.0.1"}


def test_templates_are_kept_per_exporter() -> None:
    decoder = FlowDecoder()
    decoder.decode(packet("v9_templates_and_8_flows"), "192.0.2.1")
    assert decoder.decode(packet("v9_12_flows_no_template"), "192.0.2.1") != []
    assert decoder.decode(packet("v9_12_flows_no_template"), "192.0.2.99") == []


def test_ipfix_v4_and_v6_attributed_to_lan_devices() -> None:
    decoder = FlowDecoder()
    flows = decoder.decode(packet("ipfix_templates_and_flows"), "exporter")
    flows += decoder.decode(packet("ipfix_two_data_sets"), "exporter")
    lan = parse_networks(["172.17.0.0/16", "fde6:6f14:e0f1:9609::/64"])
    assert attribute(flows, lan) == {
        # 151.101.0.223 (5575 in, 1871 out) and DNS with 127.0.0.1 (54+118+54+166).
        ("172.17.0.2", None): 7_838,
        # fd41:b714:3f86::1 (74 twice) and 2a04:4e42:200::223 (320); the multicast and
        # link-local peers count for nobody.
        ("fde6:6f14:e0f1:9609:0:242:ac11:2", None): 468,
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xff" + b"\x00" * 40, r"not NetFlow v5/v9 or IPFIX \(version field 65535\)"),
        (b"\x00", r"version field None"),
        (packet("v5_icmp_and_multicast")[:30], r"malformed NetFlow v5 packet"),
    ],
)
def test_bad_packets_are_one_line_errors(data: bytes, message: str) -> None:
    with pytest.raises(FlowDecodeError, match=message):
        FlowDecoder().decode(data, "192.0.2.1")


def test_macs_from_ipfix_and_v9_fields() -> None:
    v9 = to_flow(
        {
            "IPV4_SRC_ADDR": "192.168.1.20",
            "IPV4_DST_ADDR": "203.0.113.5",
            "IN_BYTES": 1500,
            "IN_SRC_MAC": 0xB827EB123456,
        }
    )
    assert v9 == Flow(
        ip_address("192.168.1.20"), ip_address("203.0.113.5"), 1500, "b8:27:eb:12:34:56", None
    )
    ipfix = to_flow(
        {
            "sourceIPv6Address": bytes.fromhex("20010db8000000000000000000000001"),
            "destinationIPv6Address": bytes.fromhex("20010db8000100000000000000000020"),
            "octetDeltaCount": 90,
            "destinationMacAddress": bytes.fromhex("b827eb123456"),
            "sourceMacAddress": bytes.fromhex("000000000000"),
        }
    )
    assert ipfix is not None
    assert (str(ipfix.dst), ipfix.dst_mac, ipfix.src_mac) == (
        "2001:db8:1::20",
        "b8:27:eb:12:34:56",
        None,
    )
    assert attribute([ipfix], parse_networks(["2001:db8:1::/64"])) == {
        ("2001:db8:1::20", "b8:27:eb:12:34:56"): 90
    }
    assert to_flow({"IPV4_SRC_ADDR": "192.168.1.20", "IN_BYTES": 5}) is None


def test_softflowd_v9_padding_the_decoder_trips_on_is_read() -> None:
    captured = Path(__file__).resolve().parent / "data" / "captured" / "softflowd"
    text = (captured / "v9_options_and_17_flows.hex").read_text(encoding="ascii")
    flows = FlowDecoder().decode(bytes.fromhex("".join(text.split())), "127.0.0.1")
    assert len(flows) == 17
    assert sum(f.bytes for f in flows) == 2_575_936
    lan = parse_networks(["127.0.0.2/31", "127.0.0.4/30", "127.0.0.8/31"])
    assert {a for a, _ in attribute(flows, lan)} == {f"127.0.0.{k}" for k in range(2, 10)}
