"""The outbox: a failed send stays pending (redacted), is retried, and nothing goes out twice."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from capwatch.notify.outbox import deliver_pending, enqueue
from capwatch.notify.schedule import queue_due_reports
from tests.fixtures.smtp import NotifyEnv

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

CHICAGO = ZoneInfo("America/Chicago")
SUNDAY_8AM = datetime(2026, 11, 22, 8, 5, tzinfo=CHICAGO)
PASSWORD = "webhook-pass-9f8e7d"


def _hook_url(port: int) -> str:
    return f"json://capwatch:{PASSWORD}@127.0.0.1:{port}/hook"


def test_failed_send_stays_pending_then_succeeds_once(  # type: ignore[no-untyped-def]
    notify_env: NotifyEnv, json_receiver, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = notify_env.reload({"hook": _hook_url(json_receiver.port)})
    json_receiver.status = 500
    assert queue_due_reports(notify_env.store, settings, SUNDAY_8AM) == ["weekly:home:2026-W47"]

    first = deliver_pending(notify_env.store, settings, max_attempts_per_run=2, wait_s=0.01)
    assert (first.sent, first.failed, first.split) == (0, 1, 1)
    assert len(json_receiver.bodies) == 2  # tried twice within the run
    [pending] = notify_env.store.outbox_pending()
    assert pending.key == "weekly:home:2026-W47#hook"
    assert pending.attempts == 1
    assert pending.last_error and "500" in pending.last_error
    assert PASSWORD not in pending.last_error
    assert PASSWORD not in caplog.text

    json_receiver.status = 200
    second = deliver_pending(notify_env.store, settings, wait_s=0.01)
    assert (second.sent, second.failed) == (1, 0)
    assert notify_env.store.outbox_pending() == []
    assert len(json_receiver.bodies) == 3

    # "restart": new store and settings objects over the same database
    from capwatch.store import open_store

    notify_env.store.close()
    notify_env.store = open_store(settings.resolved_database_url())
    settings = notify_env.reload({"hook": _hook_url(json_receiver.port)})
    assert queue_due_reports(notify_env.store, settings, SUNDAY_8AM) == []
    third = deliver_pending(notify_env.store, settings, wait_s=0.01)
    assert (third.sent, third.failed, third.split) == (0, 0, 0)
    assert len(json_receiver.bodies) == 3


def test_one_failing_channel_does_not_resend_to_the_other(  # type: ignore[no-untyped-def]
    notify_env: NotifyEnv, json_receiver
) -> None:
    from tests.fixtures.common import free_port

    dead = f"json://127.0.0.1:{free_port()}/down"
    settings = notify_env.reload({"good": json_receiver.url, "dead": dead})
    queue_due_reports(notify_env.store, settings, SUNDAY_8AM)
    run1 = deliver_pending(notify_env.store, settings, max_attempts_per_run=1, wait_s=0.01)
    assert (run1.sent, run1.failed) == (1, 1)
    run2 = deliver_pending(notify_env.store, settings, max_attempts_per_run=1, wait_s=0.01)
    assert (run2.sent, run2.failed) == (0, 1)
    assert len(json_receiver.bodies) == 1
    [pending] = notify_env.store.outbox_pending()
    assert pending.key.endswith("#dead") and pending.attempts == 2


def test_enqueue_is_idempotent(notify_env: NotifyEnv) -> None:
    payload = {"subject": "s", "text": "t", "html": "<p>t</p>"}
    assert enqueue(notify_env.store, "manual:1", "alerts", "home", payload)
    assert not enqueue(notify_env.store, "manual:1", "alerts", "home", payload)
    assert [i.key for i in notify_env.store.outbox_pending()] == ["manual:1"]


def test_no_channel_means_nothing_due_and_alerts_marked_done(notify_env: NotifyEnv) -> None:
    settings = notify_env.settings  # no [[notify]] channel at all
    assert queue_due_reports(notify_env.store, settings, SUNDAY_8AM) == []
    enqueue(notify_env.store, "alert:x", "alerts", "home", {"account": "home", "message": "m"})
    stats = deliver_pending(notify_env.store, settings, wait_s=0.01)
    assert stats.no_channel == 1
    assert notify_env.store.outbox_pending() == []


def test_channel_filters_by_kind_and_account(  # type: ignore[no-untyped-def]
    notify_env: NotifyEnv, json_receiver
) -> None:
    settings = notify_env.reload({"hook": json_receiver.url}, kinds='["alerts"]')
    assert queue_due_reports(notify_env.store, settings, SUNDAY_8AM) == []
    from capwatch.notify.outbox import channels_for

    assert [c.name for c in channels_for(settings, "alerts", "home")] == ["hook"]
    assert channels_for(settings, "weekly", "home") == []


def test_persistent_failures_back_off(notify_env: NotifyEnv, json_receiver) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from capwatch.models import OutboxItem
    from capwatch.notify.outbox import next_try_at

    created = datetime(2026, 11, 22, 8, tzinfo=CHICAGO)
    item = OutboxItem("k", "weekly", "home", {}, created, attempts=3)
    assert next_try_at(item) == created
    later = [
        next_try_at(OutboxItem("k", "weekly", "home", {}, created, attempts=n))
        for n in (4, 5, 6, 20)
    ]
    assert [t - created for t in later[:3]] == [
        timedelta(minutes=1),
        timedelta(minutes=3),
        timedelta(minutes=7),
    ]
    assert later[3] - later[2] > timedelta(hours=10)

    settings = notify_env.reload({"hook": json_receiver.url})
    payload = {"subject": "s", "text": "t", "html": "", "channel": "hook"}
    enqueue(notify_env.store, "k#hook", "weekly", "home", payload, now=created)
    for _ in range(4):
        notify_env.store.outbox_mark("k#hook", sent=False, error="down")
    stats = deliver_pending(notify_env.store, settings, wait_s=0.01, now=created)
    assert (stats.deferred, stats.sent) == (1, 0) and json_receiver.bodies == []
    stats = deliver_pending(
        notify_env.store, settings, wait_s=0.01, now=created + timedelta(minutes=2)
    )
    assert stats.sent == 1 and json_receiver.bodies[0]["title"] == "s"
