"""`capwatch login` and `capwatch poll` end to end against the fake Xfinity."""

from __future__ import annotations

import json
import stat
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from click.testing import CliRunner

from capwatch.cli import cli
from capwatch.cli.login import ClickPrompter
from capwatch.providers import base
from tests.fakes.xfinity import SESSION_COOKIE, FakeXfinityState

GB = 10**9


@pytest.fixture
def xfinity_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make sure the entry point is visible even when the installed metadata is older."""
    if "xfinity" in base.provider_names():
        return
    eps = dict(base._entry_points())
    eps["xfinity"] = EntryPoint(
        name="xfinity",
        value="capwatch.providers.xfinity:XfinityProvider",
        group=base.ENTRY_POINT_GROUP,
    )
    monkeypatch.setattr(base, "_entry_points", lambda: eps)


@pytest.fixture
def xfinity_config(
    tmp_path: Path, xfinity_fake: tuple[FakeXfinityState, str], xfinity_registered: None
) -> Path:
    _, url = xfinity_fake
    path = tmp_path / "capwatch.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'database_url = "sqlite:///{tmp_path / "capwatch.db"}"\n'
        '[[accounts]]\nname = "home"\nprovider = "xfinity"\ncap = "provider"\n'
        '[accounts.cycle]\ntimezone = "America/New_York"\n'
        "[accounts.options]\n"
        f'login_base_url = "{url}"\ncustomer_base_url = "{url}"\n'
        f'graphql_url = "{url}/galileo/graphql"\nlogin_timeout_s = 30\n'
    )
    return path


def _session_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "accounts" / "home" / "xfinity-session.json"


def _poll(config: Path) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(
        cli, ["--config", str(config), "poll", "--account", "home", "--json"], obj={}
    )
    out = json.loads(result.stdout) if result.stdout.strip().startswith("[") else []
    return result.exit_code, out, result.output


def test_import_cookies_then_capwatch_poll(
    xfinity_config: Path, xfinity_fake: tuple[FakeXfinityState, str], tmp_path: Path
) -> None:
    state, _ = xfinity_fake
    state.sessions["cookie-from-my-browser"] = True
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(f"127.0.0.1\tFALSE\t/\tFALSE\t0\t{SESSION_COOKIE}\tcookie-from-my-browser\n")
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(xfinity_config),
            "login",
            "xfinity",
            "--account",
            "home",
            "--import-cookies",
            str(cookies),
        ],
        obj={},
    )
    assert result.exit_code == 0, result.output
    assert "session saved" in result.output
    session = _session_path(tmp_path)
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    code, out, text = _poll(xfinity_config)
    assert code == 0, text
    assert out[0]["outcome"] == "ok"
    reading = out[0]["reading"]
    assert isinstance(reading, dict) and reading["used_bytes"] == 585 * GB


def test_poll_with_an_expired_session_says_to_log_in(
    xfinity_config: Path, xfinity_fake: tuple[FakeXfinityState, str], tmp_path: Path
) -> None:
    code, out, _ = _poll(xfinity_config)
    assert code != 0
    assert out[0]["outcome"] == "auth"
    assert "capwatch login xfinity --account home" in str(out[0]["message"])


def test_login_names_the_wrong_provider(xfinity_config: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(xfinity_config), "login", "aussie", "--account", "home"], obj={}
    )
    assert result.exit_code == 2
    assert "provider is 'xfinity', not 'aussie'" in result.output


def test_login_rejects_a_bad_cookie_file(xfinity_config: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("not\ta cookie line\n")
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(xfinity_config),
            "login",
            "xfinity",
            "-a",
            "home",
            "--import-cookies",
            str(bad),
        ],
        obj={},
    )
    assert result.exit_code == 2
    assert f"{bad}:1: expected 7 tab-separated fields" in result.output


@pytest.mark.browser
def test_headless_login_with_terminal_prompts_then_poll(
    xfinity_default_browser: str,
    xfinity_config: Path,
    xfinity_fake: tuple[FakeXfinityState, str],
    tmp_path: Path,
) -> None:
    state, _ = xfinity_fake
    state.mfa = True
    answers = f"{state.username}\n{state.password}\n{state.mfa_code}\n"
    result = CliRunner().invoke(
        cli,
        ["--config", str(xfinity_config), "login", "xfinity", "--account", "home", "--headless"],
        input=answers,
        obj={},
    )
    assert result.exit_code == 0, result.output
    assert state.password not in result.output  # typed hidden
    assert "verification code" in result.output.lower()
    doc = json.loads(_session_path(tmp_path).read_text())
    assert doc["source"] == "browser-prompted"
    code, out, text = _poll(xfinity_config)
    assert code == 0, text
    assert out[0]["outcome"] == "ok"


def test_click_prompter_hides_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, bool]] = []

    def fake_prompt(label: str, hide_input: bool = False, type: object = None) -> str:
        seen.append((label, hide_input))
        return "value-typed-here"

    monkeypatch.setattr("click.prompt", fake_prompt)
    prompter = ClickPrompter()
    assert prompter.ask("Password", secret=True) == "value-typed-here"
    assert prompter.ask("Username") == "value-typed-here"
    assert seen == [("Password", True), ("Username", False)]


async def test_other_providers_log_in_through_their_interactive_login(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    from capwatch.cli.login import _interactive
    from capwatch.models import Snapshot
    from capwatch.providers.base import Prompter, Provider, ProviderContext, ProviderOptions

    class Dummy(Provider):
        name = "dummy"

        async def fetch(self, client: object) -> Snapshot:  # type: ignore[override]
            raise NotImplementedError

        async def interactive_login(self, client: object, prompter: Prompter) -> str:
            return prompter.ask("One-time code")

    class Scripted(Prompter):
        def ask(self, label: str, *, secret: bool = False) -> str:
            return f"answer to {label}"

        def tell(self, message: str) -> None:
            pass

    ctx = ProviderContext(account="a", timezone=ZoneInfo("UTC"), data_dir=tmp_path)
    provider = Dummy(ProviderOptions(), ctx)
    assert await _interactive(provider, Scripted(), True, "ignored") == "answer to One-time code"
