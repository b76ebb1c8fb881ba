"""Secrets canary: a distinctive password, driven through every path, shows up nowhere."""

from __future__ import annotations

import io
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from capwatch.config import Settings, load_settings
from capwatch.service.coordinator import Coordinator
from capwatch.store import open_store
from tests.fakes import meter
from tests.fakes._server import serve

CANARY = "Canary-pw-7f3e9QzX"
FAULTS = ["echo", "500", "500", "500", "html", "truncated", "login", "429", "blank", "echo"]


def _config(tmp_path: Path, url: str) -> Path:
    secret_file = tmp_path / "token"
    secret_file.write_text(CANARY + "\n")
    secret_file.chmod(0o600)
    path = tmp_path / "capwatch.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        '[[accounts]]\nname = "isp"\nprovider = "http_json"\ncap = "provider"\n'
        f"[accounts.options]\n{meter.provider_options(url)}"
        f'headers = {{ Authorization = {{ file = "{secret_file}" }} }}\n'
        'params = { key = { env = "CAPWATCH_CANARY_KEY" } }\n'
    )
    path.chmod(0o600)
    return path


@pytest.fixture
def canary_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Settings, meter.MeterState, Path]]:
    monkeypatch.setenv("CAPWATCH_CANARY_KEY", CANARY)
    state = meter.MeterState()
    with serve(meter.build(state)) as url:
        config = _config(tmp_path, url)
        yield load_settings(config), state, config


def _db_text(db: Path) -> str:
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump())
    return raw.decode("latin-1") + dump


def _cli(args: list[str], config: Path, tmp_path: Path, columns: int = 80) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
    env.update(CAPWATCH_CANARY_KEY=CANARY, COLUMNS=str(columns))
    done = subprocess.run(
        [sys.executable, "-m", "capwatch", "-vv", "--config", str(config), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    return f"{done.returncode}\n{done.stdout}\n{done.stderr}"


async def _drive_polls(settings: Settings, state: meter.MeterState) -> list[str]:
    """Polls that succeed and fail every way; return every message they produced."""
    store = open_store(settings.resolved_database_url())
    texts: list[str] = []
    try:
        coord = Coordinator(settings, store, retry_wait_s=0.001, retry_attempts=3)
        for fault in [None, *FAULTS, None]:
            if fault:
                state.faults.append(fault)
            result = await coord.poll_account("isp", force=True)
            texts.append(repr(result))
        assert any("stored=True" in t for t in texts), texts
    finally:
        store.close()
    return texts


async def test_canary_appears_nowhere(
    canary_world: tuple[Settings, meter.MeterState, Path],
    tmp_path: Path,
) -> None:
    from capwatch.logsetup import setup_logging

    settings, state, config = canary_world
    logs = {fmt: io.StringIO() for fmt in ("text", "json")}
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        setup_logging("text", "DEBUG", stream=logs["text"])
        texts = await _drive_polls(settings, state)
        setup_logging("json", "DEBUG", stream=logs["json"])
        texts += await _drive_polls(settings, state)
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)
    assert state.counts.get("echo") == 4  # the fake did reflect the secret back at us
    assert state.counts.get("ok", 0) >= 4
    texts += [logs["text"].getvalue(), logs["json"].getvalue()]
    assert "poll of isp failed" in texts[-2] and "HTTP Request: GET" in texts[-1]
    db = Path(settings.data_dir) / "capwatch.db"
    texts.append(_db_text(db))
    texts.append(_api_texts(settings, db))
    for args in (
        ["status"],
        ["history"],
        ["export", "--format", "json"],
        ["export"],
        ["doctor"],
        ["poll"],
    ):
        texts.append(_cli(args, config, tmp_path))
    texts.append(_bundle_text(tmp_path))
    leaks = [t[max(t.find(CANARY) - 80, 0) : t.find(CANARY) + 40] for t in texts if CANARY in t]
    assert leaks == []
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def _api_texts(settings: Settings, db: Path) -> str:
    from starlette.testclient import TestClient

    from capwatch.web.app import create_app

    store = open_store(f"sqlite:///{db}")
    out = []
    try:
        with TestClient(base_url="http://127.0.0.1", app=create_app(settings, store)) as client:
            for path in (
                "/",
                "/healthz",
                "/metrics",
                "/api/v1/accounts",
                "/api/v1/accounts/isp",
                "/api/v1/accounts/isp/readings",
                "/api/v1/accounts/isp/cycles",
                "/api/v1/accounts/isp/alerts",
                "/api/v1/accounts/isp/polls?limit=500",
                "/api/v1/accounts/isp/devices",
                "/api/v1/accounts/isp/burndown",
                "/openapi.json",
            ):
                response = client.get(path)
                out.append(f"{path} {response.status_code} {response.text}")
        assert any(" 200 " in line and "/polls" in line for line in out)
    finally:
        store.close()
    return "\n".join(out)


def _bundle_text(tmp_path: Path) -> str:
    from capwatch.diagnostics import save_bundle

    html = f'<form><input name="password" value="{CANARY}"></form><p>hi {CANARY}</p>'
    bundle = save_bundle(
        tmp_path / "bundles",
        account="isp",
        provider="http_json",
        error=f"login failed for password {CANARY}",
        url_path=f"/login?password={CANARY}",
        status=200,
        html=html,
        screenshot=None,
        keep=3,
        extra_secrets=[CANARY],
    )
    files = [bundle] if bundle.is_file() else [p for p in bundle.rglob("*") if p.is_file()]
    assert files
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, f
    return "\n".join(f.read_bytes().decode("latin-1") for f in files)


def test_doctor_warns_about_loose_secret_files(tmp_path: Path) -> None:
    config = _config(tmp_path, "http://127.0.0.1:9")
    (tmp_path / "token").chmod(0o644)
    config.chmod(0o644)
    out = " ".join(_cli(["doctor"], config, tmp_path, columns=400).split())
    assert f"{tmp_path / 'token'} is readable by others (mode 644): chmod 600 it" in out
    assert f"{config} is readable by others (mode 644): chmod 600 it" in out
    assert CANARY not in out
