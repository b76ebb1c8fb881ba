"""Settings: good configs load, round-trip through dump_toml, defaults and env overrides."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from capwatch import paths
from capwatch.config import (
    AccountSettings,
    CycleSettings,
    Settings,
    WebSettings,
    dump_toml,
    load_settings,
    reference_markdown,
)
from capwatch.config.docs import SECTIONS
from capwatch.errors import ConfigError
from capwatch.secrets import Secret

GOOD = Path(__file__).parent / "data" / "config" / "good"
GOOD_CASES = sorted(GOOD.glob("*.toml"))
HAS_HOST = importlib.util.find_spec("capwatch.providers.host") is not None


def _comparable(s: Settings) -> dict[str, Any]:
    return s.model_dump(mode="json", context={"reveal_literal_secrets": True})


@pytest.mark.parametrize("path", GOOD_CASES, ids=[p.stem for p in GOOD_CASES])
def test_good_config_round_trips(path: Path, tmp_path: Path, config_providers: object) -> None:
    first = load_settings(path, env={})
    assert first.source_path == path
    text = dump_toml(first)
    again_path = tmp_path / "again.toml"
    again_path.write_text(text, encoding="utf-8")
    second = load_settings(again_path, env={})
    assert _comparable(second) == _comparable(first)
    assert "source_path" not in first.model_dump()


def test_full_config_values(config_providers: object) -> None:
    s = load_settings(GOOD / "full.toml", env={})
    home, isp, unmetered = s.accounts
    assert (home.cap_bytes, home.cap_source) == (1_200_000_000_000, "config")
    assert home.poll_interval_s == 90.0
    assert home.cycle.start_day == 31
    assert home.cycle.zone == ZoneInfo("America/New_York")
    assert home.alerts.used_percent == [50, 80, 95, 100]
    assert home.alerts.allowance_below_bytes == 5 * 10**9
    assert home.provider_options.model_dump() == {
        "interfaces": ["eth0", "wlan0"],
        "direction": "rx",
    }
    assert (isp.cap_bytes, isp.cap_source, isp.enabled) == (None, "provider", False)
    assert isp.cycle.start_day is None
    assert isp.overage is not None and isp.overage.block_bytes == 50 * 10**9
    assert isp.overage.currency == "£"
    assert unmetered.cap_source == "unlimited" and unmetered.cap_bytes is None
    assert s.web.password == Secret("env", "CAPWATCH_TEST_WEB_PASSWORD")
    assert s.notify[0].kinds == ["alerts"] and s.notify[1].kinds == ["alerts", "weekly", "monthly"]
    assert s.mqtt is not None and s.mqtt.port == 1884 and s.mqtt.tls
    assert s.influxdb is not None and s.influxdb.version == 2
    assert s.influxdb.token == Secret("keyring", "capwatch/influx")
    assert s.graphite is not None and s.graphite.port == 2003 and s.graphite.compat_names
    assert s.prometheus.enabled and not s.prometheus.process_metrics
    assert s.log_format == "json" and s.log_level == "WARNING"
    assert s.resolved_database_url().startswith("postgresql+psycopg://")
    assert s.account("isp") is isp


def test_counter_defaults(config_providers: object) -> None:
    s = load_settings(GOOD / "counter_defaults.toml", env={})
    pi, isp = s.accounts
    assert (pi.cap_bytes, pi.cap_source) == (10**12, "config")
    assert (isp.cap_bytes, isp.cap_source) == (None, "provider")
    assert pi.poll_interval_s is None and pi.poll_interval == 60.0
    assert isp.poll_interval == 3600.0


def test_dump_never_reveals_secrets(
    monkeypatch: pytest.MonkeyPatch, config_providers: object
) -> None:
    monkeypatch.setenv("CAPWATCH_TEST_ISP_PASSWORD", "hunter2-isp-secret")
    s = load_settings(GOOD / "full.toml", env={})
    isp_opts = s.account("isp").provider_options
    assert isp_opts.password.reveal() == "hunter2-isp-secret"  # type: ignore[attr-defined]
    text = dump_toml(s)
    assert "hunter2-isp-secret" not in text
    assert 'password = { env = "CAPWATCH_TEST_ISP_PASSWORD" }' in text
    assert "hunter2-isp-secret" not in repr(s)
    assert "hunter2-isp-secret" not in str(s.model_dump())


def test_literal_secret_masked_unless_asked() -> None:
    web = WebSettings(username="u", password="plain-pass-1")  # type: ignore[arg-type]
    assert web.password is not None and web.password.is_literal
    assert web.model_dump()["password"] == "**********"
    dumped = web.model_dump(context={"reveal_literal_secrets": True})
    assert dumped["password"] == "plain-pass-1"
    assert "plain-pass-1" not in repr(web)


def test_no_file_gives_embedded_defaults(config_providers: object) -> None:
    s = load_settings(env={})
    assert s.source_path is None
    (acct,) = s.accounts
    assert (acct.name, acct.provider, acct.cap_bytes) == ("host", "host", 10**12)
    assert acct.cycle.start_day is None and acct.cycle.timezone == "local"
    assert acct.poll_interval_s == 60.0
    assert s.data_dir == paths.data_dir()
    assert s.resolved_database_url() == f"sqlite:///{paths.data_dir() / 'capwatch.db'}"


def test_default_path_used_when_present(config_providers: object) -> None:
    target = paths.default_config_path()
    target.parent.mkdir(parents=True)
    target.write_text('log_level = "ERROR"\n', encoding="utf-8")
    s = load_settings(env={})
    assert s.source_path == target and s.log_level == "ERROR"
    assert [a.name for a in s.accounts] == ["host"]


def test_capwatch_config_env_names_the_file(tmp_path: Path, config_providers: object) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text('log_format = "json"\n', encoding="utf-8")
    assert load_settings(env={"CAPWATCH_CONFIG": str(cfg)}).log_format == "json"


def test_capwatch_config_dir_is_where_the_default_file_is_looked_for(
    tmp_path: Path, config_providers: object
) -> None:
    """The container sets CAPWATCH_CONFIG_DIR=/config: a file there is read, none means the
    embedded defaults (CAPWATCH_CONFIG would have to name a file that exists)."""
    env = {"CAPWATCH_CONFIG_DIR": str(tmp_path)}
    defaults = load_settings(env=env)
    assert defaults.source_path is None and [a.name for a in defaults.accounts] == ["host"]
    (tmp_path / "capwatch.toml").write_text('log_format = "json"\n', encoding="utf-8")
    read = load_settings(env=env)
    assert read.source_path == tmp_path / "capwatch.toml" and read.log_format == "json"


def test_env_overrides(tmp_path: Path, config_providers: object) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[web]\nport = 8000\n[mqtt]\nhost = "broker"\n', encoding="utf-8")
    env = {
        "CAPWATCH_DATABASE_URL": "sqlite:////tmp/other.db",
        "CAPWATCH_DATA_DIR": str(tmp_path / "d"),
        "CAPWATCH_LOG_FORMAT": "json",
        "CAPWATCH_WEB__PORT": "8486",
        "CAPWATCH_MQTT__PORT": "1999",
        "CAPWATCH_GRAPHITE__HOST": "carbon.local",
        "CAPWATCH_PROMETHEUS__ENABLED": "false",
        "CAPWATCH_SOMETHING_ELSE": "ignored",
        "CAPWATCH_CONFIG": "/not/used/because/path/given",
    }
    s = load_settings(cfg, env=env)
    assert s.database_url == "sqlite:////tmp/other.db"
    assert s.data_dir == tmp_path / "d"
    assert s.log_format == "json"
    assert s.web.port == 8486
    assert s.mqtt is not None and (s.mqtt.host, s.mqtt.port) == ("broker", 1999)
    assert s.graphite is not None and s.graphite.host == "carbon.local"
    assert s.prometheus.enabled is False


def test_unknown_account_lookup() -> None:
    s = Settings(accounts=[AccountSettings(name="a", provider="x", cap="1 TB")])  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="unknown account 'b'"):
        s.account("b")


def test_settings_are_frozen() -> None:
    c = CycleSettings(start_day=5)
    with pytest.raises(ValueError, match="frozen"):
        c.start_day = 6  # type: ignore[misc]


def test_local_zone_is_a_zoneinfo() -> None:
    assert isinstance(CycleSettings().zone, ZoneInfo)
    assert CycleSettings(timezone="Asia/Tokyo").zone == ZoneInfo("Asia/Tokyo")


def test_unknown_provider_options_error_on_access() -> None:
    acct = AccountSettings(name="a", provider="definitely-not-installed")
    with pytest.raises(ConfigError, match="unknown provider 'definitely-not-installed'"):
        acct.provider_options  # noqa: B018


def _models() -> list[type[BaseModel]]:
    return [model for _heading, model in SECTIONS]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_field_has_a_description(model: type[BaseModel]) -> None:
    missing = [name for name, f in model.model_fields.items() if not (f.description or "").strip()]
    assert missing == []


def test_reference_lists_every_key() -> None:
    text = reference_markdown()
    for model in _models():
        for name, info in model.model_fields.items():
            if name in ("cap_source", "source_path"):
                continue
            key = {"cap_bytes": "cap", "poll_interval_s": "poll_interval"}.get(name, name)
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            key = str(extra.get("toml_key") or key)  # a window's from/to
            assert f"| `{key}` |" in text, (model.__name__, name)
            assert info.description is not None
    assert "### [accounts.cycle]" in text and "### [[notify]]" in text


def test_reference_is_machine_independent(monkeypatch: pytest.MonkeyPatch) -> None:
    first = reference_markdown()
    monkeypatch.setenv("XDG_DATA_HOME", "/somewhere/else")
    assert reference_markdown() == first


@pytest.mark.skipif(not HAS_HOST, reason="capwatch.providers.host not written yet")
def test_real_host_provider_options(tmp_path: Path) -> None:
    cfg = tmp_path / "h.toml"
    cfg.write_text(
        '[[accounts]]\nname = "pi"\nprovider = "host"\n'
        '[accounts.options]\ninterfaces = ["eth0"]\ndirection = "rx"\n',
        encoding="utf-8",
    )
    acct = load_settings(cfg, env={}).accounts[0]
    assert acct.provider_options.model_dump()["interfaces"] == ["eth0"]
    assert acct.cap_bytes == 10**12
    cfg.write_text(
        '[[accounts]]\nname = "pi"\nprovider = "host"\noptions = { direction = "up" }\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"h\.toml:4: accounts\[0\]\.options\.direction: "):
        load_settings(cfg, env={})


@pytest.mark.skipif(not HAS_HOST, reason="capwatch.providers.host not written yet")
def test_real_default_settings_load() -> None:
    s = load_settings(env={})
    assert s.accounts[0].provider == "host"
