"""The stored Xfinity session: cookies and a bearer token, in a 0600 JSON file.

A session comes from a browser sign-in (:mod:`.browser`) or from cookies exported from the user's
own browser (:func:`import_cookie_file`: Netscape ``cookies.txt`` or a JSON list). Only cookies
for the configured Xfinity hosts are kept. Every value is registered with
:func:`capwatch.secrets.register_secret` as it is loaded, so it never reaches a log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from capwatch.errors import AuthRequired, InputError
from capwatch.fsutil import write_atomic
from capwatch.models import utcnow
from capwatch.secrets import register_secret

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class StoredCookie:
    """One cookie as a browser holds it; ``expires`` is a Unix time, or None for a session one."""

    name: str
    value: str
    domain: str
    path: str = "/"
    expires: float | None = None
    secure: bool = False
    http_only: bool = False

    def domain_matches(self, host: str) -> bool:
        """True when ``host`` is the cookie's domain or below it."""
        domain = self.domain.lstrip(".").lower()
        host = host.lower()
        return host == domain or host.endswith("." + domain)

    def matches(self, host: str, path: str, *, now: float) -> bool:
        """True when a browser would send this cookie to ``host`` + ``path``."""
        if self.expires is not None and self.expires > 0 and self.expires <= now:
            return False
        if not self.domain_matches(host):
            return False
        prefix = self.path or "/"
        return path == prefix or path.startswith(prefix.rstrip("/") + "/") or prefix == "/"


@dataclass(frozen=True, slots=True)
class XfinitySession:
    """Cookies and token that let httpx read usage without a browser."""

    cookies: tuple[StoredCookie, ...] = ()
    bearer_token: str | None = None
    source: str = "browser"
    saved_at: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    def cookie_header(self, url: str | httpx.URL, *, now: float | None = None) -> str | None:
        """The ``Cookie`` header a browser would send to ``url``; None when none match."""
        u = httpx.URL(str(url))
        when = time.time() if now is None else now
        pairs = [
            f"{c.name}={c.value}"
            for c in self.cookies
            if c.matches(u.host, u.path or "/", now=when) and (not c.secure or u.scheme == "https")
        ]
        return "; ".join(pairs) or None

    def has_cookies_for(self, url: str) -> bool:
        """True when some live cookie would be sent to ``url``."""
        return self.cookie_header(url) is not None

    def merged(self, response: httpx.Response) -> XfinitySession:
        """This session updated with the response's ``Set-Cookie`` headers (rolling sessions)."""
        host = response.request.url.host
        changed = {c.name: c for c in self.cookies}
        seen = False
        for header in response.headers.get_list("set-cookie"):
            cookie = _parse_set_cookie(header, host)
            if cookie is None:
                continue
            seen = True
            register_secret(cookie.value)
            if cookie.expires is not None and cookie.expires <= time.time():
                changed.pop(cookie.name, None)
            else:
                changed[cookie.name] = cookie
        if not seen:
            return self
        return replace(self, cookies=tuple(changed.values()))


def _parse_set_cookie(header: str, host: str) -> StoredCookie | None:
    parts = [p.strip() for p in header.split(";")]
    name, sep, value = parts[0].partition("=")
    if not sep or not name:
        return None
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip()
    expires: float | None = None
    if "max-age" in attrs:
        try:
            expires = time.time() + int(attrs["max-age"])
        except ValueError:
            expires = None
    elif attrs.get("expires"):
        from email.utils import parsedate_to_datetime

        try:
            expires = parsedate_to_datetime(attrs["expires"]).timestamp()
        except (TypeError, ValueError):
            expires = None
    return StoredCookie(
        name=name.strip(),
        value=value.strip(),
        domain=attrs.get("domain") or host,
        path=attrs.get("path") or "/",
        expires=expires,
        secure="secure" in attrs,
        http_only="httponly" in attrs,
    )


def _cookie_to_json(c: StoredCookie) -> dict[str, Any]:
    return {
        "name": c.name,
        "value": c.value,
        "domain": c.domain,
        "path": c.path,
        "expires": c.expires,
        "secure": c.secure,
        "httpOnly": c.http_only,
    }


