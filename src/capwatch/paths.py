"""Where capwatch keeps its config and data (platformdirs; computed at call time)."""

from __future__ import annotations

from pathlib import Path

APP_NAME = "capwatch"


def config_dir() -> Path:
    """The user's config directory for capwatch (e.g. ``~/.config/capwatch``)."""
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    """The config file used when none is given: ``config_dir()/capwatch.toml``."""
    return config_dir() / "capwatch.toml"


def data_dir() -> Path:
    """The user's data directory for capwatch (database, sessions, diagnostics)."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_database_url(data_dir: Path) -> str:
    """The SQLite URL used when no ``database_url`` is configured."""
    return f"sqlite:///{Path(data_dir).expanduser() / 'capwatch.db'}"
