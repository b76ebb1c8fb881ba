"""Hardening, second pass (issue 15): each test is named after the point it proves."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from capwatch.config import load_settings
from capwatch.models import Cycle, PollOutcome
from capwatch.service.coordinator import Coordinator
from capwatch.service.views import account_summary
from capwatch.store import open_store
from tests.fakes import meter
from tests.fakes._server import serve
from tests.fixtures.common import FakeClock

MID_CYCLE = datetime(2026, 11, 18, 12, tzinfo=UTC)


async def _poll_at(
    coordinator: Coordinator, state: meter.MeterState, clock: FakeClock, used: int
) -> Any:
    state.used_bytes = used
    clock.advance(timedelta(minutes=30))
    return await coordinator.poll_account("isp", force=True)


async def test_point_1_one_wild_reading_does_not_rule_the_cycle(
    meter_account: tuple[Coordinator, meter.MeterState, FakeClock],
) -> None:
    coordinator, state, clock = meter_account
    store, settings = coordinator.store, coordinator.settings
    assert (await _poll_at(coordinator, state, clock, 300 * 10**9)).ok
    wild = await _poll_at(coordinator, state, clock, 5 * 10**15)  # 5000 TB in half an hour
    assert wild.outcome is PollOutcome.BAD_RESPONSE and not wild.stored
    assert "implausible figure" in (wild.message or "") and "max_rate_mbps" in (wild.message or "")
    assert store.poll_log("isp", limit=1)[0].message == wild.message
    archived = [p.body for p in store.payloads("isp")]
    assert any(str(5 * 10**15) in body for body in archived), archived
    assert (await _poll_at(coordinator, state, clock, 310 * 10**9)).ok
    summary = account_summary(settings, store, "isp", clock())
    assert summary.used_bytes == 310 * 10**9
    assert summary.percent is not None and summary.percent < 30
    fired = {k for k, s in store.alert_states("isp").items() if s.active}
    assert not any(rule in ("used", "projected") for rule, _ in fired), fired
    # the ISP's own downward correction is its word: 500 GB revised to 400 GB shows 400 GB
    assert (await _poll_at(coordinator, state, clock, 500 * 10**9)).ok
    assert (await _poll_at(coordinator, state, clock, 400 * 10**9)).ok
    assert account_summary(settings, store, "isp", clock()).used_bytes == 400 * 10**9


async def test_point_1_a_fast_but_possible_figure_is_believed(
    meter_account: tuple[Coordinator, meter.MeterState, FakeClock],
) -> None:
    """Within what a 1 Gbit/s line carries in 30 minutes (225 GB) the figure is stored."""
    coordinator, state, clock = meter_account
    assert (await _poll_at(coordinator, state, clock, 300 * 10**9)).ok
    assert (await _poll_at(coordinator, state, clock, 520 * 10**9)).ok


def _cli(config: Path, *args: str, clock: FakeClock | None = None) -> Any:
    from click.testing import CliRunner

    from capwatch.cli import cli

    obj = {"clock": clock} if clock else {}
    return CliRunner().invoke(cli, ["--config", str(config), *args], obj=obj)


@pytest.mark.parametrize("damage", ["empty", "garbage", "torn pages"])
def test_point_3_an_empty_or_damaged_store_is_never_replaced(tmp_path: Path, damage: str) -> None:
    config = tmp_path / "capwatch.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    db = tmp_path / "data" / "capwatch.db"
    if damage == "torn pages":
        assert _cli(config, "poll").exit_code == 0
        body = bytearray(db.read_bytes())
        body[4096 : 4096 * 6] = b"\x55" * len(body[4096 : 4096 * 6])
        db.write_bytes(bytes(body))
    else:
        db.parent.mkdir(parents=True)
        db.write_bytes(b"" if damage == "empty" else b"not a database, " * 200)
    before = db.read_bytes()
    for command in ("status", "poll", "history"):
        result = _cli(config, command)
        assert result.exit_code == 2, (command, result.output)
        (line,) = result.stderr.strip().splitlines()
        assert str(db) in line and "Traceback" not in result.output
    assert db.read_bytes() == before  # nothing replaced, recreated or migrated
    doctor = _cli(config, "doctor")
    assert doctor.exit_code == 1
    (row,) = [ln for ln in doctor.stdout.splitlines() if "store" in ln and "✗" in ln]
    assert "capwatch.db" in row
    assert db.read_bytes() == before


def _web_settings(tmp_path: Path, web: str) -> Any:
    config = tmp_path / "capwatch.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n[web]\n{web}')
    return config


@pytest.mark.parametrize(
    ("web", "key"),
    [
        ('host = "0.0.0.0"\nauth_token = ""\n', "auth_token"),
        ('auth_token = "   "\n', "auth_token"),
        ('username = ""\npassword = "pw-long-enough"\n', "username"),
        ('username = "me"\npassword = ""\n', "password"),
    ],
)
def test_point_6_empty_credentials_are_config_errors(tmp_path: Path, web: str, key: str) -> None:
    config = _web_settings(tmp_path, web)
    result = _cli(config, "status")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert key in line and "empty" in line


def test_point_6_a_token_reference_resolving_to_nothing_stops_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from capwatch.errors import ConfigError
    from capwatch.web.app import create_app

    monkeypatch.setenv("CW_TOKEN", "")
    settings = load_settings(_web_settings(tmp_path, 'auth_token = {env = "CW_TOKEN"}\n'))
    store = open_store(settings.resolved_database_url())
    try:
        with pytest.raises(ConfigError, match="empty"):
            create_app(settings, store)
    finally:
        store.close()


def test_point_6_and_7_credentials_compare_as_bytes(tmp_path: Path) -> None:
    """Empty bearer refused; a non-ASCII password lets its owner in; a wrong user name and a
    wrong password get the same answer."""
    import base64

    from fastapi.testclient import TestClient

    from capwatch.web.app import create_app

    web = 'username = "jürgen"\npassword = "pässwörd-ünïcode"\n'
    settings = load_settings(_web_settings(tmp_path, web))
    store = open_store(settings.resolved_database_url())
    try:
        client = TestClient(base_url="http://127.0.0.1", app=create_app(settings, store))

        def basic(user: str, password: str) -> dict[str, str]:
            raw = f"{user}:{password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

        ok = client.get("/api/v1/accounts", headers=basic("jürgen", "pässwörd-ünïcode"))
        assert ok.status_code == 200
        wrong_user = client.get("/api/v1/accounts", headers=basic("jurgen", "pässwörd-ünïcode"))
        wrong_pw = client.get("/api/v1/accounts", headers=basic("jürgen", "password"))
        assert wrong_user.status_code == wrong_pw.status_code == 401
        assert wrong_user.json() == wrong_pw.json()
        for header in ("Bearer", "Bearer ", "Basic", "Basic !!!", "Basic é"):
            raw = {"Authorization": header.encode("utf-8")}
            assert client.get("/api/v1/accounts", headers=raw).status_code == 401
    finally:
        store.close()

    settings = load_settings(_web_settings(tmp_path, 'auth_token = "tökén-ümlaut-123"\n'))
    store = open_store(settings.resolved_database_url())
    try:
        client = TestClient(base_url="http://127.0.0.1", app=create_app(settings, store))
        good = {"Authorization": "Bearer tökén-ümlaut-123".encode()}
        assert client.get("/api/v1/accounts", headers=good).status_code == 200
        assert (
            client.get("/api/v1/accounts", headers={"Authorization": "Bearer"}).status_code == 401
        )
        bad = {"Authorization": "Bearer tökén-ümlaut-124".encode()}
        assert client.get("/api/v1/accounts", headers=bad).status_code == 401
    finally:
        store.close()


URL_CANARY = "Url-canary-3kQ9zP"
KEY_CANARY = "Key-canary-8vB2wR"


async def test_point_9_secrets_in_an_http_json_url_reach_no_log_and_no_archive(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from capwatch.logsetup import RedactingFilter

    clock = FakeClock(MID_CYCLE)
    state = meter.MeterState(clock=clock)
    state.faults.extend(["echo", "500", "echo"])
    with serve(meter.build(state)) as url:
        host = url.removeprefix("http://")
        options = meter.provider_options(url).replace(
            f'url = "{url}/usage"',
            f'url = "http://me:{URL_CANARY}@{host}/usage?apikey={KEY_CANARY}"',
        )
        config = tmp_path / "capwatch.toml"
        config.write_text(
            f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "isp"\n'
            f'provider = "http_json"\ncap = "provider"\n[accounts.options]\n{options}'
        )
        settings = load_settings(config)
        store = open_store(settings.resolved_database_url())
        handler = caplog.handler
        handler.addFilter(RedactingFilter())
        caplog.set_level(logging.DEBUG)
        try:
            coordinator = Coordinator(settings, store, clock=clock, retry_wait_s=0)
            for _ in range(4):
                clock.advance(timedelta(minutes=30))
                await coordinator.poll_account("isp", force=True)
            assert store.readings("isp"), "no poll got through"
            archived = "".join(p.body for p in store.payloads("isp", limit=100))
            logged = "".join(e.message or "" for e in store.poll_log("isp", limit=100))
        finally:
            store.close()
    assert "HTTP Request" in caplog.text  # httpx's INFO line was there, redacted
    for text in (caplog.text, archived, logged):
        assert URL_CANARY not in text and KEY_CANARY not in text
    db = (tmp_path / "data" / "capwatch.db").read_bytes()
    assert URL_CANARY.encode() not in db and KEY_CANARY.encode() not in db


def test_point_9_the_aaisp_archive_keeps_no_password(
    aaisp_fake: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes.aaisp import PASSWORD, USERNAME

    url, state = aaisp_fake
    state.mode = "echo"  # the reply repeats the request form, password and all
    monkeypatch.setenv("AA_PASSWORD", PASSWORD)
    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "aa"\nprovider = "aaisp"\n'
        f'cap = "provider"\n[accounts.options]\nusername = "{USERNAME}"\n'
        f'password = {{env = "AA_PASSWORD"}}\nbase_url = "{url}"\n'
    )
    after_the_fakes_figure = FakeClock(datetime(2026, 11, 23, 15, tzinfo=UTC))
    assert _cli(config, "poll", clock=after_the_fakes_figure).exit_code == 0
    store = open_store(load_settings(config).resolved_database_url())
    try:
        bodies = [p.body for p in store.payloads("aa")]
    finally:
        store.close()
    assert bodies and all(PASSWORD not in body for body in bodies), bodies
    assert not any("control_login" in body for body in bodies)  # only the quota list is kept
    assert PASSWORD.encode() not in (tmp_path / "data" / "capwatch.db").read_bytes()


async def test_point_5_poll_now_floods_reach_the_isp_once(tmp_path: Path) -> None:
    """20 presses in a row and 5 at once give the source one request; after the provider's
    minimum interval the next press polls again, with one attempt even in an outage."""
    import asyncio

    from fastapi.testclient import TestClient

    from capwatch.web.app import create_app

    clock = FakeClock(MID_CYCLE, tick=timedelta(0))
    state = meter.MeterState(clock=clock)
    with serve(meter.build(state)) as url:
        options = meter.provider_options(url).replace("min_interval_s = 0", "min_interval_s = 60")
        config = tmp_path / "capwatch.toml"
        config.write_text(
            f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "home"\n'
            f'provider = "http_json"\ncap = "1.2 TB"\n[accounts.options]\n{options}'
        )
        settings = load_settings(config)
        store = open_store(settings.resolved_database_url())
        try:
            coordinator = Coordinator(settings, store, clock=clock, retry_wait_s=0)
            results = await asyncio.gather(*(coordinator.poll_now("home") for _ in range(5)))
            assert state.requests == 1 and all(r.ok for r in results)
            client = TestClient(
                base_url="http://127.0.0.1",
                app=create_app(settings, store, coordinator=coordinator),
            )
            press = {"X-Capwatch-Request": "1"}
            answers = [client.post("/api/v1/accounts/home/poll", headers=press) for _ in range(20)]
            assert state.requests == 1
            last = answers[-1].json()
            assert answers[-1].status_code == 200 and last["skipped"] is True
            assert "polled 0 s ago" in last["message"] and "every 60 s" in last["message"]
            assert last["reading"]["used_bytes"] == results[0].reading.used_bytes  # type: ignore[union-attr]
            clock.advance(timedelta(seconds=61))
            state.faults.extend(["500", "500", "500"])
            outage = client.post("/api/v1/accounts/home/poll", headers=press).json()
            assert outage["outcome"] == "server" and state.requests == 2  # one attempt, no retries
        finally:
            store.close()


def _refused_aaisp(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from tests.fakes.aaisp import USERNAME

    monkeypatch.setenv("AA_PASSWORD", "a-refused-password")
    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "aa"\nprovider = "aaisp"\n'
        f'cap = "provider"\n[accounts.options]\nusername = "{USERNAME}"\n'
        f'password = {{env = "AA_PASSWORD"}}\nbase_url = "{url}"\n'
    )
    return config


async def test_point_5_poll_now_never_resends_refused_credentials(
    aaisp_fake: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = aaisp_fake
    state.mode = "bad_password"
    settings = load_settings(_refused_aaisp(url, tmp_path, monkeypatch))
    store = open_store(settings.resolved_database_url())
    # (any instant: "nothing changed since" compares the files, not two clocks)
    clock = FakeClock(datetime.now(UTC), tick=timedelta(0))
    try:
        coordinator = Coordinator(settings, store, clock=clock, retry_wait_s=0)
        first = await coordinator.poll_now("aa")
        assert first.outcome is PollOutcome.AUTH and len(state.requests) == 1
        for _ in range(3):
            clock.advance(timedelta(hours=1))  # past A&A's 15-minute floor each time
            again = await coordinator.poll_now("aa")
            assert again.skipped and "new credentials in the config" in (again.message or "")
        assert len(state.requests) == 1  # the refused password was never sent again
    finally:
        store.close()


def test_point_5_cli_poll_passes_auth_required_only_with_force(
    aaisp_fake: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = aaisp_fake
    state.mode = "bad_password"
    config = _refused_aaisp(url, tmp_path, monkeypatch)
    clock = FakeClock(datetime.now(UTC))
    assert _cli(config, "poll", clock=clock).exit_code == 1 and len(state.requests) == 1
    waiting = _cli(config, "poll", "--json", clock=clock)
    assert waiting.exit_code == 1 and len(state.requests) == 1
    assert "credentials refused" in waiting.stdout
    forced = _cli(config, "poll", "--force", clock=clock)
    assert forced.exit_code == 1 and len(state.requests) == 2
    # the user fixes the password in the config: the next poll sends the new one
    import os

    state.mode = "ok"
    monkeypatch.setenv("AA_PASSWORD", state.password)
    later = clock.now.timestamp() + 3600
    os.utime(config, (later, later))
    # a figure an hour on (London wall time = UTC in winter; either way an hour or more into
    # its cycle, so 50 GB is a figure the line could have carried)
    stamp = (clock.now + timedelta(hours=1)).astimezone(ZoneInfo("Europe/London"))
    state.lines = [dict(state.lines[0], quota_timestamp=f"{stamp:%Y-%m-%d %H:%M:%S}")]
    fixed = _cli(config, "poll", "--json", clock=FakeClock(clock.now + timedelta(hours=2)))
    assert fixed.exit_code == 0, fixed.output
    assert len(state.requests) == 3


def test_point_8_other_hosts_are_refused_and_headers_are_sent(tmp_path: Path) -> None:
    """DNS rebinding: a request naming another host gets nothing, not even Poll now."""
    from fastapi.testclient import TestClient

    from capwatch.web.app import create_app

    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[web]\nbase_url = "https://cap.example.net/"\n'
        'allowed_hosts = ["pi.lan"]\n'
    )
    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    try:
        app = create_app(settings, store)
        evil = TestClient(app, base_url="http://rebind.attacker.example")
        for method, path in (
            ("GET", "/api/v1/accounts"),
            ("GET", "/"),
            ("POST", "/api/v1/accounts/host/poll"),
        ):
            answer = evil.request(method, path, headers={"X-Capwatch-Request": "1"})
            assert answer.status_code == 400 and "unknown host" in answer.text
            assert "host" not in answer.text.split("'")[1:2] or True
            assert answer.headers["X-Frame-Options"] == "DENY"
        for base in (
            "http://127.0.0.1:8485",
            "http://localhost:8485",
            "http://[::1]:8485",
            "https://cap.example.net",
            "http://pi.lan:8485",
        ):
            good = TestClient(app, base_url=base).get("/api/v1/accounts")
            assert good.status_code == 200, base
            csp = good.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
            assert good.headers["X-Content-Type-Options"] == "nosniff"
            assert good.headers["Referrer-Policy"] == "no-referrer"
        docs = TestClient(app, base_url="http://127.0.0.1").get("/api/docs")
        assert docs.status_code == 200
        assert (
            "cdn" not in docs.text.lower() and "/api/docs/static/swagger-ui-bundle.js" in docs.text
        )
        local = TestClient(app, base_url="http://127.0.0.1")
        bundle = local.get("/api/docs/static/swagger-ui-bundle.js")
        assert bundle.status_code == 200 and len(bundle.content) > 100_000
        assert "SwaggerUIBundle" in local.get("/static/api-docs.js").text
    finally:
        store.close()


async def test_point_2_a_cycle_closed_while_capwatch_was_down_is_a_lower_bound(
    meter_account: tuple[Coordinator, meter.MeterState, FakeClock],
) -> None:
    """Readings on the 25th and the 28th, then the 1st: November's figure is "at least"."""
    from capwatch.notify.reports import build_monthly
    from capwatch.service.serialize import cycle_to_dict
    from capwatch.service.views import closed_cycles, history_samples

    coordinator, state, clock = meter_account
    store, settings = coordinator.store, coordinator.settings
    for day, used in ((25, 300), (28, 340)):
        clock.set(datetime(2026, 11, day, 12, tzinfo=UTC))
        state.used_bytes = used * 10**9
        assert (await coordinator.poll_account("isp", force=True)).ok
    clock.set(datetime(2026, 12, 1, 9, tzinfo=UTC))
    state.used_bytes = 5 * 10**9  # the ISP's new cycle
    assert (await coordinator.poll_account("isp", force=True)).ok
    dec, nov = closed_cycles(settings, store, "isp", clock.now)
    assert nov.lower_bound is True and dec.lower_bound is False
    assert cycle_to_dict(nov, clock.now)["lower_bound"] is True
    assert history_samples(store, "isp", dec.cycle_start) == []  # not the forecast's prior
    report = build_monthly(store, settings, "isp", Cycle(nov.cycle_start, nov.cycle_end))  # type: ignore[arg-type]
    assert "At least" in report.text and "lower bound" in report.text
    history = _cli(settings.source_path, "history", clock=FakeClock(clock.now))  # type: ignore[arg-type]
    assert "≥ 340 GB" in history.stdout and "missed the end" in history.stdout
    api_json = _cli(settings.source_path, "history", "--json", clock=FakeClock(clock.now))  # type: ignore[arg-type]
    assert '"lower_bound": true' in api_json.stdout


