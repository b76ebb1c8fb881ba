"""Load settings: TOML file (or embedded defaults) + CAPWATCH_* environment, one-line errors."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from capwatch import paths
from capwatch.config._errors import describe_error, format_loc
from capwatch.config._toml_lines import Path_, find_line, key_lines
from capwatch.config.models import Settings, default_account_data
from capwatch.errors import ConfigError

ENV_PREFIX = "CAPWATCH_"
CONFIG_ENV = "CAPWATCH_CONFIG"
# Top-level keys the environment may not override (lists of tables, bookkeeping).
_NOT_FROM_ENV = frozenset({"accounts", "notify", "source_path"})
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def _locate(path: Path | str | None, env: Mapping[str, str]) -> Path | None:
    """The config file to read: given, CAPWATCH_CONFIG, the default if it exists, or None."""
    if path is not None and str(path) != "":
        return Path(path).expanduser()
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    default = paths.default_config_path(env)
    return default if default.is_file() else None


def _read(source: Path) -> str:
    try:
        return source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{source}: is a directory, not a config file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read ({exc.strerror})") from None


def parse_toml(text: str, source: Path | str) -> dict[str, Any]:
    """Parse TOML text; a syntax error becomes ``<file>:<line>: TOML syntax error: ...``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_AT.search(msg)
        where = f"{source}:{m.group(1)}" if m else str(source)
        msg = _TOML_AT.sub("", msg)
        raise ConfigError(f"{where}: TOML syntax error: {msg[:1].lower()}{msg[1:]}") from None


def env_overrides(env: Mapping[str, str]) -> dict[Path_, tuple[str, str]]:
    """``CAPWATCH_WEB__PORT=8486`` -> ``{("web", "port"): ("CAPWATCH_WEB__PORT", "8486")}``."""
    out: dict[Path_, tuple[str, str]] = {}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        parts = tuple(p for p in name[len(ENV_PREFIX) :].lower().split("__"))
        if not parts or parts[0] not in Settings.model_fields or parts[0] in _NOT_FROM_ENV:
            continue
        if any(not p for p in parts):
            raise ConfigError(f"<environment {name}>: empty key segment")
        out[parts] = (name, value)
    return out


def _apply_overrides(data: dict[str, Any], overrides: dict[Path_, tuple[str, str]]) -> None:
    for loc, (name, value) in sorted(overrides.items()):
        node = data
        for part in loc[:-1]:
            child = node.get(str(part))
            if child is None:
                child = node[str(part)] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"<environment {name}>: {format_loc(loc[:-1])} is not a table")
            node = child
        node[str(loc[-1])] = None if value == "" else value


def load_settings(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Load and validate the settings (file or embedded defaults, then CAPWATCH_* overrides)."""
    env = os.environ if env is None else env
    source = _locate(path, env)
    text = _read(source) if source is not None else ""
    data = parse_toml(text, source) if source is not None else {}
    overrides = env_overrides(env)
    _apply_overrides(data, overrides)
    return _validate(data, source, text, overrides)


def validate_text(text: str, source: Path) -> Settings:
    """Validate config text as if loaded from ``source`` (no environment overrides)."""
    return _validate(parse_toml(text, source), source, text, {})


def _validate(
    data: dict[str, Any],
    source: Path | None,
    text: str,
    overrides: dict[Path_, tuple[str, str]],
) -> Settings:
    if not data.get("accounts"):
        data["accounts"] = [default_account_data()]
    if source is not None:
        data["source_path"] = source
    try:
        return Settings.model_validate(data, context={"check_providers": True})
    except ValidationError as exc:
        raise _config_error(exc, source, text, overrides) from None


def _config_error(
    exc: ValidationError,
    source: Path | None,
    text: str,
    overrides: dict[Path_, tuple[str, str]],
) -> ConfigError:
    loc, msg, names_place = describe_error(exc.errors()[0])
    where = format_loc(loc)
    origin = None
    for env_loc, (name, _value) in overrides.items():
        if loc[: len(env_loc)] == env_loc:
            origin = f"<environment {name}>"
    if origin is None and source is not None:
        line = find_line(key_lines(text), loc)
        origin = f"{source}:{line}" if line else str(source)
    if origin is None:
        origin = "<built-in defaults>"
    body = msg if names_place else f"{where}: {msg}" if where else msg
    return ConfigError(f"{origin}: {body}")
