"""Reports delivered for real: SMTP on loopback (aiosmtpd, AUTH) and Apprise json:// to HTTP."""

from __future__ import annotations

import base64
import io
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from capwatch.notify.apprise_adapter import for_email, send, url_secrets
from capwatch.notify.outbox import deliver_pending, enqueue
from capwatch.notify.reports import current_view
from capwatch.notify.schedule import queue_due_reports
from capwatch.units import format_bytes as gb
from capwatch.units import format_range
from tests.fixtures.common import free_port
from tests.fixtures.smtp import SMTP_PASSWORD, NotifyEnv

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

CHICAGO = ZoneInfo("America/Chicago")
SUNDAY_8AM = datetime(2026, 11, 22, 8, 5, tzinfo=CHICAGO)
FIRED = datetime(2026, 11, 22, 8, 0, tzinfo=CHICAGO)  # the weekly cron's default time


def _forecast_at(env: NotifyEnv, now: datetime) -> tuple[int, int, int, int]:
    """Forecast and allowance the report uses (whichever forecaster is installed)."""
    _, summary = current_view(env.settings, env.store, "home", now)
    assert summary.forecast is not None and summary.daily_allowance_bytes is not None
    fc = summary.forecast
    return fc.expected_bytes, fc.low_bytes, fc.high_bytes, summary.daily_allowance_bytes


def _png_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    img.load()
    return img.size


def test_weekly_report_arrives_by_smtp(notify_env: NotifyEnv, smtp_server, caplog) -> None:  # type: ignore[no-untyped-def]
    settings = notify_env.reload({"mail": smtp_server.url()})
    caplog.set_level(logging.DEBUG)
    keys = queue_due_reports(notify_env.store, settings, SUNDAY_8AM)
    assert keys == ["weekly:home:2026-W47"]
    stats = deliver_pending(notify_env.store, settings, wait_s=0.01, now=SUNDAY_8AM)
    assert (stats.sent, stats.failed) == (1, 0)
    assert smtp_server.logins == ["capwatch"]
    fc = _forecast_at(notify_env, FIRED)
    [msg] = smtp_server.messages
    assert msg["Subject"] == f"capwatch home: 629 GB of 1.23 TB (51.2%), projected {gb(fc[0])}"
    assert msg.get_content_type() == "multipart/related"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    rng = format_range(fc[1], fc[2])
    for needle in (
        "629 GB",
        "1.23 TB",
        "51.2%",
        gb(fc[0]),
        rng,
        f"{gb(fc[3])} per day",
        "Days left",
    ):
        assert needle in text, needle
        assert needle in html, needle
    [image] = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<capwatch-chart.png>"
    assert 'src="cid:capwatch-chart.png"' in html
    assert _png_size(image.get_content()) == (1280, 1200)
    assert SMTP_PASSWORD not in caplog.text


def test_report_reaches_a_json_webhook(notify_env: NotifyEnv, json_receiver) -> None:  # type: ignore[no-untyped-def]
    settings = notify_env.reload({"hook": json_receiver.url})
    queue_due_reports(notify_env.store, settings, SUNDAY_8AM)
    stats = deliver_pending(notify_env.store, settings, wait_s=0.01, now=SUNDAY_8AM)
    assert stats.sent == 1
    [body] = json_receiver.bodies
    assert body["title"].startswith("capwatch home: 629 GB of 1.23 TB")
    expected = gb(_forecast_at(notify_env, FIRED)[0])
    assert f"Projected at cycle end: {expected}" in body["message"]
    [att] = body["attachments"]
    assert att["filename"] == "capwatch-chart.png" and att["mimetype"] == "image/png"
    assert _png_size(base64.b64decode(att["base64"])) == (1280, 1200)


def test_monthly_summary_after_the_cycle_closes(notify_env: NotifyEnv, smtp_server) -> None:  # type: ignore[no-untyped-def]
    settings = notify_env.reload({"mail": smtp_server.url()}, kinds='["monthly"]')
    too_early = datetime(2026, 11, 1, 20, tzinfo=CHICAGO)  # within monthly_delay_hours
    assert queue_due_reports(notify_env.store, settings, too_early) == []
    later = datetime(2026, 11, 2, 9, tzinfo=CHICAGO)
    assert queue_due_reports(notify_env.store, settings, later) == ["monthly:home:2026-10"]
    deliver_pending(notify_env.store, settings, wait_s=0.01, now=later)
    [msg] = smtp_server.messages
    assert msg["Subject"] == "capwatch home: October 2026 used 1.30 TB of 1.23 TB (105.8%)"
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "Over the cap by 71.0 GB" in text and "$20.00" in text
    assert "Previous cycle" in text and "1.00 TB" in text
    assert "Average of last 2" in text and "950 GB" in text


def test_alert_event_from_the_alerting_service(notify_env: NotifyEnv, json_receiver) -> None:  # type: ignore[no-untyped-def]
    settings = notify_env.reload({"hook": json_receiver.url}, kinds='["alerts"]')
    at = datetime(2026, 11, 19, 12, tzinfo=CHICAGO)
    payload = {
        "account": "home",
        "rule": "projected",
        "level": "90",
        "kind": "fired",
        "at": at.isoformat(),
        "message": "projected to reach 95% of the cap",
        "value": 95.0,
    }
    assert enqueue(notify_env.store, "alert:home:projected:90:fired:x", "alerts", "home", payload)
    stats = deliver_pending(notify_env.store, settings, wait_s=0.01)
    assert stats.sent == 1
    [body] = json_receiver.bodies
    assert body["title"] == "capwatch home: Alert: projected to reach 95% of the cap"
    assert "Used:" in body["message"] and "629 GB" in body["message"]
    assert len(body["attachments"]) == 1


