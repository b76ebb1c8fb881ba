"""`capwatch check-response`: read a saved ISP reply offline, with the provider's own parser.

For users whose ISP changed its reply: save what the ISP answered (the browser's developer
tools, ``curl``, or a diagnostics bundle that a failed poll or ``capwatch doctor --bundle``
wrote) and see what a poll would store, or the one line that says which field is wrong.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from capwatch.cli._common import (
    account_of_provider,
    clock,
    console,
    emit_json,
    fail,
    handle_errors,
    load,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from capwatch.models import Snapshot
    from capwatch.providers.base import Provider

ARCHIVE_KEY = "capwatch_reply"
"""The member of an archived reply (``doctor --bundle``) that holds the body as received."""


def read_reply(file: str, provider: str) -> str:
    """The reply text of ``file``: a saved body, ``-`` (stdin), a diagnostics bundle directory
    (its ``page.html``), or an archived reply (JSON with a ``capwatch_reply`` member)."""
    if file == "-":
        return sys.stdin.read()
    path = Path(file)
    if path.is_file() and path.suffix.lower() == ".zip":
        return _from_support_bundle(path, provider)
    if path.is_dir():
        meta_path, page = path / "meta.json", path / "page.html"
        if not page.is_file():
            fail(f"{file}: a diagnostics bundle without page.html (nothing to read)")
        if meta_path.is_file():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("provider") not in (None, provider):
                fail(f"{file}: the bundle is from {meta.get('provider')!r}, not {provider!r}")
        path = page
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}")
    if text.lstrip().startswith("{") and ARCHIVE_KEY in text[:200]:
        try:
            wrapped = json.loads(text)
        except ValueError:
            return text
        if isinstance(wrapped, dict) and isinstance(wrapped.get(ARCHIVE_KEY), str):
            if wrapped.get("provider") not in (None, provider):
                fail(f"{file}: the reply is from {wrapped.get('provider')!r}, not {provider!r}")
            return str(wrapped[ARCHIVE_KEY])
    return text


def _from_support_bundle(path: Path, provider: str) -> str:
    """The newest refused reply from ``provider`` in a ``doctor --bundle`` zip."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            for name in sorted(n for n in archive.namelist() if "/reply-" in n):
                body = json.loads(archive.read(name))
                if body.get("provider") == provider and isinstance(body.get(ARCHIVE_KEY), str):
                    click.echo(f"capwatch: reading {name} of {path}", err=True)
                    return str(body[ARCHIVE_KEY])
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        fail(f"{path}: not a support bundle ({exc})")
    fail(f"{path}: no refused reply from {provider!r} in the bundle")
    raise AssertionError("unreachable")


