"""The HTML shell shared by every page, and small formatting helpers (units at the edge)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from capwatch.models import AlertState, CycleSummary
from capwatch.service.serialize import _iso
from capwatch.units import format_bytes


def gb(n: int | None) -> str:
    """Bytes for people ("412.3 GB"); "-" when unknown."""
    return format_bytes(n)


def when(value: datetime | None) -> str:
    """A ``<time>`` element (the page script rewrites it in the browser's local time)."""
    if value is None:
        return "never"
    iso = _iso(value) or ""
    return f'<time datetime="{iso}">{escape(value.strftime("%Y-%m-%d %H:%M UTC"))}</time>'


def age(s: CycleSummary) -> str:
    """How long ago the last reading was taken, in words."""
    if s.last_reading_at is None:
        return "never"
    seconds = (s.as_of - s.last_reading_at).total_seconds()
    if seconds < 90:
        return f"{max(int(seconds), 0)} s ago"
    if seconds < 5400:
        return f"{int(seconds // 60)} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def page(title: str, body: str, *, script: bool = False, refresh: int | None = None) -> str:
    """A whole HTML document: header, ``body`` inside <main>, the stylesheet, the script."""
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    js = '<script src="/static/chart.js" defer></script>' if script else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark">{meta}
<title>{escape(title)}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/capwatch.css">{js}</head>
<body><a class="skip" href="#main">Skip to content</a>
<header class="top"><div><a class="brand" href="/">capwatch</a>
<nav aria-label="Site"><a href="/">Overview</a> · <a href="/api/docs">API</a></nav></div></header>
<main id="main">{body}</main></body></html>"""


def alerts_list(alerts: list[AlertState]) -> str:
    """Active alerts as a list people see first (empty string when there are none)."""
    if not alerts:
        return ""
    items = "".join(
        f'<li data-rule="{escape(a.rule)}" data-level="{escape(a.level)}">'
        f"{escape(a.message or f'{a.rule} {a.level}')}</li>"
        for a in sorted(alerts, key=lambda a: (a.fired_at is None, a.fired_at))
    )
    return f'<ul class="alerts" role="alert" data-field="alerts">{items}</ul>'
