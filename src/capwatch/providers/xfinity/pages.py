"""Tell Xfinity's pages apart (sign-in steps, bot blocks, challenges) and build the matching errors.

Shared by the httpx poller (which sees HTML where it wanted JSON) and the browser login.
"""

from __future__ import annotations

import re
from enum import StrEnum

from capwatch.errors import AuthRequired, BotBlocked, MfaRequired, WrongPassword

LOGIN_TITLE = "Sign in to Xfinity"
ACCESS_DENIED_TITLE = "Access Denied"
SECURITY_CHECK_TITLE = "Security Check"
WRONG_PASSWORD_TEXT = "The Xfinity ID or password you entered was incorrect"
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class PageKind(StrEnum):
    """What a page is, as far as signing in goes."""

    LOGIN_USERNAME = "login-username"
    LOGIN_PASSWORD = "login-password"
    WRONG_PASSWORD = "wrong-password"
    MFA = "mfa"
    ACCESS_DENIED = "access-denied"
    SECURITY_CHECK = "security-check"
    OTHER = "other"


class SecurityCheck(BotBlocked):
    """A security-check interstitial (captcha) that only a person can pass."""


def login_hint(account: str) -> str:
    """The command that fixes an expired session."""
    return f"run `capwatch login xfinity --account {account}`"


def page_title(html: str) -> str:
    """The text of the page's <title>, or ''."""
    m = _TITLE_RE.search(html)
    return " ".join(m.group(1).split()) if m else ""


def classify_html(html: str, title: str | None = None) -> PageKind:
    """Classify a page from its HTML (and title, when a browser gave it)."""
    title = page_title(html) if title is None else title
    lowered = html.lower()
    if title.strip().lower() == ACCESS_DENIED_TITLE.lower() or (
        "<h1>access denied</h1>" in lowered and "reference" in lowered
    ):
        return PageKind.ACCESS_DENIED
    if SECURITY_CHECK_TITLE.lower() in title.lower() or 'id="px-captcha"' in lowered:
        return PageKind.SECURITY_CHECK
    if 'id="verificationcode"' in lowered:
        return PageKind.MFA
    if 'name="signin"' in lowered or title == LOGIN_TITLE:
        if WRONG_PASSWORD_TEXT.lower() in lowered:
            return PageKind.WRONG_PASSWORD
        if 'id="passwd"' in lowered:
            return PageKind.LOGIN_PASSWORD
        return PageKind.LOGIN_USERNAME
    return PageKind.OTHER


def error_for(kind: PageKind, *, account: str, where: str) -> AuthRequired:
    """The error a page of ``kind`` stands for when met where usage or success was expected."""
    hint = login_hint(account)
    if kind is PageKind.ACCESS_DENIED:
        return BotBlocked(
            f"xfinity: Access Denied (bot block) at {where}: backing off; if it persists, {hint}"
        )
    if kind is PageKind.SECURITY_CHECK:
        return SecurityCheck(f"xfinity: security check (captcha) at {where}: {hint} to pass it")
    if kind is PageKind.MFA:
        return MfaRequired(f"xfinity: sign-in asks for a verification code at {where}: {hint}")
    if kind is PageKind.WRONG_PASSWORD:
        return WrongPassword(
            f"xfinity: the Xfinity ID or password was refused at {where}: "
            f"check the account's username and password, then {hint}"
        )
    return AuthRequired(f"xfinity: session expired: {hint}")
