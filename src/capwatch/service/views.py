"""Read-side helpers: the summary every consumer shows, built from the store in one place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from capwatch.errors import CapwatchError
from capwatch.models import (
    AccountStatus,
    Cycle,
    CycleSummary,
    PollLogEntry,
    PollOutcome,
    Reading,
    fresh_since,
)
from capwatch.store.api import CYCLE_RESOLUTION, is_lower_bound

if TYPE_CHECKING:
    from capwatch.analysis.cycles import CycleRule
    from capwatch.config import AccountSettings, Settings
    from capwatch.store.api import CycleRecord, Store

NO_METER_MESSAGE = "unlimited plan: the ISP keeps no usage meter"
"""How a successful poll of an unlimited plan without a meter starts its poll-log message."""
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


def _last_ok_message(entries: list[PollLogEntry]) -> str:
    for entry in entries:
        if entry.outcome is PollOutcome.OK and not (entry.error_class or "").startswith("export:"):
            return entry.message or ""
    return ""


def keeps_no_meter(store: Store, account: str) -> bool:
    """True when the last successful poll found an unlimited plan whose ISP keeps no meter."""
    return _last_ok_message(store.poll_log(account, limit=50)).startswith(NO_METER_MESSAGE)


def _last_success(entries: list[PollLogEntry]) -> datetime | None:
    for entry in entries:
        if entry.outcome is PollOutcome.OK and not (entry.error_class or "").startswith("export:"):
            return entry.started_at
    return None


AUTH_MARKER = ".auth-refused.json"
"""Kept in the account's directory when its credentials were refused: what the config and the
session files looked like then, so "nothing has changed since" never compares two clocks."""


def auth_fingerprint(account_dir: Path, config_path: Path | None) -> dict[str, int]:
    """Size and modification time (ns) of the config and every session file of an account."""
    files = [config_path] if config_path is not None else []
    if account_dir.exists():
        files.extend(p for p in account_dir.rglob("*") if p.name != AUTH_MARKER)
    out: dict[str, int] = {}
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        if path.is_file():
            out[str(path)] = st.st_mtime_ns ^ (st.st_size << 1)
    return out


def note_refused(account_dir: Path, config_path: Path | None) -> None:
    """Remember the files as they are when the source refused the credentials."""
    import json

    from capwatch.fsutil import write_atomic

    body = json.dumps(auth_fingerprint(account_dir, config_path), sort_keys=True)
    write_atomic(account_dir / AUTH_MARKER, body.encode("utf-8"))


def auth_waiting(
    store: Store, account: str, account_dir: Path, config_path: Path | None = None
) -> bool:
    """True while the account's credentials were refused and nothing has changed since: no new
    session from `capwatch login` in ``account_dir``, and no edit of the config (where
    passwords are set)."""
    import json

    state = store.alert_states(account).get((AUTH_RULE, "required"))
    if state is None or not state.active or state.fired_at is None:
        return False
    try:
        then = json.loads((account_dir / AUTH_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        then = None
    if isinstance(then, dict):
        return bool(then == auth_fingerprint(account_dir, config_path))
    # a refusal recorded before the marker existed: compare file times with when it was seen
    newest = max(
        (p.stat().st_mtime for p in map(Path, auth_fingerprint(account_dir, config_path))),
        default=0,
    )
    return datetime.fromtimestamp(newest, UTC) <= state.fired_at


def history_samples(
    store: Store, account: str, before: datetime, cycles: int = HISTORY_CYCLES
) -> list[list[tuple[datetime, int]]]:
    """Daily samples of up to ``cycles`` earlier cycles, oldest first (the forecast's prior).

    A cycle whose end capwatch missed (its figure a lower bound) is left out: its missing last
    days would teach the forecast that usage stops before a cycle ends.
    """
    stored = store.cycles(account, limit=cycles + 2)
    records = []
    for record, following in zip(stored, [None, *stored], strict=False):
        end = record.cycle_end or (following.cycle_start if following else None)
        if record.cycle_start < before and not is_lower_bound(record, end):
            records.append(record)
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
    last_success: datetime | None = None,
) -> AccountStatus:
    if auth_active:
        return AccountStatus.AUTH_REQUIRED
    if failures >= FAILING_AFTER:
        return AccountStatus.FAILING
    if last_reading_at is None:
        if failures:
            return AccountStatus.FAILING
        return AccountStatus.OK if last_success else AccountStatus.NEW
    stale = timedelta(hours=settings.account(account).alerts.stale_hours)
    if now - last_reading_at > stale:
        return AccountStatus.STALE
    return AccountStatus.OK


MAX_CYCLE_STEPS = 600
"""Cycles stepped over when the daemon was down for a long time (50 years of months)."""


def current_cycle(rule: CycleRule, newest: CycleRecord | None, now: datetime) -> Cycle:
    """The cycle holding ``now``: the newest stored cycle's own span (an ISP's dates win over
    the configured anchor) and, once it has ended, the cycles that follow it.
    """
    from capwatch.analysis.cycles import next_cycle, span_of

    if newest is None:
        return rule.cycle_at(now)
    cycle = span_of(rule, newest.cycle_start, newest.cycle_end)
    if cycle.start > now:
        return rule.cycle_at(now)
    for _ in range(MAX_CYCLE_STEPS):
        if now < cycle.end:
            return cycle
        cycle = next_cycle(rule, cycle)
    return rule.cycle_at(now)


def closed_cycles(
    settings: Settings, store: Store, account: str, now: datetime, limit: int | None = None
) -> list[CycleRecord]:
    """Stored cycles, newest first, each with its end (recorded, or the calendar's)."""
    from dataclasses import replace

    from capwatch.analysis.cycles import CycleRule, span_of

    acc = settings.account(account)
    rule = CycleRule(acc.cycle.start_day, acc.cycle.zone)
    out = []
    for record in store.cycles(account, limit=limit):
        end = record.cycle_end or span_of(rule, record.cycle_start, None).end
        closed = end <= now
        out.append(
            replace(record, cycle_end=end, lower_bound=closed and is_lower_bound(record, end))
        )
    return out


def _cap_and_unlimited(
    acc: AccountSettings, readings: list[Reading], latest: Reading | None, no_meter: bool
) -> tuple[int | None, bool]:
    """The cap to show and whether the plan is unlimited (not merely unknown).

    In a cycle without readings yet the last cap the provider reported still holds.
    """
    if acc.cap_source == "unlimited":
        return None, True
    if acc.cap_source == "config":
        return acc.cap_bytes, False
    newest = readings[-1] if readings else latest
    if newest is not None and newest.cap_bytes is not None:
        return newest.cap_bytes, False
    if acc.cap_bytes is not None:
        return acc.cap_bytes, False
    return None, newest is not None or no_meter


def _waiting_note(
    provider: str, cycle: Cycle, has_readings: bool, latest: Reading | None
) -> str | None:
    """The line shown while a new cycle has no reading yet but an earlier one has."""
    from capwatch.providers.base import load_provider

    if has_readings or latest is None or latest.observed_at >= cycle.start:
        return None
    try:
        kind = load_provider(provider).kind
    except CapwatchError:
        kind = "meter"
    if kind == "meter":
        return "new cycle: waiting for the ISP's first figure"
    return "new cycle: waiting for the first reading"


def account_summary(settings: Settings, store: Store, account: str, now: datetime) -> CycleSummary:
    """The numbers people act on for one account as of ``now``."""
    from capwatch.analysis.cycles import CycleRule
    from capwatch.analysis.summary import summarize

    acc = settings.account(account)
    zone = acc.cycle.zone
    newest = store.cycles(account, limit=1)
    cycle = current_cycle(CycleRule(acc.cycle.start_day, zone), next(iter(newest), None), now)
    readings = store.readings(account, cycle_start=cycle.start, every=CYCLE_RESOLUTION)
    latest = readings[-1] if readings else store.latest_reading(account)
    log_entries = store.poll_log(account, limit=50)
    no_meter = _last_ok_message(log_entries).startswith(NO_METER_MESSAGE)
    cap, unlimited = _cap_and_unlimited(acc, readings, latest, no_meter)
    failures, last_error, outcome = _poll_failures(log_entries)
    last_at = latest.observed_at if latest else None
    last_ok = _last_success(log_entries)
    # a new session (`capwatch login`) or a config edit lifts auth-required at once; the
    # polls that follow then decide the status
    config = Path(settings.source_path) if settings.source_path else None
    account_dir = Path(settings.data_dir) / "accounts" / account
    auth_active = auth_waiting(store, account, account_dir, config)
    note = _waiting_note(acc.provider, cycle, bool(readings), latest)
    fresh = fresh_since(last_at, last_ok, note is not None)
    status = _status(settings, account, fresh, failures, outcome, auth_active, now, last_ok)
    plan = []
    if acc.allowances:
        from capwatch.service.plan import allowance_inputs

        records = closed_cycles(settings, store, account, now, limit=HISTORY_CYCLES + 24)
        plan = allowance_inputs(acc, store, cycle, records)
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
        last_success_at=last_ok,
        overage=acc.overage,
        tz=zone,
        provider=acc.provider,
        unlimited=unlimited,
        previous=None if readings else latest,
        note=note,
        allowances=plan,
    )
