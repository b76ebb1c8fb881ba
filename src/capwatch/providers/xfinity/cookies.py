"""Cookies as a browser keeps them, matched and parsed by :mod:`http.cookiejar`.

:class:`StoredCookie` is the saved form of one cookie; its ``domain`` is written the way
``http.cookiejar`` and browsers write it: ``.xfinity.com`` for a domain cookie (sent to
xfinity.com and every host below it), ``customer.xfinity.com`` for a host-only cookie (that host
alone). Which cookies go to a URL, Set-Cookie headers and cookies.txt files are left to the
standard library (``DefaultCookiePolicy`` with host-only cookies held to their host,
``MozillaCookieJar``) and httpx's wrapper of it (:class:`httpx.Cookies`); nothing here parses
a cookie by hand.
"""

from __future__ import annotations

import io
import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.cookiejar import Cookie, CookieJar, DefaultCookiePolicy, LoadError, MozillaCookieJar
from typing import Any

from capwatch.errors import InputError

HTTPONLY = "HttpOnly"
# the flag among a cookie's other attributes: MozillaCookieJar writes "HTTPOnly", a Set-Cookie
# header keeps its own spelling
_HTTPONLY_SPELLINGS = ("HttpOnly", "HTTPOnly", "httponly", "HTTPONLY", "Httponly")
NETSCAPE_HEADER = "# Netscape HTTP Cookie File\n"
_HTTPONLY_PREFIX = "#HttpOnly_"


def policy() -> DefaultCookiePolicy:
    """The browser's rules; a cookie set without a Domain attribute goes back to its host only."""
    return DefaultCookiePolicy(strict_ns_domain=DefaultCookiePolicy.DomainStrictNonDomain)


@dataclass(frozen=True, slots=True)
class StoredCookie:
    """One cookie; ``domain`` with a leading dot for a domain cookie, without for a host-only
    one; ``expires`` a Unix time, or None for a session cookie."""

    name: str
    value: str
    domain: str
    path: str = "/"
    expires: float | None = None
    secure: bool = False
    http_only: bool = False

    @property
    def host_only(self) -> bool:
        """True when the cookie goes back to the host that set it and no other."""
        return not self.domain.startswith(".")

    def domain_matches(self, host: str) -> bool:
        """True when a browser would send this cookie to ``host`` (paths aside)."""
        host, domain = host.lower().rstrip("."), self.domain.lower()
        if self.host_only:
            return host == domain
        return host == domain[1:] or host.endswith(domain)

    def alive(self, now: float) -> bool:
        """True unless the cookie has expired by ``now`` (a Unix time)."""
        return self.expires is None or self.expires > now

    def to_cookiejar(self, *, with_expiry: bool = True) -> Cookie:
        """The ``http.cookiejar.Cookie`` (``with_expiry=False``: as a session cookie, for a
        jar that must not judge expiry by its own clock)."""
        domain_cookie = not self.host_only
        expires = int(self.expires) if with_expiry and self.expires is not None else None
        return Cookie(
            version=0,
            name=self.name,
            value=self.value,
            port=None,
            port_specified=False,
            domain=self.domain,
            domain_specified=domain_cookie,
            domain_initial_dot=domain_cookie,
            path=self.path or "/",
            path_specified=True,
            secure=self.secure,
            expires=expires,
            discard=expires is None,
            comment=None,
            comment_url=None,
            rest={HTTPONLY: ""} if self.http_only else {},
        )

    @classmethod
    def from_cookiejar(cls, cookie: Cookie) -> StoredCookie:
        """The stored form of a jar's cookie (a domain cookie's domain gets its leading dot)."""
        domain = cookie.domain
        if cookie.domain_specified and not domain.startswith("."):
            domain = "." + domain
        return cls(
            name=cookie.name,
            value=cookie.value or "",
            domain=domain,
            path=cookie.path or "/",
            expires=float(cookie.expires) if cookie.expires else None,
            secure=cookie.secure,
            http_only=any(cookie.has_nonstandard_attr(k) for k in _HTTPONLY_SPELLINGS),
        )


def jar_of(cookies: Iterable[StoredCookie], *, with_expiry: bool = True) -> CookieJar:
    """A ``CookieJar`` holding ``cookies`` under the browser's rules."""
    jar = CookieJar(policy())
    for c in cookies:
        jar.set_cookie(c.to_cookiejar(with_expiry=with_expiry))
    return jar


