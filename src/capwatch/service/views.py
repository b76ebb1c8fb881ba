"""Read-side helpers: the summary every consumer shows, built from the store in one place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from capwatch.models import AccountStatus, Cycle, CycleSummary, PollLogEntry, PollOutcome, Reading
from capwatch.store.api import CYCLE_RESOLUTION

if TYPE_CHECKING:
    from capwatch.analysis.cycles import CycleRule
    from capwatch.config import Settings
    from capwatch.service.accounts import AccountRuntime
    from capwatch.store.api import Store

AUTH_RULE = "auth"
HISTORY_CYCLES = 3
FAILING_AFTER = 3


def _poll_failures(entries: list[PollLogEntry]) -> tuple[int, str | None, PollOutcome | None]:
    """Consecutive failed polls (newest first), the last error message and its outcome."""
    count, message, outcome = 0, None, None
    for entry in entries:
        if (entry.error_class or "").startswith("export:"):
            continue
        if entry.outcome is PollOutcome.OK:
            break
        if count == 0:
            message, outcome = entry.message, entry.outcome
        count += 1
    return count, message, outcome


def _last_success(entries: list[PollLogEntry]) -> datetime | None:
    for entry in entries:
        if entry.outcome is PollOutcome.OK and not (entry.error_class or "").startswith("export:"):
            return entry.started_at
    return None


def auth_waiting(store: Store, rt: AccountRuntime) -> bool:
    """True while the account needs `capwatch login` and no new session has appeared since."""
    state = store.alert_states(rt.account.name).get((AUTH_RULE, "required"))
    if state is None or not state.active or state.fired_at is None:
        return False
    directory = rt.context.account_dir
    if directory.exists():
        newest = max((p.stat().st_mtime for p in directory.rglob("*") if p.is_file()), default=0)
        if datetime.fromtimestamp(newest, UTC) > state.fired_at:
            return False
    return True


def history_samples(
    store: Store, account: str, before: datetime, cycles: int = HISTORY_CYCLES
) -> list[list[tuple[datetime, int]]]:
    """Daily samples of up to ``cycles`` earlier cycles, oldest first (the forecast's prior)."""
    records = [c for c in store.cycles(account, limit=cycles + 1) if c.cycle_start < before]
    out: list[list[tuple[datetime, int]]] = []
    for record in reversed(records[:cycles]):
        days = store.daily_usage(account, record.cycle_start)
        samples = [(d.last_observed_at, d.used_bytes) for d in days]
        if samples:
            out.append(samples)
    return out


def _status(
    settings: Settings,
    account: str,
    last_reading_at: datetime | None,
    failures: int,
    outcome: PollOutcome | None,
    auth_active: bool,
    now: datetime,
) -> AccountStatus:
    if auth_active or (failures and outcome is PollOutcome.AUTH):
        return AccountStatus.AUTH_REQUIRED
    if failures >= FAILING_AFTER:
        return AccountStatus.FAILING
    if last_reading_at is None:
        return AccountStatus.FAILING if failures else AccountStatus.NEW
    stale = timedelta(hours=settings.account(account).alerts.stale_hours)
    if now - last_reading_at > stale:
        return AccountStatus.STALE
    return AccountStatus.OK


def current_cycle(rule: CycleRule, latest: Reading | None, now: datetime) -> Cycle:
    """The cycle to show: the configured one, unless the source reports cycles of its own.

    An ISP that reports its billing dates (Xfinity, Internode, Aussie) wins over the configured
    anchor: its latest reading's cycle runs from its reported start for a month.
    """
    from capwatch.analysis.cycles import CycleRule as Rule

    cycle = rule.cycle_at(now)
    if latest is None or latest.cycle_start == cycle.start:
        return cycle
    if latest.cycle_start > now:
        return rule.cycle_at(latest.observed_at)
    isp_rule = Rule(latest.cycle_start.astimezone(rule.timezone).day, rule.timezone)
    end = isp_rule.cycle_at(latest.cycle_start + timedelta(days=1)).end
    if end <= now:
        return isp_rule.cycle_at(now)
    return Cycle(latest.cycle_start, end)


def account_summary(settings: Settings, store: Store, account: str, now: datetime) -> CycleSummary:
    """The numbers people act on for one account as of ``now``."""
    from capwatch.analysis.cycles import CycleRule
    from capwatch.analysis.summary import summarize

    acc = settings.account(account)
    zone = acc.cycle.zone
    latest = store.latest_reading(account)
    cycle = current_cycle(CycleRule(acc.cycle.start_day, zone), latest, now)
    readings = store.readings(account, cycle_start=cycle.start, every=CYCLE_RESOLUTION)
    cap = readings[-1].cap_bytes if readings else None
    if cap is None and acc.cap_source == "config":
        cap = acc.cap_bytes
    log_entries = store.poll_log(account, limit=50)
    failures, last_error, outcome = _poll_failures(log_entries)
    auth = store.alert_states(account).get((AUTH_RULE, "required"))
    last_at = latest.observed_at if latest else None
    status = _status(settings, account, last_at, failures, outcome, bool(auth and auth.active), now)
    return summarize(
        account=account,
        cycle=cycle,
        readings=readings,
        cap_bytes=cap,
        history=history_samples(store, account, cycle.start),
        now=now,
        status=status,
        last_error=last_error,
        consecutive_failures=failures,
        last_success_at=_last_success(log_entries),
        overage=acc.overage,
        tz=zone,
        provider=acc.provider,
    )
