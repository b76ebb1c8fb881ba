"""The ``capwatch`` console script: ``capwatch --help`` answered without importing click.

``capwatch --help`` is what people type first and what a cron wrapper or a login script runs
most often after ``status``; on a Raspberry Pi importing click alone costs several times the
interpreter's own start-up. The top-level help is the same text every time, so it is kept
rendered in ``help.txt`` beside this module (``make docs`` writes it with click's own formatter,
tests/test_cli.py holds it to what click prints) and printed from there when the terminal is at
least 80 columns wide, where click's layout does not depend on the width. Everything else, and
any narrower terminal, goes to the click command unchanged.
"""

from __future__ import annotations

import os
import sys

HELP_FILE = os.path.join(os.path.dirname(__file__), "help.txt")
PROG = "capwatch"
HELP_ARGS = (["--help"], ["-h"])


def _columns() -> int:
    """The terminal's width as click's formatter sees it (``shutil.get_terminal_size``'s
    rules, without importing shutil and its compression modules)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def program_name() -> str:
    """The name click would show in "Usage:" (its ``_detect_program_name``)."""
    path = sys.argv[0] if sys.argv and sys.argv[0] else PROG
    package = getattr(sys.modules.get("__main__"), "__package__", None)
    if not package:  # a script (the console script), or `python -c`
        return os.path.basename(path)
    name = os.path.splitext(os.path.basename(path))[0]
    module = package if name == "__main__" else f"{package}.{name}"
    return f"python -m {module.lstrip('.')}"


def quick_help(args: list[str]) -> str | None:
    """The rendered top-level help when ``args`` asks for it and it applies, else None."""
    if args not in HELP_ARGS or _columns() < 80:
        return None
    prog = program_name()
    if len(prog) > 30:  # a long name may wrap the usage line differently
        return None
    try:
        with open(HELP_FILE, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    return text.replace(f"Usage: {PROG} ", f"Usage: {prog} ", 1)


def main() -> None:
    """Console-script entry point."""
    text = quick_help(sys.argv[1:])
    if text is not None:
        sys.stdout.write(text)
        return
    from capwatch.cli import main as cli_main

    cli_main()
