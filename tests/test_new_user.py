"""What a new user meets (issue 16): each test is named after the point it proves."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from capwatch.config import load_settings
from capwatch.models import AccountStatus, PollLogEntry, PollOutcome
from capwatch.service.coordinator import Coordinator
from capwatch.service.views import account_summary
from capwatch.store import open_store
from tests.fakes import meter
from tests.fixtures.common import FakeClock


async def test_point_3_a_new_session_clears_auth_required_at_once(
    meter_account: tuple[Coordinator, meter.MeterState, FakeClock],
) -> None:
    coordinator, state, clock = meter_account
    settings, store = coordinator.settings, coordinator.store
    state.faults.append("401")
    assert (await coordinator.poll_account("isp")).outcome is PollOutcome.AUTH
    summary = account_summary(settings, store, "isp", clock())
    assert summary.status is AccountStatus.AUTH_REQUIRED
    # `capwatch login` (or --import-cookies) saves a session in the account's directory
    session = Path(settings.data_dir) / "accounts" / "isp" / "session.json"
    session.parent.mkdir(parents=True, exist_ok=True)
    session.write_text("{}")
    later = datetime.now(UTC).timestamp() + 5
    os.utime(session, (later, later))
    summary = account_summary(settings, store, "isp", clock())
    assert summary.status is not AccountStatus.AUTH_REQUIRED
    # and the status then follows the polls: failures make it failing, a success ok
    for _ in range(3):
        state.faults.extend(["500"] * 3)
        clock.advance(timedelta(minutes=5))
        assert (await coordinator.poll_account("isp")).outcome is PollOutcome.SERVER
    assert account_summary(settings, store, "isp", clock()).status is AccountStatus.FAILING
    clock.advance(timedelta(minutes=5))
    assert (await coordinator.poll_account("isp")).ok
    assert account_summary(settings, store, "isp", clock()).status is AccountStatus.OK


async def test_point_12_a_short_outage_is_retried_soon_not_hours_later(
    meter_account: tuple[Coordinator, meter.MeterState, FakeClock],
) -> None:
    coordinator, state, _clock = meter_account
    state.faults.extend(["500"] * 3)
    await coordinator.poll_account("isp")
    assert coordinator.next_delay("isp") == 60.0  # was twice the interval (1800 s here)


def test_point_11_redaction_masks_whole_values_and_refuses_short_secrets() -> None:
    from capwatch.errors import ConfigError
    from capwatch.secrets import Secret, redact, register_secret

    with pytest.raises(ConfigError, match="too short"):
        Secret.literal("x").reveal()
    register_secret("Fin7tok")
    assert redact("xfinity Fin7tok=Fin7tok&Fin7toker") == "xfinity ***=***&Fin7toker"
    assert redact("token Fin7tok, url /a/Fin7tok/b") == "token ***, url /a/***/b"


def test_point_6_pages_get_an_html_404_and_a_favicon(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from capwatch.web.app import create_app

    config = tmp_path / "capwatch.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    try:
        client = TestClient(create_app(settings, store), base_url="http://127.0.0.1")
        page = client.get("/accounts/nope")
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "unknown account &#39;nope&#39;" in page.text and 'href="/"' in page.text
        lost = client.get("/no/such/page")
        assert lost.status_code == 404 and "<h1>Not found</h1>" in lost.text
        api = client.get("/api/v1/accounts/nope")
        assert api.status_code == 404 and api.json()["detail"]
        icon = client.get("/favicon.ico")
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
        assert 'rel="icon"' in client.get("/").text
    finally:
        store.close()


def test_point_13_a_read_only_command_on_an_unknown_account_creates_nothing(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from capwatch.cli import cli

    config = tmp_path / "capwatch.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    for command in ("status", "history"):
        result = CliRunner().invoke(cli, ["--config", str(config), command, "-a", "nope"], obj={})
        assert result.exit_code == 2 and "nope" in result.stderr
    assert not (tmp_path / "data").exists()


async def test_point_12_the_daemon_moves_the_next_poll_up_after_a_failure(
    meter_account: tuple[Coordinator, meter.MeterState, FakeClock],
) -> None:
    """The retry is scheduled a minute on, not left to the next hourly tick."""
    from capwatch.service.daemon import Daemon

    coordinator, state, _clock = meter_account

    class Scheduler:
        def __init__(self) -> None:
            self.moved: list[tuple[str, datetime]] = []

        def modify_job(self, job_id: str, next_run_time: datetime) -> None:
            self.moved.append((job_id, next_run_time))

    daemon = Daemon(coordinator.settings, coordinator.store, coordinator)
    scheduler = Scheduler()
    daemon._scheduler = scheduler
    state.faults.extend(["500"] * 3)
    before = datetime.now(UTC)
    await daemon.poll_job("isp")
    ((job, when),) = scheduler.moved
    assert job == "poll:isp"
    assert timedelta(seconds=55) <= when - before <= timedelta(seconds=70)


def _in_terminal(args: list[str], columns: int, env: dict[str, str]) -> str:
    """Run capwatch in a pseudo-terminal ``columns`` wide; return what it drew."""
    import fcntl
    import struct
    import subprocess
    import sys
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "capwatch", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")} | {"TERM": "xterm"},
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(60)
    os.close(master)
    import re

    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))


def test_point_8_status_fits_80_columns(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "home-cable-line"\n'
        'provider = "host"\n'
    )
    env = dict(os.environ)
    subprocess.run(
        [sys.executable, "-m", "capwatch", "--config", str(config), "poll"],
        env=env,
        check=True,
        capture_output=True,
    )
    screen = _in_terminal(["--config", str(config), "status"], 80, env)
    lines = [ln.rstrip("\r") for ln in screen.splitlines() if ln.strip()]
    assert max(len(ln) for ln in lines) <= 80, screen
    assert "home-cable-line" in screen and "…" not in screen
    for label in ("Used", "Cap", "Projected (80%)", "Allowance", "Days left", "Last reading"):
        assert any(ln.startswith(label) for ln in lines), (label, screen)
    wide = _in_terminal(["--config", str(config), "status"], 160, env)
    assert "┃ Account" in wide and "Last reading" in wide


def test_point_8_help_lists_whole_command_descriptions_at_80_columns() -> None:
    screen = _in_terminal(["--help"], 80, dict(os.environ))
    commands = screen.split("Commands:", 1)[1]
    assert "..." not in commands and "notify" in commands
    assert max(len(ln.rstrip("\r")) for ln in screen.splitlines()) <= 80


async def test_point_10_a_connect_error_says_where_and_why(tmp_path: Path) -> None:
    from tests.fixtures.common import free_port

    port = free_port()  # nothing listens there
    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "isp"\nprovider = "http_json"\n'
        f'cap = "1 TB"\n[accounts.options]\nurl = "http://127.0.0.1:{port}/usage"\n'
        'used_path = "$.used"\n'
    )
    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    try:
        result = await Coordinator(settings, store, retry_wait_s=0).poll_account("isp")
    finally:
        store.close()
    assert result.outcome is PollOutcome.CONNECT
    message = result.message or ""
    assert "cannot connect to 127.0.0.1: GET /usage: ConnectError:" in message
    assert "refused" in message.lower() or "failed" in message.lower(), message


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o"), ("zsh", "compdef")])
def test_point_8_shell_completion_as_the_readme_documents_it(shell: str, marker: str) -> None:
    import subprocess
    import sys

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert f"_CAPWATCH_COMPLETE={shell}_source capwatch" in readme
    env = dict(os.environ, _CAPWATCH_COMPLETE=f"{shell}_source")
    script = subprocess.run(
        [str(Path(sys.executable).with_name("capwatch"))],  # the console script, as installed
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert marker in script and "_CAPWATCH_COMPLETE" in script


def test_point_4_pages_and_emails_are_templates_on_one_base_layout(tmp_path: Path) -> None:
    """Pages and emails render through Jinja2 on base.html, with autoescaping: a hostile alert
    text or error stays text in the overview, the account page, the 404 page and the email."""
    from fastapi.testclient import TestClient

    from capwatch.models import AlertState, CycleSummary
    from capwatch.notify.templates import Body, Row, render_html, render_text
    from capwatch.templating import TEMPLATES, environment
    from capwatch.web.app import create_app

    env = environment()
    assert env.autoescape is not False
    for name in ("page.html", "email.html"):
        assert env.loader is not None
        source = env.loader.get_source(env, name)[0]
        assert '{% extends "base.html" %}' in source
    for name in ("overview.html", "account.html", "not_found.html"):
        assert '{% extends "page.html" %}' in (TEMPLATES / name).read_text()
    hostile = '<script>alert("x")</script>'
    body = Body(hostile, hostile, [Row(hostile, hostile)], notes=[hostile])
    html = render_html(body)
    assert hostile not in html and "&lt;script&gt;" in html
    assert html.startswith("<!doctype html>") and '<meta charset="utf-8">' in html
    assert hostile in render_text(body)  # plain text is not HTML-escaped

    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        '[[accounts]]\nname = "home"\nprovider = "host"\ncap = "1 TB"\n'
    )
    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    try:
        now = datetime.now(UTC)
        summary: CycleSummary = account_summary(settings, store, "home", now)
        store.save_alert_states(
            [AlertState("home", "used", "90", summary.cycle.start, True, now, None, 95.0, hostile)]
        )
        store.log_poll(PollLogEntry("home", now, 1.0, PollOutcome.CONNECT, "ConnectError", hostile))
        client = TestClient(create_app(settings, store), base_url="http://127.0.0.1")
        for path in ("/", "/accounts/home", "/accounts/%3Cscript%3E"):
            page = client.get(path).text
            assert hostile not in page and "<script>alert" not in page, path
            assert page.startswith("<!doctype html>") and 'href="/static/capwatch.css"' in page
        assert "&lt;script&gt;" in client.get("/").text
    finally:
        store.close()