def test_adapter_reports_failures_without_secrets() -> None:
    port = free_port()  # nothing listens here
    url = f"json://admin:hunter2-secret@127.0.0.1:{port}/hook"
    result = send([url], title="t", body_text="b")
    assert not result.ok and result.failed == 1
    assert result.error is not None and "hunter2-secret" not in result.error
    assert "json" in result.error


def test_unknown_url_is_a_clear_error() -> None:
    result = send(["nosuchscheme://token-abcdefgh"], title="t", body_text="b")
    assert not result.ok
    assert result.error == "nosuchscheme:// URL not understood by Apprise"


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("mailto://user:p%40ss-word@smtp.example.com", "p@ss-word"),
        ("tgram://123456789:ABCdefGHIjklMNOpqr/12345", "123456789:ABCdefGHIjklMNOpqr"),
        ("discord://1234567890123/abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"),
        ("ntfy://ntfy.sh/my-very-private-topic", "my-very-private-topic"),
        ("json://host/path?token=tok-12345", "tok-12345"),
    ],
)
def test_url_secrets_cover_common_services(url: str, secret: str) -> None:
    assert secret in url_secrets(url)


def test_email_urls_get_html_and_inline() -> None:
    assert for_email("mailto://u:p@h?to=a@b") == "mailto://u:p@h?to=a@b&format=html&inline=yes"
    assert for_email("mailtos://u:p@h?inline=no") == "mailtos://u:p@h?inline=no&format=html"
    assert for_email("json://h/") == "json://h/"


def test_alerts_without_a_channel_are_shown_and_doctor_says_where_they_go(tmp_path, json_receiver):  # type: ignore[no-untyped-def]
    """Issue 16.1: no channel -> doctor warns, status and the pages show the alert; a mistyped
    Apprise URL fails doctor; `capwatch notify test` reports per channel what happened."""
    from datetime import UTC, datetime

    from click.testing import CliRunner
    from fastapi.testclient import TestClient

    from capwatch.cli import cli
    from capwatch.config import load_settings
    from capwatch.models import AlertState
    from capwatch.store import open_store
    from capwatch.web.app import create_app

    config = tmp_path / "capwatch.toml"
    base = f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "home"\nprovider = "host"\n'
    config.write_text(base)
    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    message = "home: projected to use 1.39 TB of 1.20 TB (116%, 80% range 1.31–1.47 TB) by Nov 30"
    try:
        store.ensure_account("home", "host", "UTC")
        store.save_alert_states(
            [
                AlertState(
                    "home",
                    "projected",
                    "90",
                    datetime(2026, 11, 1, tzinfo=UTC),
                    True,
                    datetime(2026, 11, 18, tzinfo=UTC),
                    None,
                    116.0,
                    message,
                )
            ]
        )
        client = TestClient(create_app(settings, store), base_url="http://127.0.0.1")
        overview = client.get("/").text
        assert "116%" in overview and 'data-rule="projected"' in overview
        assert "116%" in client.get("/accounts/home").text
    finally:
        store.close()
    runner = CliRunner()
    status = runner.invoke(cli, ["--config", str(config), "status"], obj={})
    assert "alert projected 90" in status.stdout and "116%" in status.stdout
    doctor = runner.invoke(cli, ["--config", str(config), "doctor"], obj={})
    assert "alerts of home go to no channel" in doctor.stdout
    no_channel = runner.invoke(cli, ["--config", str(config), "notify", "test"], obj={})
    assert no_channel.exit_code == 2 and "no [[notify]] channel" in no_channel.stderr

    config.write_text(
        base + '[[notify]]\nname = "typo"\nurl = "ntfyy://mytopic"\n'
        f'[[notify]]\nname = "hook"\nurl = "json://127.0.0.1:{json_receiver.port}/hook"\n'
    )
    doctor = runner.invoke(cli, ["--config", str(config), "doctor"], obj={})
    assert doctor.exit_code == 1
    (typo,) = [ln for ln in doctor.stdout.splitlines() if "notify typo" in ln]
    assert "✗" in typo and "cannot use this ntfyy:// URL" in typo
    assert "go to no channel" not in doctor.stdout
    tested = runner.invoke(cli, ["--config", str(config), "notify", "test"], obj={})
    assert tested.exit_code == 1
    rows = {ln.split("│")[1].strip(): ln for ln in tested.stdout.splitlines() if ln.count("│") > 2}
    assert "sent" in rows["hook"] and "failed" in rows["typo"]
    [body] = json_receiver.bodies
    assert body["title"] == "capwatch test message" and "'hook'" in body["message"]
    only = runner.invoke(cli, ["--config", str(config), "notify", "test", "-c", "hook"], obj={})
    assert only.exit_code == 0 and len(json_receiver.bodies) == 2
