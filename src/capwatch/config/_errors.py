"""Validation errors that know where they belong, and one-line messages for pydantic errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic_core import ErrorDetails

SECRET_KEYS = frozenset({"password", "token", "auth_token", "url", "api_key", "cookie"})


class LocatedError(ValueError):
    """A validation error for a key below the model that raised it (``loc`` is relative)."""

    def __init__(self, loc: Sequence[str | int], message: str, *, names_place: bool = False):
        super().__init__(message)
        self.loc = tuple(loc)
        self.message = message
        self.names_place = names_place


def _got(value: Any, loc: Sequence[str | int]) -> str:
    if loc and isinstance(loc[-1], str) and loc[-1] in SECRET_KEYS:
        return ""
    if isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= 60):
        return f" (got {value!r})"
    return ""


def describe_error(err: ErrorDetails) -> tuple[tuple[str | int, ...], str, bool]:
    """Return (loc, message, names_place) for one pydantic error, unwrapping LocatedError."""
    loc = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    exc = ctx.get("error")
    if isinstance(exc, LocatedError):
        return loc + exc.loc, exc.message, exc.names_place
    kind = err["type"]
    if kind == "extra_forbidden":
        return loc, "unknown key", False
    if kind == "missing":
        return loc, "required key is missing", False
    msg = err["msg"]
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        return loc, msg, False
    if kind == "assertion_error":
        msg = msg.removeprefix("Assertion failed, ")
    msg = msg[:1].lower() + msg[1:]
    return loc, msg + _got(err.get("input"), loc), False


def format_loc(loc: Sequence[str | int]) -> str:
    """``("accounts", 0, "cycle")`` -> ``accounts[0].cycle``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
