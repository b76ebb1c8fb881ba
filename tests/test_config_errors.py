"""Each bad config gives exactly one line naming the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from capwatch.config import load_settings
from capwatch.errors import ConfigError
from capwatch.providers import base

BAD = Path(__file__).parent / "data" / "config" / "bad"
CASES = sorted(BAD.glob("*.toml"))


def _expected(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be '# expect: ...'"
    return (
        first.removeprefix("# expect: ")
        .replace("{file}", str(path))
        .replace("{installed}", ", ".join(base.provider_names()))
    )


def test_enough_cases() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_config_message(path: Path, config_providers: object) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    message = str(info.value)
    assert "\n" not in message
    assert message == _expected(path)


def test_missing_explicit_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found$"):
        load_settings(missing, env={})


def test_missing_path_from_env(tmp_path: Path) -> None:
    missing = tmp_path / "gone.toml"
    with pytest.raises(ConfigError, match=r"gone\.toml: config file not found"):
        load_settings(env={"CAPWATCH_CONFIG": str(missing)})


def test_env_override_error_names_variable(config_providers: object) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env={"CAPWATCH_WEB__PORT": "eighty"})
    assert str(info.value).startswith("<environment CAPWATCH_WEB__PORT>: web.port: ")


def test_env_unknown_section_key(config_providers: object) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env={"CAPWATCH_WEB__PROT": "1"})
    assert str(info.value) == "<environment CAPWATCH_WEB__PROT>: web.prot: unknown key"


def test_env_web_host_without_auth(config_providers: object) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env={"CAPWATCH_WEB__HOST": "192.168.1.10"})
    assert str(info.value) == (
        "<environment CAPWATCH_WEB__HOST>: web.host is 192.168.1.10: binding beyond this "
        "machine needs web.auth_token or web.username/web.password"
    )


def test_secret_value_never_in_error(tmp_path: Path, config_providers: object) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[web]\nusername = "u"\npassword = 12345678\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    assert "12345678" not in str(info.value)
    assert f"{cfg}:3: web.password: " in str(info.value)
