"""Generic ``http_json``: any URL that answers JSON (a router, a carrier API), read by JSONPath.

Options name the request (``url``, ``method``, ``headers``, ``params``, ``body``) and where the
numbers are (``used_path``, ``cap_path``, ``observed_at_path``, ``cycle_start_path``,
``cycle_end_path``; JSONPath as in jsonpath-ng, e.g. ``$.wan.rx_bytes``). ``unit`` is B, KB, MB,
GB, TB, PB, KiB, MiB, GiB, TiB, PiB, or ``auto`` when the value is a string like ``"123 GB"``.
A cycle end given as a bare date is inclusive (the cycle ends at the next local midnight).
Header and query values may be secrets (``{env = "..."}``); they never reach ``raw`` or errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, field_validator, model_validator

from capwatch.analysis.cycles import local_midnight
from capwatch.errors import BadResponse
from capwatch.models import Snapshot, as_utc, utcnow
from capwatch.providers._http import json_body, json_text, send
from capwatch.providers._isputil import strip_secrets, to_decimal, url_secrets, zone
from capwatch.providers.base import Provider, ProviderOptions
from capwatch.secrets import Secret, redact
from capwatch.units import parse_bytes

SOURCE = "http_json"
UNITS: dict[str, int] = {
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "PB": 10**15,
    "KiB": 2**10,
    "MiB": 2**20,
    "GiB": 2**30,
    "TiB": 2**40,
    "PiB": 2**50,
}
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%X", "%c", "%T", "%p")
_PATH_FIELDS = ("used_path", "cap_path", "observed_at_path", "cycle_start_path", "cycle_end_path")


def compile_path(text: str) -> Any:
    """Compile a JSONPath expression (jsonpath-ng extended syntax); ValueError when invalid."""
    from jsonpath_ng.ext.parser import parse as jsonpath_parse

    try:
        return jsonpath_parse(text)
    except Exception as exc:  # jsonpath-ng raises its own lexer/parser error types
        raise ValueError(f"bad JSONPath {text!r}: {exc}") from None


class HttpJsonOptions(ProviderOptions):
    """Options of the generic JSON provider."""

    url: str
    method: Literal["GET", "POST"] = "GET"
    headers: dict[str, Secret | str] = Field(default_factory=dict)
    params: dict[str, Secret | str] = Field(default_factory=dict)
    body: Any = None
    used_path: str
    cap_path: str | None = None
    cap: str | None = None
    unit: str = "B"
    cap_unit: str | None = None
    observed_at_path: str | None = None
    cycle_start_path: str | None = None
    cycle_end_path: str | None = None
    date_format: str | None = None
    timezone: str | None = None
    min_interval_s: float = Field(default=60.0, ge=0)

    @field_validator(*_PATH_FIELDS)
    @classmethod
    def _check_path(cls, value: str | None) -> str | None:
        if value is not None:
            compile_path(value)
        return value

    @field_validator("unit", "cap_unit")
    @classmethod
    def _check_unit(cls, value: str | None) -> str | None:
        if value is not None and value != "auto" and value not in UNITS:
            raise ValueError(f"unknown unit {value!r} (use auto, {', '.join(UNITS)})")
        return value

    @model_validator(mode="after")
    def _check(self) -> HttpJsonOptions:
        if self.cap is not None and self.cap_path is not None:
            raise ValueError("set either cap or cap_path, not both")
        if self.cap is not None:
            parse_bytes(self.cap, where="http_json.cap")
        if self.timezone is not None:
            zone(self.timezone, "http_json.timezone")
        return self


def select(payload: Any, path: str, name: str) -> Any:
    """Return the one value ``path`` selects; BadResponse naming the selector otherwise."""
    matches = compile_path(path).find(payload)
    if not matches:
        raise BadResponse(f"http_json: {name} {path!r} matched nothing")
    if len(matches) > 1:
        raise BadResponse(f"http_json: {name} {path!r} matched {len(matches)} values, not one")
    return matches[0].value


def to_bytes(value: Any, unit: str, where: str) -> int:
    """Convert a selected value in ``unit`` (or ``auto``: "123 GB") to integer bytes."""
    if unit == "auto" and isinstance(value, str) and any(c.isalpha() for c in value):
        try:
            return parse_bytes(value, where=where)
        except ValueError as exc:
            raise BadResponse(f"http_json: {exc}") from None
    if isinstance(value, str) and any(c.isalpha() for c in value.replace("e", "").replace("E", "")):
        raise BadResponse(f'http_json: {where}: {value[:40]!r} has a unit; set unit = "auto"')
    number = to_decimal(value, f"http_json: {where}")
    if number < 0:
        raise BadResponse(f"http_json: {where}: must not be negative, got {value!r}")
    factor = 1 if unit == "auto" else UNITS[unit]
    return int((number * Decimal(factor)).to_integral_value())


def to_instant(value: Any, fmt: str | None, tz: ZoneInfo, where: str) -> tuple[datetime, bool]:
    """Read a timestamp (epoch s/ms, ISO 8601 or ``fmt``); also say whether it was a bare date."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value) / 1000 if abs(value) > 1e11 else float(value)
        return datetime.fromtimestamp(seconds, UTC), False
    if not isinstance(value, str) or not value.strip():
        raise BadResponse(f"http_json: {where}: expected a timestamp, got {value!r}")
    text = value.strip()
    try:
        if fmt is not None:
            parsed = datetime.strptime(text, fmt)
            bare = not any(d in fmt for d in _TIME_DIRECTIVES)
        else:
            parsed = datetime.fromisoformat(text)
            bare = len(text) == 10
    except ValueError:
        expected = fmt or "ISO 8601"
        raise BadResponse(f"http_json: {where}: bad timestamp {text[:40]!r} ({expected})") from None
    if bare:
        return local_midnight(parsed.date(), tz), True
    return as_utc(parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)), False


