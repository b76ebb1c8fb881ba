"""The small error tree, mapped to behaviour in one place (:func:`classify`).

::

    CapwatchError
    ├── ConfigError            bad config file, key or value; the CLI exits 2
    ├── InputError             bad CSV row, bad API request; the CLI exits 2, the API answers 4xx
    ├── StoreError             the database cannot be opened or migrated
    │   └── StoreFull          its disk is full (or failing): nothing can be written
    ├── MissingExtra           an optional dependency is not installed
    └── ProviderError          anything a provider raises while fetching
        ├── AuthRequired       credentials refused or session expired: stop polling, alert
        │   ├── MfaRequired    the site asks for a one-time code
        │   ├── BotBlocked     "Access Denied" or a captcha: back off for hours
        │   └── WrongPassword  the site rejected the password
        ├── CannotConnect      DNS, refused, reset, timeout: retry with backoff
        ├── ServerError        5xx from the source: retry with backoff
        ├── RateLimited        429: wait ``retry_after`` seconds
        └── BadResponse        the payload is not what the protocol says: keep it for diagnosis
            └── Implausible    a figure the line could not have carried: archived, not stored

Messages never carry secrets: providers build them from status codes, URL paths and field
names, never from request bodies or headers.
"""

from __future__ import annotations

from typing import Any

from capwatch.models import PollOutcome


class CapwatchError(Exception):
    """Root of every error capwatch raises on purpose."""


class ConfigError(CapwatchError):
    """A config file, key or value is wrong; the message names the place."""


class InputError(CapwatchError):
    """Bad input from a user: a CSV row, an API request; the message names the place."""


class StoreError(CapwatchError):
    """The store cannot be opened, migrated or written."""


class StoreFull(StoreError):
    """The store's disk is full or failing: reads still work (read-only), writes cannot."""


class MissingExtra(CapwatchError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(
            f"{module} is not installed: install the extra with `pip install 'capwatch[{extra}]'`"
        )
        self.extra = extra
        self.module = module


class ProviderError(CapwatchError):
    """Anything a provider raises while fetching."""


class AuthRequired(ProviderError):
    """Credentials refused or session expired; polling stops until the user logs in again."""


class MfaRequired(AuthRequired):
    """The site asks for a one-time code that only the user can give."""


class BotBlocked(AuthRequired):
    """The site shows a bot block ("Access Denied", captcha, security check)."""


class WrongPassword(AuthRequired):
    """The site rejected the username or password."""


class CannotConnect(ProviderError):
    """The source could not be reached (DNS, refused, reset, timeout)."""


class ServerError(ProviderError):
    """The source answered with a server error (5xx)."""


class RateLimited(ProviderError):
    """The source answered 429; ``retry_after`` seconds to wait, when it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadResponse(ProviderError):
    """The payload is not what the protocol says; ``payload`` keeps it for diagnosis."""

    def __init__(self, message: str, payload: Any = None) -> None:
        super().__init__(message)
        self.payload = payload


class Implausible(BadResponse):
    """A well-formed figure that cannot be true (more than the line carries): the already
    secret-free payload is archived with the poll log line, and no reading is stored."""


_OUTCOMES: tuple[tuple[type[BaseException], PollOutcome], ...] = (
    (AuthRequired, PollOutcome.AUTH),
    (CannotConnect, PollOutcome.CONNECT),
    (ServerError, PollOutcome.SERVER),
    (RateLimited, PollOutcome.RATE_LIMITED),
    (BadResponse, PollOutcome.BAD_RESPONSE),
    (ConfigError, PollOutcome.CONFIG),
    (MissingExtra, PollOutcome.CONFIG),
    (StoreError, PollOutcome.STORE),
)


def classify(exc: BaseException) -> PollOutcome:
    """Map an exception to the poll outcome it stands for."""
    for cls, outcome in _OUTCOMES:
        if isinstance(exc, cls):
            return outcome
    return PollOutcome.INTERNAL


def is_retryable(exc: BaseException) -> bool:
    """Return True for failures worth retrying within one poll (connect, 5xx)."""
    return isinstance(exc, CannotConnect | ServerError)
