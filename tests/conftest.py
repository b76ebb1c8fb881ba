"""Test configuration: every module in tests/fixtures/ is a fixture plugin.

The session also guards the checkout: a test that writes into it (a ``file:`` URI taken as a
relative path once left a database under ``./file:``) fails the run, naming what it left.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = sorted(
    f"tests.fixtures.{p.stem}"
    for p in (Path(__file__).parent / "fixtures").glob("*.py")
    if not p.stem.startswith("_")
)


def checkout_changes() -> set[str] | None:
    """``git status --porcelain`` lines of the checkout (None outside a git checkout)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return None
    out = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=False,
    )
    return set(out.stdout.splitlines()) if out.returncode == 0 else None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Remember how the checkout looked before any test ran."""
    session.config.stash[_BEFORE] = checkout_changes()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when the tests left files in (or changed) the checkout."""
    before = session.config.stash.get(_BEFORE, None)
    after = checkout_changes()
    if before is None or after is None:
        return
    added = sorted(after - before)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # `make screenshots` writes exactly these
        added = [
            line for line in added if not line.endswith(".png") or "docs/screenshots/" not in line
        ]
    if added:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = "\n".join(f"  {line}" for line in added)
        message = f"the tests wrote into the checkout ({ROOT}):\n{lines}"
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[set[str] | None]()
