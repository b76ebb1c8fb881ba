"""The ``capwatch`` command: thin click commands over the layers below.

Sub-commands are imported only when run, so ``capwatch --help`` and ``capwatch status`` start
fast on a Raspberry Pi.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from capwatch import __version__

# name -> ("module:attribute", the command's one-line help). The help text is kept here so that
# `capwatch --help` lists every command without importing one (each pulls in pydantic, asyncio
# or SQLAlchemy); tests/test_cli.py holds each line to the command's own docstring.
COMMANDS: dict[str, tuple[str, str]] = {
    "chart": (
        "capwatch.cli.chart:chart",
        "Re-plot any cycle (usage, pace, alarm, cap, forecast, daily bars) to a file.",
    ),
    "check-response": (
        "capwatch.cli.check_response:check_response",
        "Read a saved ISP reply (FILE, - for stdin, or a diagnostics bundle) offline with "
        "PROVIDER's parser and show what a poll would store.",
    ),
    "daily": (
        "capwatch.cli.daily:daily",
        "Show the current cycle day by day: each day's usage and the total so far.",
    ),
    "devices": (
        "capwatch.cli.devices:devices",
        "Show who used it: each device's cycle, share of the meter, day and usual day.",
    ),
    "doctor": (
        "capwatch.cli.doctor:doctor",
        "Check the config, secrets, store, file permissions and each provider's prerequisites.",
    ),
    "export": (
        "capwatch.cli.export:export",
        "Export readings, oldest first; the CSV's first three columns import back.",
    ),
    "history": (
        "capwatch.cli.history:history",
        "Show the usage of each cycle, newest first, the one in progress marked.",
    ),
    "import": (
        "capwatch.cli.importer:import_",
        "Import readings from CSV files; a bad row names its line and nothing is written.",
    ),
    "init": (
        "capwatch.cli.init:init",
        "Write a commented config file (asks questions unless --non-interactive).",
    ),
    "login": (
        "capwatch.cli.login:login",
        "Sign in to PROVIDER for an account and keep the session for polling.",
    ),
    "notify": (
        "capwatch.cli.notify:notify",
        "Check the notification channels ([[notify]] in the config).",
    ),
    "poll": (
        "capwatch.cli.poll:poll",
        "Poll accounts once and store the readings; exit 1 if any poll failed.",
    ),
    "report": (
        "capwatch.cli.report:report",
        "Build the weekly status or the last closed cycle's summary (text on stdout by default).",
    ),
    "serve": (
        "capwatch.cli.serve:serve",
        "Poll every account on its schedule and serve the dashboard, API and /metrics.",
    ),
    "status": (
        "capwatch.cli.status:status",
        "Show used, cap, %, projection, daily allowance, pace, days left and active alerts.",
    ),
    "topup": (
        "capwatch.cli.topup:topup",
        "Record data bought on top of an allowance (for the cycle it falls in), or list them.",
    ),
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, sorted."""
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their whole first sentence, wrapped (click cuts it at ~45
        characters with "...", which hid what half of them do at 80 columns), from
        :data:`COMMANDS`, so listing them imports none."""
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return one command."""
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, _, attr = entry[0].partition(":")
        cmd: Any = getattr(importlib.import_module(module), attr)
        assert isinstance(cmd, click.Command)
        return cmd


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="capwatch")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="CAPWATCH_CONFIG",
    help="Config file (TOML). Default: capwatch.toml in the user config dir.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """Watch your internet data cap: meter, history, forecast, alerts, dashboard."""
    ctx.ensure_object(dict)
    ctx.obj["config_path"] = config_path
    ctx.obj["verbose"] = verbose


def main() -> None:
    """Run the click command (``capwatch._launch.main`` is the console script, answering
    ``--help`` before this is imported)."""
    cli(obj={})


def render_help() -> str:
    """The top-level ``capwatch --help`` as click prints it at 80 columns or more (its
    formatter is then 78 wide): what ``make docs`` keeps in capwatch/help.txt."""
    settings = {**cli.context_settings, "terminal_width": 78}
    with click.Context(cli, info_name="capwatch", **settings) as ctx:
        return cli.get_help(ctx) + "\n"
