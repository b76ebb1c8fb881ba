"""What to do next about an account, in one sentence, from its summary alone.

The overview shows it under each account; it is worded from the same figures every other
surface shows (sizes through :mod:`capwatch.units`), so it never disagrees with them.
"""

from __future__ import annotations

from capwatch.models import AccountStatus, AllowanceSummary, CycleSummary
from capwatch.units import format_age, format_bytes, format_clock, format_days

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
    if cap is None and (plan := _plan_step(s)) is not None:
        return plan
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


def _shift_sentence(s: CycleSummary, a: AllowanceSummary) -> str | None:
    b = a.busiest
    if b is None or a.used_bytes is None or a.remaining_bytes is None:
        return None
    of_line = f" of the line's {format_bytes(s.used_bytes)}" if s.used_bytes is not None else ""
    moved = format_bytes(min(a.remaining_bytes + b.bytes, a.size_bytes))
    other = window_allowance(s, a)
    window = "window" if other is not None else "free window"
    instead = "it would not have counted"
    if other is not None:  # a separately counted window (HughesNet's Bonus Zone)
        left = other.remaining_bytes
        there = f" ({format_bytes(left)} left there)" if left is not None else ""
        instead = f"it would have counted against {other.name} instead{there}"
    return (
        f"This cycle {format_bytes(a.used_bytes)}{of_line} fell outside the {window} and "
        f"counted against {a.name}: {format_bytes(b.bytes)} of it between "
        f"{format_clock(b.start_minute)} and {format_clock(b.end_minute)}. In the {window} "
        f"from {format_clock(b.window_start_minute)} {instead}, and {a.name} "
        f"would have {moved} left, not {format_bytes(a.remaining_bytes)}."
    )


def window_allowance(s: CycleSummary, a: AllowanceSummary) -> AllowanceSummary | None:
    """The allowance that counts what falls inside ``a``'s windows, if the plan has one (the
    window is then counted separately, not free)."""
    return next((o for o in s.allowances if o.counts == "inside" and o.windows == a.windows), None)


def plan_advice(s: CycleSummary) -> list[str]:
    """On a plan with a free window, where the use outside it went and what moving it into the
    window would have saved (nothing when that cannot be known: an ISP's one total)."""
    return [line for a in s.allowances if (line := _shift_sentence(s, a)) is not None]


def _plan_step(s: CycleSummary) -> str | None:
    """On a plan whose allowances carry its limits: the one nearest its end, and what to do."""
    from capwatch.alerts.plan import at_end_text
    from capwatch.analysis.allowance import daily_allowance

    known = [a for a in s.allowances if a.used_bytes is not None and a.size_bytes > 0]
    if not known:
        return None
    a = max(known, key=lambda a: (a.projected_bytes or a.used_bytes or 0) / a.size_bytes)
    used = a.used_bytes or 0
    left = format_days(s.days_left)
    end = at_end_text(a)
    if used >= a.size_bytes:
        return f"The {a.name} allowance is used up" + (
            f": {end.removeprefix('when it runs out ')}." if end else "."
        )
    daily = daily_allowance(used, a.size_bytes, s.as_of, s.cycle)
    where = ""
    if a.counts == "outside":
        where = " outside the window" if window_allowance(s, a) else " outside the free window"
    if (a.projected_bytes or 0) > a.size_bytes and daily is not None:
        return (
            f"Heading over the {a.name} allowance: keep to {format_bytes(daily)} a day{where} "
            f"for the {left} days left" + (f" ({end})." if end else ".")
        )
    return (
        f"On track: {format_bytes(a.remaining_bytes)} of {a.name} left for the {left} days to come."
    )