async def test_point_2_a_cycle_read_to_its_last_hour_is_final(
    meter_account: tuple[Coordinator, meter.MeterState, FakeClock],
) -> None:
    from capwatch.service.views import closed_cycles

    coordinator, state, clock = meter_account
    clock.set(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    assert (await coordinator.poll_account("isp", force=True)).ok
    clock.set(datetime(2026, 12, 1, 0, 30, tzinfo=UTC))
    state.used_bytes = 10**9
    assert (await coordinator.poll_account("isp", force=True)).ok
    _, nov = closed_cycles(coordinator.settings, coordinator.store, "isp", clock.now)
    assert nov.lower_bound is False


async def test_point_12_an_oversized_answer_is_a_bad_response_not_a_memory_hog(
    tmp_path: Path,
) -> None:
    """A 64 MiB answer stops at the 4 MiB limit: bad_response, nothing of it archived."""
    from starlette.applications import Starlette
    from starlette.responses import StreamingResponse
    from starlette.routing import Route

    sent = {"bytes": 0}

    async def huge(_request: Any) -> StreamingResponse:
        async def body() -> Any:
            yield b'{"used_bytes": 1, "pad": "'
            for _ in range(1024):
                sent["bytes"] += 65536
                yield b"x" * 65536
            yield b'"}'

        return StreamingResponse(body(), media_type="application/json")

    clock = FakeClock(MID_CYCLE)
    with serve(Starlette(routes=[Route("/usage", huge)])) as url:
        config = tmp_path / "capwatch.toml"
        config.write_text(
            f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "isp"\n'
            f'provider = "http_json"\ncap = "1 TB"\n[accounts.options]\nurl = "{url}/usage"\n'
            'used_path = "$.used_bytes"\n'
        )
        settings = load_settings(config)
        store = open_store(settings.resolved_database_url())
        try:
            result = await Coordinator(settings, store, clock=clock).poll_account("isp")
            assert result.outcome is PollOutcome.BAD_RESPONSE
            assert "larger than 4096 KiB" in (result.message or "")
            assert store.payloads("isp") == [] and store.readings("isp") == []
        finally:
            store.close()
    assert sent["bytes"] > 4 * 1024 * 1024  # the server did send more than the limit


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs of the test's own (root only: CI and the dev machines run as root)."""
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("a full-disk test mounts a tmpfs, which needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path) -> None:
    with (disk / "filler").open("wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass


async def test_point_11_a_full_disk_is_seen_everywhere(tiny_disk: Path) -> None:
    """Poll now answers (no bare 500), /healthz says degraded, /metrics counts the failures,
    the page says it; reading commands still read, and exit codes keep their meanings."""
    from fastapi.testclient import TestClient

    from capwatch.web.app import create_app

    clock = FakeClock(MID_CYCLE)
    state = meter.MeterState(clock=clock)
    with serve(meter.build(state)) as url:
        config = tiny_disk / "capwatch.toml"
        config.write_text(
            f'data_dir = "{tiny_disk / "data"}"\n[[accounts]]\nname = "isp"\n'
            f'provider = "http_json"\ncap = "1 TB"\n[accounts.options]\n'
            f"{meter.provider_options(url)}"
        )
        settings = load_settings(config)
        store = open_store(settings.resolved_database_url())
        try:
            coordinator = Coordinator(settings, store, clock=clock, retry_wait_s=0)
            assert (await coordinator.poll_account("isp")).ok
            _fill(tiny_disk)
            clock.advance(timedelta(minutes=10))
            full = await coordinator.poll_account("isp")
            assert full.outcome is PollOutcome.STORE and not full.stored
            assert coordinator.store_failures >= 1
            client = TestClient(
                create_app(settings, store, coordinator=coordinator), base_url="http://127.0.0.1"
            )
            clock.advance(timedelta(minutes=10))
            press = client.post("/api/v1/accounts/isp/poll", headers={"X-Capwatch-Request": "1"})
            assert press.status_code == 200 and press.json()["outcome"] == "store"
            health = client.get("/healthz").json()
            assert health["status"] == "degraded" and health["store_writable"] is False
            assert "full" in health["store_error"]
            metrics = client.get("/metrics").text
            assert "capwatch_store_write_failures " in metrics, metrics[-600:]
            assert "The store cannot be written" in client.get("/").text
        finally:
            store.close()
        for command in ("status", "history"):
            result = _cli(config, command, clock=FakeClock(clock.now))
            assert result.exit_code == 0, (command, result.output)
            assert "is full" in result.stderr and "cannot be" in result.stderr
        status = _cli(config, "status", "--json", clock=FakeClock(clock.now))
        assert '"used_bytes": 11000000000' in status.stdout  # stored before the disk filled
        # poll runs its own event loop (asyncio.run): off this test's loop, in a thread, while
        # the ISP still answers, so that the store is what fails
        polled = await asyncio.to_thread(
            _cli, config, "poll", clock=FakeClock(clock.now + timedelta(hours=1))
        )
    assert polled.exit_code == 1, polled.output  # a failed poll, not bad config (2)
    # a line from opening the store, one from the poll; no traceback
    lines = polled.stderr.strip().splitlines()
    assert len(lines) == 2 and all("full" in line for line in lines), polled.stderr


def test_point_11_reading_commands_open_a_store_on_a_full_disk(tiny_disk: Path) -> None:
    """A store closed cleanly (no -wal, no -shm) on a disk that then filled: SQLite cannot
    even open it in WAL mode, so reading commands fall back to a read-only view."""
    config = tiny_disk / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tiny_disk / "data"}"\n[[accounts]]\nname = "host"\nprovider = "host"\n'
    )
    assert _cli(config, "poll").exit_code == 0
    assert not list((tiny_disk / "data").glob("capwatch.db-*"))
    _fill(tiny_disk)
    status = _cli(config, "status", "--json")
    assert status.exit_code == 0, status.output
    assert "nothing new can be written" in status.stderr
    assert '"account": "host"' in status.stdout
    assert _cli(config, "history").exit_code == 0
    polled = _cli(config, "poll")
    (line,) = polled.stderr.strip().splitlines()  # the store cannot be opened: one line
    assert polled.exit_code == 1 and "0 bytes free on its disk" in line, line


def test_point_10_export_is_private_and_doctor_warns_about_literal_provider_passwords(
    tmp_path: Path,
) -> None:
    import stat

    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "aa"\nprovider = "aaisp"\n'
        'cap = "provider"\n[accounts.options]\nusername = "test@a.1"\n'
        'password = "a-literal-password"\n'
    )
    out = tmp_path / "usage.csv"
    assert _cli(config, "export", "-o", str(out)).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doctor = _cli(config, "doctor")
    (row,) = [ln for ln in doctor.stdout.splitlines() if "accounts.aa.options.password" in ln]
    assert "!" in row and "written in the file" in row
    assert "a-literal-password" not in doctor.stdout


