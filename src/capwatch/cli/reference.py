"""Generate the README's CLI reference from the commands' own ``--help`` (run by cog)."""

from __future__ import annotations

from click.testing import CliRunner


def cli_reference() -> str:
    """Markdown with the ``--help`` of ``capwatch`` and every sub-command."""
    from capwatch.cli import COMMANDS, cli

    runner = CliRunner()
    parts: list[str] = []
    for name in [None, *sorted(COMMANDS)]:
        args = ["--help"] if name is None else [name, "--help"]
        result = runner.invoke(cli, args, prog_name="capwatch", terminal_width=100)
        if result.exit_code != 0:
            raise RuntimeError(f"capwatch {name} --help failed: {result.output}")
        title = "capwatch" if name is None else f"capwatch {name}"
        parts.append(f"### `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)
