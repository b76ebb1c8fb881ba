"""The ``device_spike`` alert through the latch and the outbox: a week of device data with one
spike fires once, and only once, however often it is evaluated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from capwatch.config import validate_text
from capwatch.models import DeviceTraffic, Reading
from capwatch.service.accounts import build_runtime
from capwatch.service.alerting import evaluate_and_queue
from capwatch.service.views import account_summary
from capwatch.store import open_store

GB = 10**9
CS = datetime(2026, 11, 1, 4, tzinfo=UTC)  # local midnight, 1 November (New York)
TV, PHONE = "b8:27:eb:00:00:01", "da:a1:19:00:00:03"


def test_a_week_with_one_spike_fires_once(tmp_path: Path) -> None:
    settings = validate_text(
        f'data_dir = "{tmp_path}"\n'
        '[[accounts]]\nname = "home"\nprovider = "xfinity"\ncap = "1200 GB"\n'
        '[accounts.cycle]\ntimezone = "America/New_York"\n'
        '[device_names]\n"b8:27:eb:00:00:01" = "Living-room TV"\n',
        tmp_path / "capwatch.toml",
    )
    store = open_store(f"sqlite:///{tmp_path / 'capwatch.db'}")
    store.ensure_account("home", "xfinity", "America/New_York")
    meter = 0
    for i in range(8):
        noon = CS + timedelta(days=i + 2, hours=12)  # 3 to 10 November
        tv = 86 * GB if i == 5 else 14 * GB  # the spike: 8 November, 6x the usual
        phone = 2 * GB if i == 5 else 0.3 * GB  # also 6x, but under the 10 GB floor
        traffic = [DeviceTraffic("192.168.1.20", tv, TV)]
        traffic.append(DeviceTraffic("192.168.1.40", int(phone), PHONE))
        store.add_device_traffic("home", noon, "netflow", traffic)
        meter += tv + int(phone)
        store.add_readings([Reading("home", noon, CS, meter, 1200 * GB, "isp")])
    runtime = build_runtime(settings.account("home"), settings)
    now = CS + timedelta(days=2)
    while now < CS + timedelta(days=12):  # every 3 hours from 3 to 12 November
        summary = account_summary(settings, store, "home", now)
        evaluate_and_queue(settings, store, runtime, summary, auth_required=False)
        now += timedelta(hours=3)
    spikes = [i.payload for i in store.outbox_pending(500) if i.payload["rule"] == "device_spike"]
    assert [p["message"] for p in spikes] == [
        "Living-room TV used 86.0 GB yesterday (Sun Nov 8), 6x its usual (14.0 GB)"
    ]
    assert spikes[0]["kind"] == "fired" and spikes[0]["at"].startswith("2026-11-09")
    states = [s for s in store.alert_states("home").values() if s.rule == "device_spike"]
    assert not any(s.active for s in states)  # cleared quietly once the day had passed
    store.close()
