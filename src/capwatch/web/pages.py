"""Server-rendered pages: the status overview (the full dashboard builds on these)."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from capwatch.models import CycleSummary, utcnow

STYLE = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;
--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--bar:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;
--line:#30363d;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--bar:#4493f8}}
body{font:16px/1.45 system-ui,sans-serif;margin:0;background:var(--bg);color:var(--fg)}
main{max-width:72rem;margin:auto;padding:1rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:.85rem;text-transform:uppercase}
.num{text-align:right;font-variant-numeric:tabular-nums}
.status{font-weight:600}.ok{color:var(--ok)}.stale,.new{color:var(--warn)}
.failing,.auth-required{color:var(--bad)}
.meter{height:.5rem;background:var(--line);border-radius:.25rem;overflow:hidden;min-width:6rem}
.meter span{display:block;height:100%;background:var(--bar)}
.over{color:var(--bad)}
footer{color:var(--muted);font-size:.85rem;margin-top:1rem}
@media (max-width:40rem){.wide{display:none}}
"""


def _gb(n: int | None) -> str:
    from capwatch.units import format_bytes

    return format_bytes(n)


def _age(s: CycleSummary) -> str:
    if s.last_reading_at is None:
        return "never"
    seconds = (s.as_of - s.last_reading_at).total_seconds()
    if seconds < 90:
        return f"{max(int(seconds), 0)} s ago"
    if seconds < 5400:
        return f"{int(seconds // 60)} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _row(s: CycleSummary) -> str:
    pct = s.percent
    width = min(pct or 0.0, 100.0)
    f = s.forecast
    projected = "-"
    over = False
    if f is not None:
        projected = f"{_gb(f.expected_bytes)} ({_gb(f.low_bytes)}–{_gb(f.high_bytes)})"
        over = s.cap_bytes is not None and f.expected_bytes > s.cap_bytes
    allowance = f"{_gb(s.daily_allowance_bytes)}/day" if s.daily_allowance_bytes else "-"
    name = escape(s.account)
    return (
        f'<tr data-account="{name}"><td><a href="/accounts/{name}">{name}</a></td>'
        f'<td class="status {s.status.value}">{s.status.value}</td>'
        f'<td class="num" data-field="used">{_gb(s.used_bytes)}</td>'
        f'<td class="num" data-field="cap">{_gb(s.cap_bytes) if s.cap_bytes else "unlimited"}</td>'
        f'<td><div class="meter" role="meter" aria-valuemin="0" aria-valuemax="100" '
        f'aria-valuenow="{pct or 0:.1f}" aria-label="{name} share of cap used">'
        f'<span style="width:{width:.1f}%"></span></div>'
        f'<span data-field="percent">{f"{pct:.1f}%" if pct is not None else "-"}</span></td>'
        f'<td class="num{" over" if over else ""}" data-field="projected">{projected}</td>'
        f'<td class="num wide">{allowance}</td>'
        f'<td class="num wide">{s.days_left:.1f}</td>'
        f'<td class="wide">{_age(s)}'
        + (f'<br><small class="failing">{escape(s.last_error)}</small>' if s.last_error else "")
        + "</td></tr>"
    )


def render_overview(summaries: list[CycleSummary]) -> str:
    """The overview page: every account's usage against its cap."""
    rows = "\n".join(_row(s) for s in summaries) or (
        '<tr><td colspan="9">No accounts configured.</td></tr>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>capwatch</title><style>{STYLE}</style></head>
<body><main><h1>capwatch — data cap status</h1>
<table aria-label="Accounts"><thead><tr><th scope="col">Account</th><th scope="col">Status</th>
<th scope="col" class="num">Used</th><th scope="col" class="num">Cap</th>
<th scope="col">Share</th>
<th scope="col" class="num">Projected (80% range)</th>
<th scope="col" class="num wide">Allowance</th><th scope="col" class="num wide">Days left</th>
<th scope="col" class="wide">Last reading</th></tr></thead>
<tbody>{rows}</tbody></table>
<footer>Updated {escape(utcnow().strftime("%Y-%m-%d %H:%M:%S UTC"))}.
<a href="/api/docs">API</a></footer></main></body></html>"""


def build_pages_router() -> APIRouter:
    """The HTML routes."""
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> str:
        """The status overview."""
        from capwatch.service.views import account_summary

        settings: Any = request.app.state.settings
        store: Any = request.app.state.store
        now = utcnow()
        return render_overview(
            [account_summary(settings, store, a.name, now) for a in settings.accounts]
        )

    return router