def stored(jar: CookieJar) -> tuple[StoredCookie, ...]:
    """Every cookie of ``jar``, one per (domain, path, name) as the jar keys them."""
    return tuple(StoredCookie.from_cookiejar(c) for c in jar)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def widened(cookie: StoredCookie) -> StoredCookie:
    """A cookie of a format-1 session file as that format sent it: to its domain and every
    host below (an IP address has none, so it stays host-only)."""
    if not cookie.host_only or _is_ip(cookie.domain):
        return cookie
    from dataclasses import replace

    return replace(cookie, domain="." + cookie.domain)


# --- files exported from a browser ---------------------------------------------------------


def _checked_line(line: str, where: str, lineno: int) -> str:
    """One cookies.txt line, checked so an error names its line (and never a cookie's value),
    with the domain's leading dot made to agree with the include-subdomains field (exporters
    differ on the dot; the field is what the format says)."""
    prefix = _HTTPONLY_PREFIX if line.startswith(_HTTPONLY_PREFIX) else ""
    body = line[len(prefix) :]
    if not body.strip() or body.lstrip().startswith(("#", "$")):
        return line
    fields = body.split("\t")
    if len(fields) != 7:
        raise InputError(f"{where}:{lineno}: expected 7 tab-separated fields, got {len(fields)}")
    domain, subdomains, path, secure, expiry, name, value = fields
    flag = subdomains.strip().upper()
    if flag not in ("TRUE", "FALSE"):
        raise InputError(
            f"{where}:{lineno}: include-subdomains (field 2) must be TRUE or FALSE, "
            f"got {subdomains[:20]!r}"
        )
    try:
        float(expiry or "0")
    except ValueError:
        raise InputError(f"{where}:{lineno}: expiry {expiry[:30]!r} is not a number") from None
    bare = domain.strip().lstrip(".")
    if not bare:
        raise InputError(f"{where}:{lineno}: the domain (field 1) is empty")
    domain = "." + bare if flag == "TRUE" else bare
    secure = "TRUE" if secure.strip().upper() == "TRUE" else "FALSE"
    return prefix + "\t".join((domain, flag, path, secure, expiry, name, value))


def parse_netscape(text: str, where: str) -> list[StoredCookie]:
    """Cookies of a Netscape/Mozilla ``cookies.txt`` (curl's and the browser extensions'
    format, ``#HttpOnly_`` lines included), read by ``http.cookiejar.MozillaCookieJar``."""
    lines = [_checked_line(line, where, n) for n, line in enumerate(text.splitlines(), 1)]
    jar = MozillaCookieJar(policy=policy())
    # The file's own header line (or its absence) is a comment once ours leads; a text stream
    # goes through _really_load, the documented hook of FileCookieJar.load.
    stream = io.StringIO(NETSCAPE_HEADER + "\n".join(lines) + "\n")
    try:
        jar._really_load(stream, where, True, True)  # type: ignore[attr-defined]
    except LoadError:
        # its message quotes the line, cookie value included: never shown
        raise InputError(f"{where}: not a Netscape cookies.txt file") from None
    return list(stored(jar))


def cookie_from_json(item: Any, where: str) -> StoredCookie:
    """One cookie of a JSON export (Playwright's, or a browser extension's with ``hostOnly``)."""
    if not isinstance(item, Mapping):
        raise InputError(f"{where}: expected an object with name, value, domain")
    name, value, domain = item.get("name"), item.get("value"), item.get("domain")
    if not isinstance(name, str) or not isinstance(value, str) or not isinstance(domain, str):
        raise InputError(f"{where}: name, value and domain must be strings")
    host_only = item.get("hostOnly")
    if isinstance(host_only, bool):
        domain = domain.lstrip(".") if host_only else "." + domain.lstrip(".")
    expires = item.get("expires", item.get("expirationDate"))
    if isinstance(expires, bool) or not isinstance(expires, int | float) or expires <= 0:
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


def cookie_to_json(c: StoredCookie) -> dict[str, Any]:
    """The saved form of one cookie (``hostOnly`` spelled out, as browser exports do)."""
    return {
        "name": c.name,
        "value": c.value,
        "domain": c.domain,
        "hostOnly": c.host_only,
        "path": c.path,
        "expires": c.expires,
        "secure": c.secure,
        "httpOnly": c.http_only,
    }


def parse_cookie_text(text: str, *, where: str) -> list[StoredCookie]:
    """Parse a Netscape ``cookies.txt`` or a JSON list of {name, value, domain, path, expires}."""
    if not text.lstrip().startswith(("[", "{")):
        return parse_netscape(text, where)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if isinstance(doc, Mapping) and isinstance(doc.get("cookies"), list):
        doc = doc["cookies"]  # Playwright storage_state
    if not isinstance(doc, list):
        raise InputError(f"{where}: expected a JSON list of cookies")
    return [cookie_from_json(c, f"{where}: [{i}]") for i, c in enumerate(doc)]
