"""The stored Xfinity session: cookies and a bearer token, in a 0600 JSON file.

A session comes from a browser sign-in (:mod:`.browser`) or from cookies exported from the user's
own browser (:func:`import_cookie_file`: Netscape ``cookies.txt`` or a JSON list). Only cookies
for the configured Xfinity hosts are kept. Which cookie goes where, and what a Set-Cookie
header changes, is ``http.cookiejar``'s business (:mod:`.cookies`). Every value is registered
with :func:`capwatch.secrets.register_secret` as it is loaded, so it never reaches a log.

The file's format 2 spells out ``hostOnly``; format 1 (before it) is still read, each cookie as
that format sent it (to its domain and the hosts below), and is rewritten as format 2 by the
next save.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from capwatch.errors import AuthRequired, InputError
from capwatch.fsutil import write_atomic
from capwatch.models import utcnow
from capwatch.providers.xfinity.cookies import (
    StoredCookie,
    cookie_from_json,
    cookie_to_json,
    jar_of,
    parse_cookie_text,
    stored,
    widened,
)
from capwatch.secrets import register_secret

FORMAT_VERSION = 2
log = logging.getLogger(__name__)

__all__ = [
    "StoredCookie",
    "XfinitySession",
    "import_cookie_file",
    "load_session",
    "parse_cookie_text",
    "save_session",
]


@dataclass(frozen=True, slots=True)
class XfinitySession:
    """Cookies and token that let httpx read usage without a browser."""

    cookies: tuple[StoredCookie, ...] = ()
    bearer_token: str | None = None
    source: str = "browser"
    saved_at: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    def live(self, now: float) -> list[StoredCookie]:
        """The cookies that have not expired by ``now`` (a Unix time)."""
        return [c for c in self.cookies if c.alive(now)]

    def cookie_header(self, url: str | httpx.URL, *, now: float) -> str | None:
        """The ``Cookie`` header a browser would send to ``url`` at ``now``; None when none."""
        # expiry is judged here, by ``now``; the jar would judge it by the wall clock
        jar = httpx.Cookies(jar_of(self.live(now), with_expiry=False))
        request = httpx.Request("GET", url)
        jar.set_cookie_header(request)
        return request.headers.get("cookie") or None

    def has_cookies_for(self, url: str, *, now: float) -> bool:
        """True when some live cookie would be sent to ``url``."""
        return self.cookie_header(url, now=now) is not None

    def merged(self, response: httpx.Response, *, now: float) -> XfinitySession:
        """This session updated with the response's ``Set-Cookie`` headers (rolling sessions).

        The jar replaces a cookie of the same name, domain and path, deletes one set to expire,
        and refuses one for another site; ``self`` comes back when nothing changed."""
        if not response.headers.get_list("set-cookie"):
            return self
        jar = jar_of(self.live(now))
        before = stored(jar)
        httpx.Cookies(jar).extract_cookies(response)
        after = tuple(c for c in stored(jar) if c.alive(now))
        if after == before:
            return self
        for c in after:
            register_secret(c.value)
        return replace(self, cookies=after)


def save_session(path: Path, session: XfinitySession) -> None:
    """Write the session to ``path`` atomically, mode 0600 (format :data:`FORMAT_VERSION`)."""
    doc = {
        "version": FORMAT_VERSION,
        "source": session.source,
        "saved_at": session.saved_at or utcnow().isoformat(),
        "bearer_token": session.bearer_token,
        "cookies": [cookie_to_json(c) for c in session.cookies],
        "extra": dict(session.extra),
    }
    write_atomic(path, json.dumps(doc, indent=1).encode("utf-8"), mode=0o600)


def _unreadable(path: Path, why: str, hint: str) -> AuthRequired:
    """Say once, in the log, which file could not be read and why; the error says it again."""
    message = f"xfinity: the saved session {path} cannot be read ({why}): {hint}"
    log.warning("%s", message)
    return AuthRequired(message)


def _cookies_of(doc: Mapping[str, Any], version: int) -> tuple[StoredCookie, ...]:
    cookies = [cookie_from_json(c, f"cookies[{i}]") for i, c in enumerate(doc["cookies"])]
    if version < 2:
        cookies = [widened(c) for c in cookies]
    return stored(jar_of(cookies))  # one per (domain, path, name), as a browser keeps them


def load_session(path: Path, *, account: str) -> XfinitySession:
    """Read a session file (format 1 or 2); AuthRequired (with the login hint) when it is
    missing, and also a one-line warning naming the file when it exists but cannot be read."""
    hint = f"run `capwatch login xfinity --account {account}`"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuthRequired(f"xfinity: no session yet ({path.name} missing): {hint}") from None
    except (OSError, ValueError) as exc:
        raise _unreadable(path, type(exc).__name__, hint) from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("cookies"), list):
        raise _unreadable(path, "not a capwatch session", hint)
    version = doc.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _unreadable(path, f"unknown format {version!r}", hint)
    if version > FORMAT_VERSION:
        raise _unreadable(path, f"format {version}, from a newer capwatch", hint)
    try:
        cookies = _cookies_of(doc, version)
    except InputError as exc:
        raise _unreadable(path, str(exc), hint) from None
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


def import_cookie_file(path: Path, *, hosts: Iterable[str], now: float) -> XfinitySession:
    """Build a session from an exported cookie file, keeping the cookies live at ``now`` (a
    Unix time) that a browser would send to one of ``hosts``."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{where}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: cannot read ({type(exc).__name__})") from None
    wanted = [h.lower() for h in hosts if h]
    kept = [
        c
        for c in parse_cookie_text(text, where=where)
        if c.alive(now) and any(c.domain_matches(h) for h in wanted)
    ]
    if not kept:
        raise InputError(f"{where}: no live cookies for {', '.join(wanted)}")
    for c in kept:
        register_secret(c.value)
    return XfinitySession(cookies=tuple(kept), source="import", saved_at=utcnow().isoformat())
