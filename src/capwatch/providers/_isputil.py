"""Small pure helpers shared by the ISP API providers (A&A, Aussie, Start.ca, Internode, JSON).

Numbers that arrive as strings, local timestamps, XML bodies that may be HTML, and stripping
secrets from a payload before it is kept as ``raw``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from capwatch.errors import BadResponse, ConfigError
from capwatch.models import as_utc

REDACTED = "***"

# Keys whose values are never kept in ``raw`` (compared case-insensitively, "_"/"-" ignored).
_SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "controlpassword",
        "accountpassword",
        "token",
        "refreshtoken",
        "accesstoken",
        "idtoken",
        "cookie",
        "setcookie",
        "myaussiecookie",
        "apikey",
        "key",
        "secret",
        "authorization",
        "session",
        "sessionid",
    }
)
_INT_RE = re.compile(r"^[+-]?\d+$")


def zone(name: str, where: str) -> ZoneInfo:
    """Return the IANA zone ``name``; a ConfigError naming ``where`` when it is unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: unknown time zone {name!r}") from exc


def to_int(value: Any, where: str, *, allow_negative: bool = False) -> int:
    """Read an integer that may come as a number or a string ("123", "1.2e12", "-5")."""
    if isinstance(value, bool) or value is None:
        raise BadResponse(f"{where}: expected a number, got {value!r}")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float | str):
        text = str(value).strip().replace(",", "")
        try:
            number = Decimal(text) if not _INT_RE.match(text) else Decimal(int(text))
        except InvalidOperation:
            raise BadResponse(f"{where}: expected a number, got {str(value)[:40]!r}") from None
        if not number.is_finite():
            raise BadResponse(f"{where}: expected a finite number, got {str(value)[:40]!r}")
    else:
        raise BadResponse(f"{where}: expected a number, got {type(value).__name__}")
    if number < 0 and not allow_negative:
        raise BadResponse(f"{where}: must not be negative, got {value!r}")
    return int(number.to_integral_value())


def to_decimal(value: Any, where: str) -> Decimal:
    """Read a finite decimal from a JSON number or numeric string."""
    if isinstance(value, bool) or value is None:
        raise BadResponse(f"{where}: expected a number, got {value!r}")
    if not isinstance(value, int | float | str):
        raise BadResponse(f"{where}: expected a number, got {type(value).__name__}")
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise BadResponse(f"{where}: expected a number, got {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise BadResponse(f"{where}: expected a finite number, got {str(value)[:40]!r}")
    return number


def parse_local(text: Any, fmt: str, tz: ZoneInfo, where: str) -> datetime:
    """Parse a local wall-clock timestamp (``fmt``) in ``tz`` and return aware UTC."""
    if not isinstance(text, str):
        raise BadResponse(f"{where}: expected a timestamp string, got {text!r}")
    try:
        naive = datetime.strptime(text.strip(), fmt)
    except ValueError:
        raise BadResponse(f"{where}: bad timestamp {text[:40]!r} (expected {fmt})") from None
    return as_utc(naive.replace(tzinfo=tz))


def parse_xml(text: str, where: str, *, secrets: Iterable[str] = ()) -> ET.Element:
    """Parse an XML body; HTML, DTDs, empty or truncated bodies raise BadResponse."""
    kept = redact_text(text[:20000], secrets)
    stripped = text.lstrip()
    if not stripped:
        raise BadResponse(f"{where}: expected XML, got an empty body", payload=kept)
    head = stripped[:512].lower()
    if "<!doctype" in head or "<html" in head or "<!entity" in text.lower():
        kind = "HTML" if "html" in head else "a document type declaration"
        raise BadResponse(f"{where}: expected XML, got {kind}", payload=kept)
    try:
        return ET.fromstring(stripped)
    except ET.ParseError as exc:
        raise BadResponse(f"{where}: malformed XML ({exc})", payload=kept) from None


def xml_text(element: ET.Element | None, where: str) -> str:
    """Return the stripped text of an element that must exist."""
    if element is None:
        raise BadResponse(f"{where}: element missing")
    return (element.text or "").strip()


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of each (non-trivial) secret in ``text``."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, REDACTED)
    return text


_URL_SECRET_WORDS = ("key", "token", "pass", "secret", "auth", "sig", "session")


def url_secrets(url: str) -> list[str]:
    """Secrets written into a URL: the userinfo password and secret-looking query values
    (``?apikey=``, ``?token=``); each is registered for redaction before any request is sent."""
    from urllib.parse import parse_qsl, urlsplit

    from capwatch.secrets import register_secret

    parts = urlsplit(url)
    found = [parts.password] if parts.password else []
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if value and any(word in name.lower() for word in _URL_SECRET_WORDS):
            found.append(value)
    for value in found:
        register_secret(value)
    return found


def strip_secrets(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Return a copy of a JSON-like value without secret keys or secret values."""
    known = [s for s in secrets if s and len(s) >= 3]
    return _strip(value, known)


def _strip(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            norm = str(key).lower().replace("_", "").replace("-", "")
            out[str(key)] = REDACTED if norm in _SECRET_KEYS else _strip(item, secrets)
        return out
    if isinstance(value, list | tuple):
        return [_strip(item, secrets) for item in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value


def element_to_dict(element: ET.Element) -> dict[str, Any]:
    """Turn an XML element into a JSON-able dict (attributes, text, children by tag)."""
    out: dict[str, Any] = {f"@{k}": v for k, v in element.attrib.items()}
    text = (element.text or "").strip()
    children = list(element)
    if text:
        out["#text"] = text
    for child in children:
        item = element_to_dict(child)
        existing = out.get(child.tag)
        if existing is None:
            out[child.tag] = item
        elif isinstance(existing, list):
            existing.append(item)
        else:
            out[child.tag] = [existing, item]
    return out