def _option_values(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``-o key=value`` pairs; values are read as TOML (``400``, ``true``) or else as text."""
    import tomllib

    from capwatch.errors import InputError

    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"-o {pair!r}: expected KEY=VALUE, e.g. -o cap_gb=400")
        try:
            values[key.strip()] = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            values[key.strip()] = raw.strip()
    return values


def _build(
    ctx: click.Context,
    name: str,
    account: str | None,
    zone: str | None,
    pairs: tuple[str, ...] = (),
) -> Provider[Any]:
    """The provider with the account's options (``--account``) or its defaults, and ``-o``."""
    from zoneinfo import ZoneInfo

    from capwatch.config._base import system_zone
    from capwatch.errors import ConfigError
    from capwatch.providers.base import ProviderContext, load_provider

    cls = load_provider(name)
    if account is None and cls.reply_needs_account:
        raise ConfigError(f"check-response {name}: give --account (the paths come from its config)")
    if account is not None:
        settings, acct = account_of_provider(ctx, account, name)
        options: Any = acct.provider_options
        if pairs:
            options = options.model_copy(update=_option_values(pairs))
        tz: ZoneInfo = ZoneInfo(zone) if zone else acct.cycle.zone
        data_dir = settings.data_dir
    else:
        from pydantic import ValidationError

        values = _option_values(pairs)
        unknown = sorted(set(values) - set(cls.Options.model_fields))
        if unknown:
            raise ConfigError(f"-o {unknown[0]}: the {name} provider has no such option")
        try:
            options = cls.Options.model_validate(values)
        except ValidationError as exc:  # credentials the parser does not need: left unset
            others = [e for e in exc.errors() if e["type"] != "missing" and e["loc"]]
            if others:
                where = ".".join(map(str, others[0]["loc"])) or name
                raise ConfigError(f"-o {where}: {others[0]['msg']}") from None
            options = cls.Options.model_construct(**values)
        tz = ZoneInfo(zone) if zone else system_zone()
        data_dir = Path(".")
    context = ProviderContext(
        account=account or name, timezone=tz, data_dir=data_dir, clock=clock(ctx)
    )
    return cls(options, context)


def snapshot_to_dict(snap: Snapshot, account: str, cycle: tuple[Any, Any]) -> dict[str, Any]:
    """What a poll would store, as JSON (the reading in ``poll --json``'s shape)."""
    from dataclasses import asdict

    from capwatch.service.serialize import _iso

    start, end = cycle
    return {
        "reading": None
        if snap.used_bytes is None
        else {
            "account": account,
            "observed_at": _iso(snap.observed_at),
            "cycle_start": _iso(start),
            "used_bytes": snap.used_bytes,
            "cap_bytes": snap.cap_bytes,
            "source": snap.source,
        },
        "cycle_end": _iso(end),
        "unlimited": snap.unlimited,
        "units": snap.units,
        "devices": [
            {"id": d.device_id, "name": d.name, "used_bytes": d.used_bytes} for d in snap.devices
        ],
        "overage": None if snap.overage is None else asdict(snap.overage),
        "history": [
            {
                "cycle_start": _iso(h.start),
                "cycle_end": _iso(h.end),
                "used_bytes": h.used_bytes,
                "cap_bytes": h.cap_bytes,
            }
            for h in snap.history
        ],
        "counters": [{"key": c.key, "value": c.value, "width": c.width} for c in snap.counters],
        "lines": dict(snap.lines),
    }


def _cycle_of(snap: Snapshot, tz: ZoneInfo, start_day: int | None) -> tuple[Any, Any]:
    if snap.cycle_start is not None and snap.cycle_end is not None:
        return snap.cycle_start, snap.cycle_end
    from capwatch.analysis.cycles import CycleRule

    cycle = CycleRule(start_day, tz).cycle_at(snap.observed_at)
    return snap.cycle_start or cycle.start, snap.cycle_end or cycle.end


MONEY = ("cost_per_block", "max_charge", "charges")


def _shown(name: str, value: Any) -> str:
    from capwatch.units import format_bytes

    if name.startswith("bytes"):
        return format_bytes(value)
    if name in MONEY:
        return f"{value:,.2f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _show(data: dict[str, Any], tz: ZoneInfo, kind: str, now: Any) -> None:
    from datetime import datetime

    from rich.table import Table

    from capwatch.units import format_bytes, format_cap

    def when(iso: str | None) -> str:
        if iso is None:
            return "-"
        return datetime.fromisoformat(iso).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")

    reading = data["reading"] or {}
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("Read as", kind)
    table.add_row("Used", format_bytes(reading.get("used_bytes")))
    table.add_row("Cap", format_cap(reading.get("cap_bytes"), data["unlimited"]))
    table.add_row("Cycle", f"{when(reading.get('cycle_start'))} to {when(data['cycle_end'])}")
    observed = reading.get("observed_at")
    taken = when(observed)
    if observed and abs(datetime.fromisoformat(observed).timestamp() - now.timestamp()) < 5:
        taken += " (now: the reply has no time of its own)"
    table.add_row("Observed at", taken)
    if data["units"]:
        table.add_row("Units in the reply", str(data["units"]))
    for name, value in (data["overage"] or {}).items():
        if value is not None:
            table.add_row(name.replace("_", " ").capitalize(), _shown(name, value))
    if data["lines"]:
        for line, used in data["lines"].items():
            table.add_row(f"Line {line}", format_bytes(used))
    if data["counters"]:
        for c in data["counters"]:
            table.add_row(f"Counter {c['key']}", f"{c['value']:,} bytes")
    con = console()
    con.print(table)
    if data["devices"]:
        devices = Table(title="Devices", title_justify="left")
        devices.add_column("Device")
        devices.add_column("Used", justify="right")
        for d in data["devices"]:
            devices.add_row(d["name"] or d["id"], format_bytes(d["used_bytes"]))
        con.print(devices)
    if data["history"]:
        history = Table(title="Earlier cycles", title_justify="left")
        for col in ("Start", "Until", "Used", "Cap"):
            history.add_column(col, justify="right" if col in ("Used", "Cap") else "left")
        for h in data["history"]:
            history.add_row(
                when(h["cycle_start"])[:10],
                when(h["cycle_end"])[:10],
                format_bytes(h["used_bytes"]),
                format_bytes(h["cap_bytes"]),
            )
        con.print(history)


@click.command("check-response")
@click.argument("provider_name", metavar="PROVIDER")
@click.argument("file", metavar="FILE")
@click.option(
    "--account",
    "-a",
    help="Read with this account's options and time zone from the config (http_json needs it).",
)
@click.option(
    "--timezone", "zone", help="Time zone for dates in the reply (default: the system's)."
)
@click.option(
    "--option",
    "-o",
    "pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A provider option for the reading, e.g. -o cap_gb=400 or -o unlimited=true.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the reading as `poll --json`).")
@click.pass_context
@handle_errors
def check_response(
    ctx: click.Context,
    provider_name: str,
    file: str,
    account: str | None,
    zone: str | None,
    pairs: tuple[str, ...],
    as_json: bool,
) -> None:
    """Read a saved ISP reply (FILE, - for stdin, or a diagnostics bundle) offline with
    PROVIDER's parser and show what a poll would store."""
    from capwatch.errors import CapwatchError, ProviderError

    provider = _build(ctx, provider_name, account, zone, pairs)
    if not provider.reply_kind:
        fail(f"the {provider_name} provider reads no saved reply (nothing to check offline)")
    text = read_reply(file, provider_name)
    try:
        snap = provider.parse_reply(text)
    except ProviderError as exc:
        fail(f"{file}: {exc}")
    except CapwatchError as exc:
        fail(f"{file}: {exc}")
    start_day = None
    if account is not None:
        start_day = load(ctx).account(account).cycle.start_day
    now = provider.context.clock()
    cycle = _cycle_of(snap, provider.context.timezone, start_day)
    data = snapshot_to_dict(snap, provider.context.account, cycle)
    if as_json:
        emit_json(data)
    else:
        _show(data, provider.context.timezone, provider.reply_kind, now)
