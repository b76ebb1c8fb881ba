"""What to do next about an account, in one sentence, from its summary alone.

The overview shows it under each account; it is worded from the same figures every other
surface shows (sizes through :mod:`capwatch.units`), so it never disagrees with them.
"""

from __future__ import annotations

from capwatch.models import AccountStatus, CycleSummary
from capwatch.units import format_age, format_bytes, format_days

LOGIN_PROVIDERS = frozenset({"xfinity"})
"""Providers whose session is renewed with ``capwatch login`` (others read their credentials)."""


def next_step(s: CycleSummary) -> str:
    """The one thing worth doing now (or that nothing is)."""
    if s.status is AccountStatus.AUTH_REQUIRED:
        if s.provider in LOGIN_PROVIDERS:
            return f"Sign in again: run `capwatch login {s.provider} --account {s.account}`."
        return (
            "The ISP refused the credentials: correct them in the config, then run "
            f"`capwatch poll --force --account {s.account}`."
        )
    if s.status is AccountStatus.FAILING:
        return (
            "Polls are failing (the error is above): `capwatch doctor` checks the set-up; "
            "capwatch keeps retrying."
        )
    if s.status is AccountStatus.STALE:
        return (
            f"No new figure for {format_age(s.reading_age_s).removesuffix(' ago')}: check that "
            "`capwatch serve` is running and the source can be reached."
        )
    if s.used_bytes is None:
        return "Waiting for the first reading; it comes with the next poll."
    cap = s.cap_bytes
    if cap is None:
        if s.unlimited:
            return "This plan has no cap: capwatch keeps the history and the devices."
        return (
            "The cap is not known yet: it comes with the ISP's figure, or set `cap` in the config."
        )
    if s.used_bytes > cap:
        return f"Over the cap by {format_bytes(s.used_bytes - cap)}: more use may be charged."
    fc = s.forecast
    left = format_days(s.days_left)
    if fc is not None and fc.expected_bytes > cap and s.daily_allowance_bytes is not None:
        return (
            f"Heading over the cap: keep to {format_bytes(s.daily_allowance_bytes)} a day "
            f"for the {left} days left to stay under it."
        )
    if fc is not None and fc.high_bytes > cap and s.daily_allowance_bytes is not None:
        return (
            f"On track, but close: {format_bytes(s.daily_allowance_bytes)} a day keeps it under "
            f"the cap for the {left} days left."
        )
    return f"On track: {format_bytes(s.remaining_bytes)} left for the {left} days to come."
