"""Bad-input corpus: one-line errors naming the place, exit 2 or 4xx, and nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from capwatch.errors import BadResponse

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES: list[dict[str, Any]] = tomllib.loads((CORPUS / "manifest.toml").read_text())["case"]


def _ids(kind: str) -> list[Any]:
    return [pytest.param(c, id=c.get("file") or c["request"]) for c in CASES if c["kind"] == kind]


def _cli(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
    env.update(CAPWATCH_DATA_DIR=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    return subprocess.run(
        [sys.executable, "-m", "capwatch", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CORPUS,
    )


def test_every_corpus_file_is_in_the_manifest() -> None:
    listed = {c["file"] for c in CASES if "file" in c}
    on_disk = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file()}
    assert on_disk - {"manifest.toml"} == listed


@pytest.mark.parametrize("case", _ids("config"))
def test_bad_config(case: dict[str, Any], tmp_path: Path) -> None:
    done = _cli(["--config", case["file"], "status"], tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and case["expect"] in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("case", _ids("csv"))
def test_bad_csv_import(case: dict[str, Any], tmp_path: Path) -> None:
    from capwatch.store import open_store

    config = tmp_path / "ok.toml"
    config.write_text('[[accounts]]\nname = "isp"\nprovider = "host"\n')
    done = _cli(["--config", str(config), "import", case["file"], "--account", "isp"], tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and case["expect"] in lines[0], done.stderr
    db = tmp_path / "data" / "capwatch.db"
    if db.exists():
        store = open_store(f"sqlite:///{db}")
        try:
            assert store.readings("isp") == []
        finally:
            store.close()


@pytest.mark.parametrize("case", _ids("payload"))
def test_bad_provider_payload(case: dict[str, Any]) -> None:
    from capwatch.providers.http_json import HttpJsonOptions, parse_payload

    options = HttpJsonOptions(
        url="http://127.0.0.1:9/usage",
        used_path="$.used_bytes",
        cap_path="$.cap_bytes",
        observed_at_path="$.observed_at",
        unit="B",
    )
    import httpx

    from capwatch.providers._http import json_body

    body = (CORPUS / case["file"]).read_bytes()
    request = httpx.Request("GET", "http://127.0.0.1:9/usage")
    response = httpx.Response(200, content=body, request=request)
    with pytest.raises(BadResponse) as info:  # decoded as a poll decodes it, then parsed
        parse_payload(json_body(response), options, tz=ZoneInfo("UTC"), secrets=())
    message = str(info.value)
    assert case["expect"] in message and "\n" not in message


@pytest.fixture
def bad_api(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    from starlette.testclient import TestClient

    from capwatch.config import load_settings
    from capwatch.store import open_store
    from capwatch.web.app import create_app

    config = tmp_path / "ok.toml"
    config.write_text(
        f'database_url = "sqlite:///{tmp_path / "capwatch.db"}"\n'
        '[[accounts]]\nname = "isp"\nprovider = "host"\n'
    )
    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    store.ensure_account("isp", "host", "UTC")
    with TestClient(base_url="http://127.0.0.1", app=create_app(settings, store)) as client:
        yield client, store
    store.close()


@pytest.mark.parametrize("case", _ids("api"))
def test_bad_api_request(case: dict[str, Any], bad_api: tuple[Any, Any]) -> None:
    client, store = bad_api
    method, url = case["request"].split(" ", 1)
    response = client.request(method, url)
    assert response.status_code == case["status"], response.text
    assert 400 <= response.status_code < 500
    assert case["expect"] in json.dumps(response.json()["detail"])
    assert store.readings("isp") == [] and store.poll_log("isp") == []
