"""A commented example config, as ``capwatch init`` writes it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from capwatch.config import _toml_write
from capwatch.secrets import Secret

_HEADER = """\
# capwatch configuration (TOML). Every key is listed in the README's configuration reference.
# Sizes: "1.2 TB", "1229 GB", "500 MiB" or bytes. Durations: "90s", "5m", "1h" or seconds.
# Secrets: a plain string works, but prefer a reference:
#   {env = "VAR"}, {file = "~/.config/capwatch/isp-password"},
#   {command = "pass show isp"}, {keyring = "service/username"}
# Environment variables override scalar keys: CAPWATCH_LOG_LEVEL, CAPWATCH_WEB__PORT, ...

# database_url = "postgresql+psycopg://capwatch@db.example/capwatch"  # default: SQLite
# data_dir = "~/.local/share/capwatch"
log_format = "text"
log_level = "INFO"
"""

_TAIL = """
# [accounts.alerts]
# used_percent = [75, 90, 100]       # alert at these percentages of the cap
# projected_percent = [90]           # alert when the forecast reaches these
# allowance_below_bytes = "5 GB"     # alert when today's allowance drops below
# stale_hours = 6

# [accounts.overage]
# block_bytes = "50 GB"
# block_cost = 10.0
# max_charge = 100.0

[web]
host = "127.0.0.1"   # listening beyond this machine needs auth_token or username/password
port = 8485
# auth_token = {env = "CAPWATCH_WEB_TOKEN"}
# base_url = "https://capwatch.example"

# [[notify]]
# name = "phone"
# url = {env = "CAPWATCH_NOTIFY_URL"}   # an Apprise URL, e.g. "ntfys://ntfy.sh/my-topic"
# kinds = ["alerts", "weekly", "monthly"]

# [reports]
# weekly_cron = "0 8 * * sun"
# monthly = true

# [mqtt]
# host = "homeassistant.local"
# username = "capwatch"
# password = {env = "CAPWATCH_MQTT_PASSWORD"}

# [graphite]
# host = "graphite.local"

# [influxdb]
# url = "http://influx.local:8086"
# database = "capwatch"

# [prometheus]
# enabled = true
"""


def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reference(reveal_literal=True)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def example_config(
    *,
    name: str = "host",
    provider: str = "host",
    cap: str | int | None = None,
    start_day: int | None = None,
    timezone: str = "local",
    interval: str | float | None = None,
    options: Mapping[str, Any] | None = None,
) -> str:
    """A commented TOML config with one account built from the arguments."""
    account: dict[str, Any] = {"name": name, "provider": provider}
    if cap is not None:
        account["cap"] = cap
    if interval is not None:
        account["poll_interval"] = interval
    lines = [_HEADER, "[[accounts]]", _toml_write.dumps(account).rstrip("\n")]
    if cap is None:
        lines.append('# cap = "1.2 TB"   # or "provider" (read from the ISP) or "unlimited"')
    if interval is None:
        lines.append('# poll_interval = "5m"   # default: the provider\'s own')
    if options:
        lines += ["", "[accounts.options]", _toml_write.dumps(_plain(options)).rstrip("\n")]
    lines += ["", "[accounts.cycle]"]
    if start_day is None:
        lines.append("# start_day = 1   # omitted: the calendar month")
    else:
        lines.append(f"start_day = {start_day}")
    lines.append(f"timezone = {_toml_write.toml_value(timezone)}")
    return "\n".join(lines) + "\n" + _TAIL
