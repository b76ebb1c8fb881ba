"""The ``capwatch`` command: thin click commands over the layers below.

Sub-commands are imported only when run, so ``capwatch --help`` and ``capwatch status`` start
fast on a Raspberry Pi.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from capwatch import __version__

# name -> "module:attribute"; each module imports its heavy dependencies inside the command.
COMMANDS: dict[str, str] = {
    "init": "capwatch.cli.init:init",
    "poll": "capwatch.cli.poll:poll",
    "status": "capwatch.cli.status:status",
    "history": "capwatch.cli.history:history",
    "daily": "capwatch.cli.daily:daily",
    "import": "capwatch.cli.importer:import_",
    "export": "capwatch.cli.export:export",
    "doctor": "capwatch.cli.doctor:doctor",
    "serve": "capwatch.cli.serve:serve",
    "login": "capwatch.cli.login:login",
    "chart": "capwatch.cli.chart:chart",
    "report": "capwatch.cli.report:report",
    "notify": "capwatch.cli.notify:notify",
    "check-response": "capwatch.cli.check_response:check_response",
}


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, sorted."""
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their whole first sentence, wrapped (click cuts it at ~45
        characters with "...", which hid what half of them do at 80 columns)."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import and return one command."""
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
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
    """Console-script entry point."""
    cli(obj={})