def _cookie_from_json(item: Any, where: str) -> StoredCookie:
    if not isinstance(item, Mapping):
        raise InputError(f"{where}: expected an object with name, value, domain")
    name, value, domain = item.get("name"), item.get("value"), item.get("domain")
    if not isinstance(name, str) or not isinstance(value, str) or not isinstance(domain, str):
        raise InputError(f"{where}: name, value and domain must be strings")
    expires = item.get("expires", item.get("expirationDate"))
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        expires = None
    elif expires <= 0:
        expires = None  # Playwright writes -1 for session cookies
    return StoredCookie(
        name=name,
        value=value,
        domain=domain,
        path=str(item.get("path") or "/"),
        expires=float(expires) if expires is not None else None,
        secure=bool(item.get("secure", False)),
        http_only=bool(item.get("httpOnly", item.get("http_only", False))),
    )


def save_session(path: Path, session: XfinitySession) -> None:
    """Write the session to ``path`` atomically, mode 0600."""
    doc = {
        "version": FORMAT_VERSION,
        "source": session.source,
        "saved_at": session.saved_at or utcnow().isoformat(),
        "bearer_token": session.bearer_token,
        "cookies": [_cookie_to_json(c) for c in session.cookies],
        "extra": dict(session.extra),
    }
    write_atomic(path, json.dumps(doc, indent=1).encode("utf-8"), mode=0o600)


def load_session(path: Path, *, account: str) -> XfinitySession:
    """Read a session file; AuthRequired (with the login hint) when missing or unreadable."""
    hint = f"run `capwatch login xfinity --account {account}`"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuthRequired(f"xfinity: no session yet ({path.name} missing): {hint}") from None
    except (OSError, ValueError) as exc:
        raise AuthRequired(
            f"xfinity: session file {path.name} unreadable ({type(exc).__name__}): {hint}"
        ) from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("cookies"), list):
        raise AuthRequired(f"xfinity: session file {path.name} is not a capwatch session: {hint}")
    try:
        cookies = tuple(
            _cookie_from_json(c, f"{path.name}: cookies[{i}]") for i, c in enumerate(doc["cookies"])
        )
    except InputError as exc:
        raise AuthRequired(f"xfinity: {exc}: {hint}") from None
    token = doc.get("bearer_token") if isinstance(doc.get("bearer_token"), str) else None
    for c in cookies:
        register_secret(c.value)
    if token:
        register_secret(token)
    extra = doc.get("extra") if isinstance(doc.get("extra"), Mapping) else {}
    return XfinitySession(
        cookies=cookies,
        bearer_token=token,
        source=str(doc.get("source") or "browser"),
        saved_at=str(doc.get("saved_at") or ""),
        extra={str(k): str(v) for k, v in (extra or {}).items()},
    )


def _parse_netscape(text: str, where: str) -> list[StoredCookie]:
    cookies = []
    for lineno, line in enumerate(text.splitlines(), 1):
        http_only = False
        if line.startswith("#HttpOnly_"):
            line = line[len("#HttpOnly_") :]
            http_only = True
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) != 7:
            raise InputError(
                f"{where}:{lineno}: expected 7 tab-separated fields, got {len(fields)}"
            )
        domain, _sub, path, secure, expiry, name, value = fields
        try:
            exp = float(expiry)
        except ValueError:
            raise InputError(f"{where}:{lineno}: expiry {expiry!r} is not a number") from None
        cookies.append(
            StoredCookie(
                name=name,
                value=value,
                domain=domain,
                path=path or "/",
                expires=exp if exp > 0 else None,
                secure=secure.upper() == "TRUE",
                http_only=http_only,
            )
        )
    return cookies


def parse_cookie_text(text: str, *, where: str) -> list[StoredCookie]:
    """Parse a Netscape ``cookies.txt`` or a JSON list of {name, value, domain, path, expires}."""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
        if isinstance(doc, Mapping) and isinstance(doc.get("cookies"), list):
            doc = doc["cookies"]  # Playwright storage_state
        if not isinstance(doc, list):
            raise InputError(f"{where}: expected a JSON list of cookies")
        return [_cookie_from_json(c, f"{where}: [{i}]") for i, c in enumerate(doc)]
    return _parse_netscape(text, where)


def import_cookie_file(path: Path, *, hosts: Iterable[str]) -> XfinitySession:
    """Build a session from an exported cookie file, keeping only cookies for ``hosts``."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{where}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: cannot read ({type(exc).__name__})") from None
    wanted = [h.lower() for h in hosts if h]
    now = time.time()
    kept = [
        c
        for c in parse_cookie_text(text, where=where)
        if any(c.domain_matches(h) for h in wanted) and (c.expires is None or c.expires > now)
    ]
    if not kept:
        raise InputError(f"{where}: no live cookies for {', '.join(wanted)}")
    for c in kept:
        register_secret(c.value)
    return XfinitySession(cookies=tuple(kept), source="import", saved_at=utcnow().isoformat())
