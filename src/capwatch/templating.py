"""The Jinja2 environment behind every page and email: autoescaping, one base layout, and the
shared filters, which are the only formatting a template does.

Templates live in ``capwatch/templates``: ``base.html`` (the document shell both pages and
emails extend), ``page.html`` (the dashboard's header, stylesheet and script) and
``email.html`` (the inline-styled column mail clients render). The environment is built on
first use, so commands that never render a page never import Jinja2.
"""

from __future__ import annotations

import contextlib
import functools
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from capwatch import units

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"


def time_element(value: datetime | None) -> Any:
    """A ``<time>`` element in UTC (the page script rewrites it in the browser's local time)."""
    from markupsafe import Markup, escape

    if value is None:
        return "never"
    from capwatch.service.serialize import _iso

    text = value.strftime("%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{}">{}</time>').format(_iso(value) or "", escape(text))


def inline_code(text: str) -> Any:
    """Plain text with its `backticked` commands set as ``<code>`` (the rest escaped)."""
    from markupsafe import Markup, escape

    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: leave the text as it is
        return escape(text)
    return Markup("").join(
        Markup("<code>{}</code>").format(p) if i % 2 else escape(p) for i, p in enumerate(parts)
    )


def local_time(at: datetime | None, zone: str) -> str:
    """``Sun Nov 22, 08:00 CST`` in the account's zone; ``-`` when unknown."""
    if at is None:
        return "-"
    return at.astimezone(ZoneInfo(zone)).strftime("%a %b %-d, %H:%M %Z")


def local_date(at: datetime, zone: Any, fmt: str = "%Y-%m-%d") -> str:
    """A date in an account's zone (a ``tzinfo`` or a zone name)."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return at.astimezone(tz).strftime(fmt)


PLAN_CAP = "the plan's allowances"
"""What a plan without a cap of its own is used "of" (its allowances carry the limits)."""


def money(value: float, currency: str = "$") -> str:
    """``$30.00``."""
    return f"{currency}{value:,.2f}"


FILTERS = {
    "size": units.format_bytes,
    "size_range": lambda f: units.format_range(f.low_bytes, f.high_bytes),
    "shift": units.format_shift,
    "cap": lambda s: (
        PLAN_CAP
        if s.cap_bytes is None and s.allowances
        else units.format_cap(s.cap_bytes, s.unlimited)
    ),
    "percent": units.format_percent,
    "pace": units.format_pace,
    "days": units.format_days,
    "age": units.format_age,
    "when": time_element,
    "local_time": local_time,
    "local_date": local_date,
    "money": money,
    "code": inline_code,
    "level": lambda x: f"{x:.0%}",
}


_cache_dir: Path | None = None


def use_cache_dir(path: Path | None) -> None:
    """Keep compiled templates under ``path`` (the daemon's ``data_dir/cache/templates``), so a
    restarted daemon loads them instead of compiling again: about 1 MiB less resident memory
    and a faster first page (BENCHMARKS.md). Call it before the first render."""
    global _cache_dir
    _cache_dir = path


def _bytecode_cache() -> Any:
    import jinja2

    class Cache(jinja2.FileSystemBytecodeCache):
        """A cache that never fails a render: a full or read-only disk only costs a compile."""

        def dump_bytecode(self, bucket: Any) -> None:
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

        def load_bytecode(self, bucket: Any) -> None:
            try:
                super().load_bytecode(bucket)
            except (OSError, ValueError, EOFError):
                bucket.reset()

    if _cache_dir is None:
        return None
    try:
        _cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return Cache(str(_cache_dir))


@functools.cache
def environment() -> jinja2.Environment:
    """The one environment (templates are compiled once per process, or loaded from the cache
    set by :func:`use_cache_dir`)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        bytecode_cache=_bytecode_cache(),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    return env


def render(name: str, **context: Any) -> str:
    """Render the template ``name`` with ``context``."""
    return environment().get_template(name).render(**context)
