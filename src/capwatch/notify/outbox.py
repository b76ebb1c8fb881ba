"""Idempotent, retried delivery of notifications through the store's outbox.

Every message is queued under a key (``weekly:home:2026-W47``, ``monthly:home:2026-10``,
``alert:home:used:90:fired:...``); the store refuses a key it has seen, so nothing is queued or
sent twice, even across restarts. :func:`deliver_pending` first splits an item into one child
per matching channel (``<key>#<channel>``), so that a channel that failed is retried without
re-sending to the ones that worked. Each send is retried a few times within the run (tenacity);
a send that still fails stays pending with its attempt count and a redacted error for the next
run: it is logged, never dropped. After three failed runs an item backs off (1, 2, 4 ... 60
minutes between tries, see :func:`next_try_at`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from capwatch.models import OutboxItem, utcnow
from capwatch.notify.message import Report

if TYPE_CHECKING:
    from capwatch.config import NotifyChannel, Settings
    from capwatch.notify.apprise_adapter import SendResult
    from capwatch.store.api import Store

log = logging.getLogger(__name__)

CHANNEL_SEP = "#"
BACKOFF_FREE_ATTEMPTS = 3
BACKOFF_BASE_S = 60.0
BACKOFF_MAX_S = 3600.0


def next_try_at(item: OutboxItem) -> datetime:
    """When a failing item may be tried again (at once, then 1, 2, 4 ... 60 min apart)."""
    # Counted from its creation, so no extra state is needed; a daemon that was down finds
    # overdue items due at once.
    extra = max(item.attempts - BACKOFF_FREE_ATTEMPTS, 0)
    wait = sum(min(BACKOFF_BASE_S * 2**k, BACKOFF_MAX_S) for k in range(extra))
    return item.created_at + timedelta(seconds=wait)


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    """What one delivery run did."""

    sent: int = 0
    failed: int = 0
    split: int = 0
    no_channel: int = 0
    deferred: int = 0


def enqueue(
    store: Store,
    key: str,
    kind: str,
    account: str | None,
    payload: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> bool:
    """Queue a message under ``key``; False when that key was already queued or sent."""
    item = OutboxItem(
        key=key, kind=kind, account=account, payload=dict(payload), created_at=now or utcnow()
    )
    added = store.outbox_add(item)
    if added:
        log.info("queued %s", key, extra={"account": account})
    return added


def enqueue_report(store: Store, key: str, kind: str, account: str | None, report: Report) -> bool:
    """Queue a rendered report (see :class:`~capwatch.notify.message.Report`)."""
    return enqueue(store, key, kind, account, report.to_payload())


def channels_for(settings: Settings, kind: str, account: str | None) -> list[NotifyChannel]:
    """The configured channels that take ``kind`` messages of ``account``."""
    return [
        ch
        for ch in settings.notify
        if kind in ch.kinds and (not ch.accounts or account is None or account in ch.accounts)
    ]


def _split(store: Store, item: OutboxItem, channels: Sequence[NotifyChannel]) -> int:
    """Queue one child per channel and mark the parent done; returns children queued."""
    added = 0
    for ch in channels:
        payload = {**item.payload, "channel": ch.name}
        child = OutboxItem(
            key=f"{item.key}{CHANNEL_SEP}{ch.name}",
            kind=item.kind,
            account=item.account,
            payload=payload,
            created_at=item.created_at,
        )
        added += store.outbox_add(child)
    store.outbox_mark(item.key, sent=True)
    return added


def _render(item: OutboxItem, store: Store, settings: Settings, now: datetime) -> Report:
    """The message of an item: stored as rendered, or built now from an alert event."""
    if Report.is_rendered(item.payload):
        return Report.from_payload(item.payload)
    from capwatch.notify.reports import alert_from_payload

    return alert_from_payload(item.payload, store, settings, now)


def _send_with_retry(urls: list[str], report: Report, attempts: int, wait_s: float) -> SendResult:
    """Send, retrying a failed send up to ``attempts`` times with short exponential waits."""
    from tenacity import Retrying, retry_if_result, stop_after_attempt, wait_exponential

    from capwatch.notify.apprise_adapter import send

    retrying = Retrying(
        stop=stop_after_attempt(max(attempts, 1)),
        wait=wait_exponential(multiplier=wait_s, max=max(wait_s * 8, 0.0)),
        retry=retry_if_result(lambda r: not r.ok),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        reraise=False,
    )
    result: SendResult = retrying(
        send,
        urls,
        title=report.subject,
        body_text=report.text,
        body_html=report.html or None,
        attachments=report.attachments(),
    )
    return result


def _deliver_one(
    store: Store,
    settings: Settings,
    item: OutboxItem,
    channel: NotifyChannel,
    now: datetime,
    attempts: int,
    wait_s: float,
) -> bool:
    """Render and send one per-channel item; record the outcome in the store."""
    from capwatch.notify.apprise_adapter import register_url_secrets, scrub

    url = channel.url.reveal()
    register_url_secrets([url])
    try:
        report = _render(item, store, settings, now)
        result = _send_with_retry([url], report, attempts, wait_s)
        error = result.error
    except Exception as exc:  # a broken report must not stop the other messages
        error = scrub(f"{type(exc).__name__}: {exc}", [url])
    if error is None:
        store.outbox_mark(item.key, sent=True)
        log.info("sent %s via %s", item.key, channel.name, extra={"account": item.account})
        return True
    error = scrub(error, [url])[:500]
    store.outbox_mark(item.key, sent=False, error=error)
    log.warning(
        "sending %s via %s failed (attempt %d), will retry: %s",
        item.key,
        channel.name,
        item.attempts + 1,
        error,
        extra={"account": item.account},
    )
    return False


def deliver_pending(
    store: Store,
    settings: Settings,
    *,
    max_attempts_per_run: int = 3,
    wait_s: float = 1.0,
    limit: int = 50,
    now: datetime | None = None,
) -> DeliveryStats:
    """Send every pending message to its channels; failures stay pending for the next run."""
    now = now or utcnow()
    sent = failed = split = no_channel = deferred = 0
    by_name = {ch.name: ch for ch in settings.notify}
    queue = list(store.outbox_pending(limit=limit))
    while queue:
        item = queue.pop(0)
        name = item.payload.get("channel")
        if name is None:
            channels = channels_for(settings, item.kind, item.account)
            if not channels:
                store.outbox_mark(item.key, sent=True, error="no notify channel takes this kind")
                level = logging.WARNING if item.kind == "alert" else logging.INFO
                log.log(
                    level,
                    "no channel for %s (%s): shown only in `capwatch status` and on the "
                    "dashboard; add a [[notify]] channel",
                    item.key,
                    item.kind,
                )
                no_channel += 1
                continue
            split += _split(store, item, channels)
            prefix = f"{item.key}{CHANNEL_SEP}"
            queue.extend(i for i in store.outbox_pending(limit=limit) if i.key.startswith(prefix))
            continue
        # (an item from "the future" means the clock went back, as on a Pi without a real-time
        # clock before NTP: it is due now rather than held until the clock catches up)
        if next_try_at(item) > now and item.created_at <= now:
            deferred += 1
            continue
        channel = by_name.get(str(name))
        if channel is None:
            store.outbox_mark(item.key, sent=True, error=f"channel {name!r} no longer configured")
            no_channel += 1
            continue
        if _deliver_one(store, settings, item, channel, now, max_attempts_per_run, wait_s):
            sent += 1
        else:
            failed += 1
    return DeliveryStats(sent, failed, split, no_channel, deferred)
