"""The devices API in-process: the per-day series, renames (CSRF-guarded), the OpenAPI entry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from capwatch.config import validate_text
from capwatch.store import open_store
from capwatch.web.app import create_app
from tests.fixtures.common import FakeClock
from tests.test_devices_cli import GB, NOW, TV, seed_month


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'capwatch.db'}"
    settings = validate_text(
        f'data_dir = "{tmp_path}"\ndatabase_url = "{url}"\n'
        '[[accounts]]\nname = "home"\nprovider = "xfinity"\ncap = "1200 GB"\n'
        '[accounts.cycle]\ntimezone = "America/New_York"\n',
        tmp_path / "capwatch.toml",
    )
    seed_month(url)
    store = open_store(url)
    app = create_app(settings, store, clock=FakeClock(NOW))
    yield TestClient(base_url="http://127.0.0.1", app=app)
    store.close()


def test_daily_series_and_what_no_device_accounts_for(client: TestClient) -> None:
    body = client.get("/api/v1/accounts/home/devices/daily").json()
    assert body["day"] == "2026-11-28" and len(body["days"]) == 28
    tv = body["devices"][0]
    assert (tv["key"], tv["name"]) == (f"mac:{TV}", TV)
    assert tv["daily"][-1] == 86 * GB and sum(tv["daily"]) == tv["cycle_bytes"]
    assert body["unaccounted_bytes"] == 280 * GB
    past = client.get("/api/v1/accounts/home/devices/daily", params={"day": "2026-11-05"})
    assert past.json()["days"][-1] == "2026-11-05"
    bad = client.get("/api/v1/accounts/home/devices/daily", params={"cycle": "2026-1"})
    assert bad.status_code == 422
    assert client.get("/api/v1/accounts/nobody/devices/daily").status_code == 404


def test_rename_needs_the_csrf_header_and_a_known_device(client: TestClient) -> None:
    url = "/api/v1/accounts/home/devices/192.168.1.20/name"
    assert client.put(url, json={"name": "Living-room TV"}).status_code == 403
    ok = client.put(url, json={"name": "Living-room TV"}, headers={"X-Capwatch-Request": "1"})
    assert ok.status_code == 200
    body = client.get("/api/v1/accounts/home/devices/daily").json()
    assert body["devices"][0]["name"] == "Living-room TV"
    gone = client.put(
        "/api/v1/accounts/home/devices/10.9.9.9/name",
        json={"name": "x"},
        headers={"X-Capwatch-Request": "1"},
    )
    assert gone.status_code == 404


def test_openapi_declares_the_routes(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    daily = paths["/api/v1/accounts/{name}/devices/daily"]["get"]
    assert daily["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/DevicesOut"
    )
    assert "put" in paths["/api/v1/accounts/{name}/devices/{key}/name"]


def test_account_page_shows_who_used_it_with_the_unaccounted_part(client: TestClient) -> None:
    page = client.get("/accounts/home")
    assert page.status_code == 200
    html = page.text
    assert '<h2 id="h-who">Who used it</h2>' in html
    assert html.count('class="dev0"') == 28  # the top device has a segment every day
    assert "Sat Nov 28: b8:27:eb:00:00:01 86.0 GB" in html
    assert "no device" in html and 'data-bytes="280000000000"' in html
    assert "Raspberry Pi Foundation" in html


def test_metrics_carry_the_top_devices_and_other(client: TestClient) -> None:
    from datetime import timedelta

    from capwatch.models import DeviceTraffic
    from tests.test_devices_cli import CS

    store = client.app.state.store  # type: ignore[attr-defined]
    extra = [DeviceTraffic(f"192.168.1.{100 + i}", (i + 1) * 10**6) for i in range(10)]
    store.add_device_traffic("home", CS + timedelta(days=3, hours=12), "netflow", extra)
    text = client.get("/metrics").text
    series = [
        line
        for line in text.splitlines()
        if line.startswith('capwatch_device_usage_bytes{account="home"')
    ]
    assert len(series) == 11  # 13 devices: the top 10 and one "other"
    other = [line for line in series if 'device="other"' in line]
    # The three smallest of the ten extra devices (1, 2 and 3 MB) make up "other".
    assert len(other) == 1 and float(other[0].rsplit(" ", 1)[1]) == 6e6
    assert any(f'device="mac:{TV}"' in line for line in series)


@pytest.mark.parametrize(
    "params",
    [
        {"cycle": "0000-01"},
        {"cycle": "9999-12"},
        {"day": "0001-01-01"},
        {"day": "9999-12-31"},
        {"cycle": "2026-11", "day": "2026-11-02"},
    ],
)
def test_days_no_cycle_can_hold_are_422s_in_the_framework_shape(
    client: TestClient, params: dict[str, str]
) -> None:
    answer = client.get("/api/v1/accounts/home/devices/daily", params=params)
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert isinstance(detail, list) and detail[0]["loc"][0] == "query"


def test_account_page_has_a_labelled_rename_control_per_device(client: TestClient) -> None:
    html = client.get("/accounts/home").text
    # Hidden until /static/devices.js shows it (it calls the PUT route with the CSRF header).
    assert f'<details class="rename" data-key="mac:{TV}" data-unrenamed="{TV}" hidden>' in html
    assert f'<summary aria-label="Rename {TV}">rename</summary>' in html
    assert f'<label for="rename-1">Name<span class="sr-only"> for {TV}</span></label>' in html
    assert '<script src="/static/devices.js" defer></script>' in html
    js = client.get("/static/devices.js")
    assert js.status_code == 200 and '"X-Capwatch-Request": "1"' in js.text
    assert "<noscript>" in html  # says how to rename without the script


def test_no_device_is_the_meter_through_the_same_day_as_the_devices(tmp_path: Path) -> None:
    """Today's meter (a partial day no device figure covers yet) is not "no device"."""
    from capwatch.models import Reading
    from capwatch.service.devices import account_devices
    from tests.test_devices_cli import CS

    url = f"sqlite:///{tmp_path / 'capwatch.db'}"
    settings = validate_text(
        f'data_dir = "{tmp_path}"\ndatabase_url = "{url}"\n'
        '[[accounts]]\nname = "home"\nprovider = "xfinity"\ncap = "1200 GB"\n'
        '[accounts.cycle]\ntimezone = "America/New_York"\n',
        tmp_path / "capwatch.toml",
    )
    seed_month(url)
    store = open_store(url)
    try:
        meter = store.latest_reading("home")
        assert meter is not None
        this_morning = NOW - timedelta(hours=1)  # 9:00 on 29 November in New York
        store.add_readings(
            [Reading("home", this_morning, CS, meter.used_bytes + 50 * GB, 1200 * GB, "isp")]
        )
        _, view = account_devices(settings, store, "home", NOW)
    finally:
        store.close()
    assert view.day.isoformat() == "2026-11-28"
    assert view.meter_bytes == meter.used_bytes  # through 28 November, as the devices are
    assert view.unaccounted_bytes == 280 * GB
