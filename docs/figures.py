"""The figures the docs quote, read from BENCHMARKS.md ("Figures the docs quote"), and the
paragraphs of docs/install.md built from them and from the code (``make docs`` runs cog).

tests/test_docs.py fails when the docs were not regenerated after a figure changed, or when a
quoted figure is not one that BENCHMARKS.md measured.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
SECTION = "## Figures the docs quote"


def _section(text: str) -> str:
    start = text.index(SECTION)
    rest = text[start + len(SECTION) :]
    end = rest.find("\n## ")
    return rest if end < 0 else rest[:end]


def quoted(text: str | None = None) -> dict[str, str]:
    """``{name: value}`` from the section's table (``| name | value | where |``)."""
    body = _section(BENCHMARKS.read_text() if text is None else text)
    rows: dict[str, str] = {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`") and cells[0].endswith("`"):
            rows[cells[0].strip("`")] = cells[1]
    return rows


def measured_elsewhere(text: str | None = None) -> dict[str, list[str]]:
    """Each quoted figure's numbers that BENCHMARKS.md does not show outside the section."""
    full = BENCHMARKS.read_text() if text is None else text
    start = full.index(SECTION)
    outside = full[:start] + full[start + len(SECTION) + len(_section(full)) :]
    missing: dict[str, list[str]] = {}
    for name, value in quoted(full).items():
        numbers = re.findall(r"\d[\d,]*(?:\.\d+)?", value)
        absent = [
            n for n in numbers if not re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", outside)
        ]
        if absent:
            missing[name] = absent
    return missing


def poll_defaults() -> str:
    """How often each provider polls by default, from the provider classes."""
    from capwatch.providers.base import load_provider, provider_names

    def words(seconds: float) -> str:
        if seconds == 3600:
            return "hourly"
        if seconds == 60:
            return "every minute"
        return f"every {seconds / 60:g} minutes"

    groups: dict[float, list[str]] = {}
    for name in provider_names():
        groups.setdefault(load_provider(name).default_interval_s, []).append(f"`{name}`")
    return "; ".join(f"{', '.join(names)} {words(s)}" for s, names in sorted(groups.items())[::-1])


def _wrap(text: str) -> str:
    import textwrap

    return textwrap.fill(text, width=96, break_on_hyphens=False) + "\n"


def memory_paragraph() -> str:
    """docs/install.md's paragraph on memory."""
    f = quoted()
    return _wrap(
        f"Memory: `capwatch serve` polling an ISP every minute with 100,000 readings stored stays "
        f"at {f['serve_rss']} resident on x86-64 while nobody opens the dashboard, and at "
        f"{f['serve_pages_rss']} with the dashboard open and refreshing (the budget is 80 MB for "
        "a 512 MB board; history size does not move either figure, see the hour-long runs). "
        f"The one-shot CLI commands peak at {f['help_rss']} (`--help`) to {f['poll_rss']} "
        "(`poll`). Each figure and the command that measured it is in BENCHMARKS.md. Heavy "
        "libraries (matplotlib, Playwright, Apprise, pysnmp, paho, Alembic, prometheus_client, "
        "Jinja2) load only when a chart, login, notification, SNMP poll, MQTT export, schema "
        "migration (in a child process), the first Prometheus scrape or the first page needs "
        "them."
    )


def storage_sentence() -> str:
    """docs/install.md's sentence on how much the store writes."""
    f = quoted()
    return _wrap(
        "capwatch writes one small transaction per poll (by default: "
        f"{poll_defaults()}), {f['bytes_per_reading']} bytes of database per reading (aggregates "
        "included): ten years of 5-minute readings are about 100 MB, so wear is negligible."
    )