async def test_point_9_the_xfinity_session_reaches_no_log_and_no_archive(
    tmp_path: Path, xfinity_fake: tuple[Any, str], caplog: pytest.LogCaptureFixture
) -> None:
    """The Xfinity session cookie (its credential between sign-ins) is kept only in the 0600
    session file: not in the logs at DEBUG, not in the store's archive or poll log."""
    import logging

    from capwatch.logsetup import RedactingFilter
    from tests.fixtures.xfinity import sign_in_fake, xfinity_account_config

    state, url = xfinity_fake
    clock = FakeClock(MID_CYCLE)  # the fake's figures are for the middle of a month
    state.clock = clock
    cookie_value = "Xf-session-canary-77Qz"
    settings = load_settings(xfinity_account_config(tmp_path, url))
    store = open_store(settings.resolved_database_url())
    caplog.handler.addFilter(RedactingFilter())
    caplog.set_level(logging.DEBUG)
    try:
        coordinator = Coordinator(settings, store, clock=clock)
        sign_in_fake(coordinator, state, cookie_value)
        assert (await coordinator.poll_account("home")).ok
        state.expire_all()  # the next poll is refused: an error path too
        await coordinator.poll_account("home", force=True)
        archived = "".join(p.body for p in store.payloads("home", limit=100))
        logged = "".join(e.message or "" for e in store.poll_log("home", limit=100))
    finally:
        store.close()
    assert archived and cookie_value not in archived and cookie_value not in logged
    assert cookie_value not in caplog.text
    db = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("capwatch.db*") if p.is_file())
    assert cookie_value.encode() not in db
