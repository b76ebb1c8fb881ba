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
    # -vv: httpx's request lines and capwatch's debug lines are in the output too
    argv = ["-vv", "--config", str(config), "poll", "--json"]
    result = runner.invoke(cli, argv, obj={"clock": clock})
    assert result.exit_code == 0, result.output + result.stderr
    out: list[dict[str, Any]] = json.loads(result.stdout)
    assert out[0]["outcome"] == "ok" and out[0]["stored"] is True
    assert out[0]["reading"]["used_bytes"] > 0
    status = runner.invoke(cli, ["--config", str(config), "status", "--json"], obj={"clock": clock})
    summary = json.loads(status.stdout)[0]
    assert summary["used_bytes"] == out[0]["reading"]["used_bytes"]
    # the secret is nowhere: output, database, session files
    assert "HTTP Request" in result.output  # the logs were there to be checked
    assert secret not in result.output + status.output
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


# provider: (options change, fake mode or None, stores a usage figure)
UNLIMITED: dict[str, tuple[str, str | None, bool]] = {
    "aaisp": ("", "unlimited", False),  # quota_monthly "0": CHAOS has no figure for the line
    "aussie": ("", "unlimited", True),  # remainingMb null, usage still metered
    "internode": ("", "unlimited", True),  # quota 0
    "startca": ("unlimited = true\n", None, True),  # the plan says so; usage still counted
}


@pytest.mark.parametrize("provider", sorted(UNLIMITED))
def test_unlimited_reply_is_a_successful_poll(
    provider: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unlimited line polls OK, keeps the usage it has, shows "unlimited" and no error."""
    fixture, options, secret = CASES[provider]
    extra, mode, metered = UNLIMITED[provider]
    url, state = request.getfixturevalue(fixture)
    if mode is not None:
        state.mode = mode
    if provider == "aussie":  # a figure half an hour before NOW (Sydney wall time)
        state.usage = dict(state.usage, lastUpdated="2026-11-24 01:30:00")
    options = options.replace("cap_gb = 400\n", "")
    monkeypatch.setenv("ISP_SECRET", secret)
    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "line"\n'
        f'provider = "{provider}"\ncap = "provider"\n'
        f"[accounts.options]\n{options.replace('URL', url)}{extra}"
    )
    runner = CliRunner()
    clock = FakeClock(NOW)
    for _ in range(2):  # the second poll too: no repeated failure, no error state
        result = runner.invoke(
            cli, ["--config", str(config), "poll", "--json"], obj={"clock": clock}
        )
        assert result.exit_code == 0, result.output + result.stderr
        (polled,) = json.loads(result.stdout)
        assert polled["outcome"] == "ok", polled
        assert (polled["reading"] is not None) == metered, polled
    status = runner.invoke(cli, ["--config", str(config), "status", "--json"], obj={"clock": clock})
    (summary,) = json.loads(status.stdout)
    assert summary["unlimited"] is True and summary["cap_bytes"] is None
    assert summary["status"] == "ok" and summary["last_error"] is None
    assert summary["consecutive_failures"] == 0 and summary["alerts"] == []
    assert (summary["used_bytes"] is not None) == metered
    table = runner.invoke(cli, ["--config", str(config), "status"], obj={"clock": clock}).stdout
    assert "unlimited" in table and "error" not in table
    doctor = runner.invoke(cli, ["--config", str(config), "doctor"], obj={"clock": clock})
    suggests = "unlimited plan without an ISP meter" in doctor.stdout
    assert suggests == (not metered), doctor.stdout
