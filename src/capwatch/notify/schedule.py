"""When the weekly and month-end reports are due, and queueing them (idempotent by key).

Weekly: the last time the ``reports.weekly_cron`` expression fired in the account's zone, if
that was less than :data:`WEEKLY_GRACE` ago (a daemon down at 08:00 still sends at 09:30).
Monthly: a closed cycle once ``monthly_delay_hours`` have passed since its end (so the meter has
caught up), for up to :data:`MONTHLY_GRACE`. Keys: ``weekly:<account>:<ISO week>`` and
``monthly:<account>:<YYYY-MM of the cycle start>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from capwatch.charts.data import cycle_span, zone_of

if TYPE_CHECKING:
    from capwatch.config import Settings
    from capwatch.store.api import Store

WEEKLY_GRACE = timedelta(hours=12)
MONTHLY_GRACE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DueReport:
    """One report that is due: its kind, account, outbox key and build request."""

    kind: str
    account: str
    key: str
    request: dict[str, Any]

    def __iter__(self) -> Any:
        """Unpack as ``(kind, account, key)``."""
        return iter((self.kind, self.account, self.key))


def last_fire(cron: str, now: datetime, zone: str) -> tuple[datetime, datetime]:
    """The last time ``cron`` fired at or before ``now`` (local zone), and the one after it."""
    from croniter import croniter

    local_now = now.astimezone(ZoneInfo(zone))
    it = croniter(cron, local_now + timedelta(seconds=1))
    prev: datetime = it.get_prev(datetime)
    nxt: datetime = croniter(cron, prev).get_next(datetime)
    return prev.astimezone(UTC), nxt.astimezone(UTC)


def weekly_key(account: str, fire: datetime, following: datetime, zone: str) -> str:
    """``weekly:home:2026-W47``; with the fire time appended when the cron fires more often."""
    local = fire.astimezone(ZoneInfo(zone))
    key = f"weekly:{account}:{local:%G-W%V}"
    if following - fire < timedelta(days=6, hours=23):
        key += f"-{local:%u-%H%M}"
    return key


def _weekly(settings: Settings, account: Any, now: datetime) -> DueReport | None:
    zone = zone_of(account)
    fire, following = last_fire(settings.reports.weekly_cron, now, zone)
    if now - fire > WEEKLY_GRACE:
        return None
    key = weekly_key(account.name, fire, following, zone)
    request = {"report": "weekly", "account": account.name, "at": fire.isoformat()}
    return DueReport("weekly", account.name, key, request)


def _monthly(settings: Settings, store: Store, account: Any, now: datetime) -> DueReport | None:
    zone = zone_of(account)
    delay = timedelta(hours=settings.reports.monthly_delay_hours)
    for rec in store.cycles(account.name, limit=3):
        cycle = cycle_span(rec.cycle_start, rec.cycle_end, zone, account.cycle.start_day)
        end = cycle.end
        if end + delay <= now < end + delay + MONTHLY_GRACE:
            month = rec.cycle_start.astimezone(ZoneInfo(zone)).strftime("%Y-%m")
            request = {
                "report": "monthly",
                "account": account.name,
                "cycle_start": cycle.start.isoformat(),
                "cycle_end": cycle.end.isoformat(),
            }
            return DueReport("monthly", account.name, f"monthly:{account.name}:{month}", request)
    return None


def due_reports(store: Store, settings: Settings, now: datetime) -> list[DueReport]:
    """Reports due at ``now`` for every enabled account that some channel receives.

    Already-queued ones are included; the outbox refuses their keys.
    """
    from capwatch.notify.outbox import channels_for

    out: list[DueReport] = []
    for account in settings.accounts:
        if not account.enabled:
            continue
        weekly = settings.reports.weekly and channels_for(settings, "weekly", account.name)
        monthly = settings.reports.monthly and channels_for(settings, "monthly", account.name)
        if weekly and (w := _weekly(settings, account, now)):
            out.append(w)
        if monthly and (m := _monthly(settings, store, account, now)):
            out.append(m)
    return out


def queue_due_reports(store: Store, settings: Settings, now: datetime) -> list[str]:
    """Queue a build request for each due report not queued before; returns the new keys."""
    from capwatch.notify.outbox import enqueue

    return [
        due.key
        for due in due_reports(store, settings, now)
        if enqueue(store, due.key, due.kind, due.account, due.request, now=now)
    ]
