"""`capwatch poll` end to end against each ISP's local fake: config, secrets by reference, store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from capwatch.cli import cli
from tests.fixtures.common import FakeClock

NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)  # the instant the fakes' recorded payloads fit

CASES: dict[str, tuple[str, str, str]] = {
    # provider: (fake fixture, options template, secret)
    "aaisp": (
        "aaisp_fake",
        'username = "test@a.1"\npassword = {env = "ISP_SECRET"}\nbase_url = "URL"\n',
        "fake-aa-password",
    ),
    "aussie": (
        "aussie_fake",
        'username = "fake@example.com"\npassword = {env = "ISP_SECRET"}\n'
        'auth_base_url = "URL"\napi_base_url = "URL"\n',
        "fake-aussie-password",
    ),
    "startca": (
        "startca_fake",
        'api_key = {env = "ISP_SECRET"}\nbase_url = "URL"\ncap_gb = 400\n',
        "FAKEKEY0123456789",
    ),
    "internode": (
        "internode_fake",
        'username = "fakeuser"\npassword = {env = "ISP_SECRET"}\nbase_url = "URL"\n',
        "fake-node-password",
    ),
}


@pytest.mark.parametrize("provider", sorted(CASES))
def test_poll_against_fake_isp(
    provider: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fixture, options, secret = CASES[provider]
    url, _state = request.getfixturevalue(fixture)
    monkeypatch.setenv("ISP_SECRET", secret)
    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "line"\n'
        f'provider = "{provider}"\ncap = "provider"\n'
        f"[accounts.options]\n{options.replace('URL', url)}"
    )
    runner = CliRunner()
    clock = FakeClock(NOW)
    result = runner.invoke(cli, ["--config", str(config), "poll", "--json"], obj={"clock": clock})
    assert result.exit_code == 0, result.output + result.stderr
    out: list[dict[str, Any]] = json.loads(result.stdout)
    assert out[0]["outcome"] == "ok" and out[0]["stored"] is True
    assert out[0]["reading"]["used_bytes"] > 0
    status = runner.invoke(cli, ["--config", str(config), "status", "--json"], obj={"clock": clock})
    summary = json.loads(status.stdout)[0]
    assert summary["used_bytes"] == out[0]["reading"]["used_bytes"]
    # the secret is nowhere: output, database, session files
    assert secret not in result.output + status.output
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