def parse_payload(
    payload: Any,
    options: HttpJsonOptions,
    *,
    tz: ZoneInfo,
    now: datetime | None = None,
    secrets: tuple[str, ...] = (),
) -> Snapshot:
    """Read a JSON payload with the configured selectors into a Snapshot (pure)."""
    used_raw = select(payload, options.used_path, "used_path")
    if used_raw is None:
        raise BadResponse(f"http_json: used_path {options.used_path!r} selected null")
    used = to_bytes(used_raw, options.unit, "used_path")
    cap, unlimited = _cap(payload, options)
    observed = now or utcnow()
    if options.observed_at_path is not None:
        stamp = select(payload, options.observed_at_path, "observed_at_path")
        observed = to_instant(stamp, options.date_format, tz, "observed_at_path")[0]
    start, end = _cycle(payload, options, tz)
    return Snapshot(
        observed_at=observed,
        source=SOURCE,
        used_bytes=used,
        cap_bytes=cap,
        unlimited=unlimited,
        cycle_start=start,
        cycle_end=end,
        units=options.unit,
        raw=strip_secrets(payload, secrets) if isinstance(payload, Mapping | list) else None,
    )


def _cap(payload: Any, options: HttpJsonOptions) -> tuple[int | None, bool]:
    """The cap in bytes and whether the source says unlimited (cap_path selecting null)."""
    if options.cap is not None:
        return parse_bytes(options.cap, where="http_json.cap"), False
    if options.cap_path is None:
        return None, False
    cap_raw = select(payload, options.cap_path, "cap_path")
    if cap_raw is None:
        return None, True
    return to_bytes(cap_raw, options.cap_unit or options.unit, "cap_path"), False


def _cycle(
    payload: Any, options: HttpJsonOptions, tz: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    start = end = None
    if options.cycle_start_path is not None:
        value = select(payload, options.cycle_start_path, "cycle_start_path")
        start = to_instant(value, options.date_format, tz, "cycle_start_path")[0]
    if options.cycle_end_path is not None:
        value = select(payload, options.cycle_end_path, "cycle_end_path")
        end, bare = to_instant(value, options.date_format, tz, "cycle_end_path")
        if bare:  # a bare end date is inclusive: the cycle ends at the next local midnight
            local_day: date = end.astimezone(tz).date()
            end = local_midnight(local_day + timedelta(days=1), tz)
    if start is not None and end is not None and end <= start:
        raise BadResponse("http_json: the cycle ends before it starts")
    return start, end


def _reveal(values: Mapping[str, Secret | str]) -> tuple[dict[str, str], list[str]]:
    out: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in values.items():
        if isinstance(value, Secret):
            out[key] = value.reveal()
            secrets.append(out[key])
        else:
            out[key] = value
    return out, secrets


class HttpJsonProvider(Provider[HttpJsonOptions]):
    """Any JSON endpoint, read with JSONPath selectors."""

    name: ClassVar[str] = "http_json"
    Options: ClassVar[type[ProviderOptions]] = HttpJsonOptions
    min_interval_s: ClassVar[float] = 60.0
    default_interval_s: ClassVar[float] = 900.0

    @property
    def min_interval(self) -> float:
        """The endpoint's own floor (``min_interval_s``, 60 s unless the user knows better)."""
        return self.options.min_interval_s

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Request the URL and read the numbers out of the JSON answer."""
        opts = self.options
        headers, header_secrets = _reveal(opts.headers)
        params, param_secrets = _reveal(opts.params)
        secrets = tuple(header_secrets + param_secrets + url_secrets(opts.url))
        headers.setdefault("User-Agent", self.context.user_agent)
        headers.setdefault("Accept", "application/json")
        kwargs: dict[str, Any] = {"headers": headers, "params": params or None}
        if opts.body is not None:
            kwargs["json"] = opts.body
        response = await send(client, opts.method, opts.url, **kwargs)
        if response.status_code >= 300:
            where = f"{opts.method} {response.request.url.path}"
            raise BadResponse(
                f"{where}: HTTP {response.status_code}", payload=redact(response.text[:2000])
            )
        tz = zone(opts.timezone, "http_json.timezone") if opts.timezone else self.context.timezone
        try:
            payload = json_body(response)
            return parse_payload(payload, opts, tz=tz, secrets=secrets, now=self.context.clock())
        except BadResponse as exc:
            kept = exc.payload
            kept = redact(kept) if isinstance(kept, str) else strip_secrets(kept, secrets)
            raise BadResponse(redact(str(exc)), payload=kept) from None

    reply_kind: ClassVar[str] = "the JSON the configured URL answers"
    reply_needs_account: ClassVar[bool] = True

    def parse_reply(self, text: str) -> Snapshot:
        """Read a saved answer with the account's paths, as :meth:`fetch` would."""
        opts = self.options
        tz = zone(opts.timezone, "http_json.timezone") if opts.timezone else self.context.timezone
        return parse_payload(
            json_text(text, "http_json reply"), opts, tz=tz, now=self.context.clock()
        )
