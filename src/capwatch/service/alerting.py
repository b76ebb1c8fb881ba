"""Alert evaluation after a poll: rules, latch, persisted state, queued notifications."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import TYPE_CHECKING

from capwatch.models import AlertState, CycleSummary

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from capwatch.alerts.rules import Condition
    from capwatch.config import Settings
    from capwatch.service.accounts import AccountRuntime
    from capwatch.store.api import Store

log = logging.getLogger(__name__)


def disagreement(settings: Settings, store: Store, summary: CycleSummary) -> float | None:
    """Gap in percent between this account and the one it reconciles with, same cycle."""
    from capwatch.analysis.reconcile import reconcile

    other_name = settings.account(summary.account).reconcile_with
    if not other_name or summary.used_bytes is None:
        return None
    other = store.latest_reading(other_name)
    if other is None or other.cycle_start != summary.cycle.start:
        return None
    threshold = settings.account(summary.account).alerts.disagree_percent
    return reconcile(summary.used_bytes, other.used_bytes, threshold).gap_percent


def device_spike_conditions(
    settings: Settings,
    store: Store,
    account: str,
    now: datetime,
    previous: Iterable[AlertState],
) -> list[Condition]:
    """``device_spike`` conditions for yesterday (none when the account has no device data)."""
    if not store.device_list(account):
        return []
    from capwatch.alerts.devices import spike_conditions
    from capwatch.service.devices import account_devices

    _, view = account_devices(settings, store, account, now)
    if view.day >= now.astimezone(settings.account(account).cycle.zone).date():
        return []  # the cycle's first day: no complete day yet
    return spike_conditions(view, settings.account(account).alerts, previous)


def evaluate_and_queue(
    settings: Settings,
    store: Store,
    rt: AccountRuntime,
    summary: CycleSummary,
    auth_required: bool,
) -> None:
    """Evaluate the account's alert rules, persist the latch, queue fired/resolved messages."""
    from capwatch.alerts.latch import step
    from capwatch.alerts.rules import evaluate
    from capwatch.notify.outbox import enqueue

    name = rt.account.name
    conditions = evaluate(
        summary,
        rt.account.alerts,
        auth_required=auth_required,
        disagreement_percent=disagreement(settings, store, summary),
        tz=rt.rule.timezone,
        provider=rt.account.provider,
        currency=rt.account.overage.currency if rt.account.overage is not None else "$",
    )
    previous = store.alert_states(name)
    conditions += device_spike_conditions(settings, store, name, summary.as_of, previous.values())
    states, events = step(conditions, previous, summary.cycle.start, summary.as_of)
    store.save_alert_states(states)
    for event in events:
        if not event.message:  # a quiet clear (a device spike's day has passed)
            continue
        key = f"alert:{name}:{event.rule}:{event.level}:{event.kind}:{event.at.isoformat()}"
        payload = {
            k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in asdict(event).items()
        }
        enqueue(store, key, "alerts", name, payload)
        log.info("alert %s: %s", event.kind, event.message, extra={"account": name})
