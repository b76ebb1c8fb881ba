"""``capwatch init`` writes a private, commented config that loads back."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from capwatch import paths
from capwatch.cli import cli
from capwatch.config import load_settings
from capwatch.secrets import Secret


def _run(args: list[str], input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, input=input, obj={})
    return result.exit_code, result.output


def test_non_interactive_flags(tmp_path: Path, config_providers: object) -> None:
    cfg = tmp_path / "conf" / "capwatch.toml"
    code, out = _run(
        [
            "--config", str(cfg), "init", "--non-interactive",
            "--name", "pi", "--provider", "cfgcounter", "--cap", "1.2 TB",
            "--start-day", "15", "--timezone", "Europe/Berlin", "--interval", "2m",
            "--option", "interfaces=[\"eth0\"]", "--option", "direction=rx",
        ]
    )  # fmt: skip
    assert code == 0, out
    assert f"Wrote {cfg}" in out
    assert stat.S_IMODE(cfg.stat().st_mode) == 0o600
    text = cfg.read_text(encoding="utf-8")
    assert text.startswith("# capwatch configuration")
    s = load_settings(cfg, env={})
    (acct,) = s.accounts
    assert (acct.name, acct.provider, acct.cap_bytes) == ("pi", "cfgcounter", 1_200_000_000_000)
    assert acct.cycle.start_day == 15 and acct.cycle.timezone == "Europe/Berlin"
    assert acct.poll_interval_s == 120.0
    assert acct.provider_options.model_dump() == {"interfaces": ["eth0"], "direction": "rx"}


def test_refuses_to_overwrite(tmp_path: Path, config_providers: object) -> None:
    cfg = tmp_path / "capwatch.toml"
    cfg.write_text("# mine\n", encoding="utf-8")
    code, out = _run(["--config", str(cfg), "init", "--non-interactive"])
    assert code == 2
    assert out.strip() == f"Error: {cfg} already exists (use --force to overwrite)"
    assert cfg.read_text(encoding="utf-8") == "# mine\n"
    code, out = _run(["--config", str(cfg), "init", "--non-interactive", "--force"])
    assert code == 0, out
    assert load_settings(cfg, env={}).accounts[0].provider == "host"


def test_default_path(config_providers: object) -> None:
    code, out = _run(["init", "--non-interactive", "--name", "home"])
    assert code == 0, out
    target = paths.default_config_path()
    assert target.is_file()
    assert load_settings(env={}).accounts[0].name == "home"


def test_interactive_with_secret_reference(tmp_path: Path, config_providers: object) -> None:
    cfg = tmp_path / "capwatch.toml"
    answers = [
        "isp",  # account name
        "cfgisp",  # provider
        "lots",  # bad cap: asked again
        "1229 GB",
        "40",  # bad day: asked again
        "3",
        "America/Chicago",
        "1h",
        "me@example.com",  # username (required option)
        "env:ISP_PASSWORD",  # password (secret reference)
    ]
    code, out = _run(["--config", str(cfg), "init"], input="\n".join(answers) + "\n")
    assert code == 0, out
    assert "Error:" in out  # the rejected answers were reported
    acct = load_settings(cfg, env={}).accounts[0]
    assert (acct.name, acct.cap_bytes, acct.cycle.start_day) == ("isp", 1_229_000_000_000, 3)
    assert acct.poll_interval_s == 3600.0
    opts = acct.provider_options
    assert opts.username == "me@example.com"  # type: ignore[attr-defined]
    assert opts.password == Secret("env", "ISP_PASSWORD")  # type: ignore[attr-defined]
    assert 'password = { env = "ISP_PASSWORD" }' in cfg.read_text(encoding="utf-8")


def test_interactive_defaults(tmp_path: Path, config_providers: object) -> None:
    cfg = tmp_path / "capwatch.toml"
    code, out = _run(["--config", str(cfg), "init", "--provider", "cfgcounter"], input="\n" * 6)
    assert code == 0, out
    acct = load_settings(cfg, env={}).accounts[0]
    assert (acct.name, acct.cap_bytes, acct.cycle.start_day) == ("home", 10**12, None)
    assert acct.poll_interval_s is None and acct.cycle.timezone == "local"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cap", "many"], "Error: --cap: expected a byte quantity"),
        (["--start-day", "40"], "Error: --start-day: must be between 1 and 31 (got 40)"),
        (["--interval", "soon"], "Error: --interval: expected a duration"),
        (["--provider", "nope"], "Error: --provider: unknown provider 'nope'"),
        (["--option", "novalue"], "Error: --option 'novalue': expected KEY=VALUE"),
        (
            ["--provider", "cfgcounter", "--option", "direction=up"],
            "Error: generated config:",
        ),
        (["--timezone", "Nowhere/Land"], "unknown time zone 'Nowhere/Land'"),
        (
            ["--provider", "cfgisp", "--interval", "1m", "--option", "username=me",
             "--option", "password=env:X"],
            "below the cfgisp provider's minimum of 900 s",
        ),
    ],
)  # fmt: skip
def test_bad_flags_one_line(
    tmp_path: Path, config_providers: object, args: list[str], message: str
) -> None:
    cfg = tmp_path / "capwatch.toml"
    code, out = _run(["--config", str(cfg), "init", "--non-interactive", *args])
    assert code == 2
    assert len(out.strip().splitlines()) == 1
    assert message in out
    assert not cfg.exists()


def test_point_9_interactive_xfinity_asks_the_user_name_and_refuses_an_empty_reference(
    tmp_path: Path,
) -> None:
    """Issue 16.9: the Xfinity ID is asked for (an optional option, but the sign-in needs it),
    and a reference with nothing after the colon is asked again."""
    cfg = tmp_path / "capwatch.toml"
    answers = [
        "home",  # account name
        "xfinity",  # provider
        "provider",  # cap
        "calendar",
        "America/New_York",
        "",  # interval: the provider's
        "jane@example.com",  # username
        "env:",  # an empty reference: asked again
        "env:XFINITY_PASSWORD",
    ]
    code, out = _run(["--config", str(cfg), "init"], input="\n".join(answers) + "\n")
    assert code == 0, out
    assert "env: needs what to read" in out
    opts = load_settings(cfg, env={}).accounts[0].provider_options
    assert opts.username == "jane@example.com"  # type: ignore[attr-defined]
    assert opts.password == Secret("env", "XFINITY_PASSWORD")  # type: ignore[attr-defined]
