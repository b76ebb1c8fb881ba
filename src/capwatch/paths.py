"""Where capwatch keeps its config and data (platformdirs; computed at call time)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "capwatch"
# Where to look for capwatch.toml instead of the user's config directory: the container image
# sets it to its /config mount, so a missing file there means the embedded defaults, as it
# does for a user without ~/.config/capwatch/capwatch.toml (CAPWATCH_CONFIG names one file,
# which must exist).
CONFIG_DIR_ENV = "CAPWATCH_CONFIG_DIR"


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The config directory: ``$CAPWATCH_CONFIG_DIR``, else the user's (``~/.config/capwatch``)."""
    configured = (os.environ if env is None else env).get(CONFIG_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    """The config file used when none is given: ``config_dir()/capwatch.toml``."""
    return config_dir(env) / "capwatch.toml"


def data_dir() -> Path:
    """The user's data directory for capwatch (database, sessions, diagnostics)."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_database_url(data_dir: Path) -> str:
    """The SQLite URL used when no ``database_url`` is configured."""
    return f"sqlite:///{Path(data_dir).expanduser() / 'capwatch.db'}"
