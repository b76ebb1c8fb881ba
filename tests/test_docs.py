"""Docs that cannot drift: the README's generated parts match the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_generated_sections_are_current() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", str(ROOT / "README.md")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, (
        "README is stale: run `make docs`\n" + result.stdout + result.stderr
    )


def test_install_md_figures_come_from_benchmarks() -> None:
    """Issue 16 point 14: docs/install.md's figures are generated from BENCHMARKS.md's "Figures
    the docs quote" (and its poll intervals from the providers), and each quoted figure is one
    BENCHMARKS.md measured."""
    result = subprocess.run(
        [sys.executable, "-m", "cogapp", "--check", "-I", "docs", str(ROOT / "docs/install.md")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, (
        "docs/install.md is stale: run `make docs`\n" + result.stdout + result.stderr
    )
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import figures  # docs/figures.py
    finally:
        sys.path.remove(str(ROOT / "docs"))
    assert {"serve_rss", "serve_pages_rss", "help_rss", "poll_rss"} <= set(figures.quoted())
    assert figures.measured_elsewhere() == {}
    text = (ROOT / "docs/install.md").read_text()
    assert "15 minutes by default" not in text and "every 15 minutes" in text  # http_json's


def test_readme_quick_start_has_exactly_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in quick.strip().splitlines()]
    assert commands == ["make serve", "make test"]


def test_every_cli_command_is_in_the_readme() -> None:
    from capwatch.cli import COMMANDS

    text = (ROOT / "README.md").read_text()
    for name in COMMANDS:
        assert f"### `capwatch {name}`" in text


def test_ci_runs_make_test() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
