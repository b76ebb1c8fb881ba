"""`capwatch serve`: the scheduler (APScheduler) and the web server (uvicorn) in one process.

Every enabled account is polled at start-up and then on its interval with jitter; failures back
off (see :class:`~capwatch.service.coordinator.Coordinator`). Pending notifications are
delivered every minute, the weekly and month-end reports when due. SIGTERM and SIGINT stop the
web server, let a poll in flight finish its transaction, and close the store: a committed
reading is never lost, an uncommitted one is simply not there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from capwatch.models import utcnow
from capwatch.service.coordinator import Coordinator

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from capwatch.config import Settings
    from capwatch.store.api import Store

log = logging.getLogger(__name__)

JITTER_FRACTION = 0.1
OUTBOX_EVERY_S = 60
REPORTS_EVERY_S = 15 * 60
WARM_EVERY_S = 45  # below the web summary cache's 60 s lifetime


@dataclass
class Daemon:
    """Owns the store, coordinator, scheduler and web server of one `capwatch serve`."""

    settings: Settings
    store: Store
    coordinator: Coordinator
    _next_allowed: dict[str, float] = field(default_factory=dict)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _inflight: set[asyncio.Task[Any]] = field(default_factory=set)
    warm: Callable[[str], None] | None = None
    _scheduler: Any = None
    _intervals: dict[str, float] = field(default_factory=dict)

    async def poll_job(self, name: str) -> None:
        """Scheduled poll of one account, skipped while its backoff has not elapsed."""
        if self._stopping.is_set() or time.monotonic() < self._next_allowed.get(name, 0.0):
            return
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            result = await self.coordinator.poll_account(name)
        finally:
            if task is not None:
                self._inflight.discard(task)
        await self.warm_job([name])
        if not result.ok and not result.skipped:
            delay = self.coordinator.next_delay(name)
            self._next_allowed[name] = time.monotonic() + delay - 1.0
            self._retry_in(name, delay)
            log.info("next poll of %s in %.0f s", name, delay, extra={"account": name})
        else:
            self._next_allowed.pop(name, None)
            self._follow_interval(name)

    def _follow_interval(self, name: str) -> None:
        """Reschedule an account whose provider asked for a shorter interval (a router's link
        turned out faster than its default interval keeps 32-bit counters unambiguous at)."""
        if self._scheduler is None:
            return
        interval = self.coordinator.interval_for(name)
        if interval == self._intervals.get(name, interval):
            return
        from apscheduler.triggers.interval import IntervalTrigger

        self._intervals[name] = interval
        trigger = IntervalTrigger(seconds=interval, jitter=max(1, int(interval * JITTER_FRACTION)))
        with contextlib.suppress(LookupError):  # the job is gone while stopping
            self._scheduler.reschedule_job(f"poll:{name}", trigger=trigger)
        log.info("polling %s every %.0f s from now on", name, interval, extra={"account": name})

    def _retry_in(self, name: str, delay: float) -> None:
        """Move the account's next scheduled poll to ``delay`` seconds from now (a retry sooner
        than the interval, or later after a Retry-After); the interval runs on from there."""
        if self._scheduler is None:
            return
        when = datetime.now(UTC) + timedelta(seconds=delay)
        with contextlib.suppress(LookupError):  # the job is gone while stopping
            self._scheduler.modify_job(f"poll:{name}", next_run_time=when)

    async def warm_job(self, names: list[str] | None = None) -> None:
        """Keep the web pages' summaries fresh, so page requests never compute a forecast."""
        if self.warm is None:
            return
        for name in names or [a.name for a in self.settings.accounts]:
            try:
                await asyncio.to_thread(self.warm, name)
            except Exception:
                log.exception("summary refresh failed for %s", name)

    async def outbox_job(self) -> None:
        """Deliver queued notifications; failures stay queued for the next run."""
        from capwatch.notify.outbox import deliver_pending

        try:
            await asyncio.to_thread(deliver_pending, self.store, self.settings)
        except Exception:
            log.exception("notification delivery failed")

    async def reports_job(self) -> None:
        """Queue the weekly and month-end reports that are due, then deliver."""
        from capwatch.notify.reports import queue_due_reports

        try:
            await asyncio.to_thread(queue_due_reports, self.store, self.settings, utcnow())
        except Exception:
            log.exception("report scheduling failed")
        await self.outbox_job()

    def schedule(self, scheduler: AsyncIOScheduler) -> None:
        """Add the poll, outbox and report jobs."""
        from apscheduler.triggers.interval import IntervalTrigger

        self._scheduler = scheduler
        now = datetime.now(UTC)
        for account in self.settings.accounts:
            if not account.enabled:
                continue
            interval = self.coordinator.runtime(account.name).interval_s
            self._intervals[account.name] = interval
            scheduler.add_job(
                self.poll_job,
                IntervalTrigger(seconds=interval, jitter=max(1, int(interval * JITTER_FRACTION))),
                args=[account.name],
                id=f"poll:{account.name}",
                next_run_time=now,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(interval),
            )
        housekeeping: tuple[tuple[str, Callable[[], Any], float, float], ...] = (
            ("outbox", self.outbox_job, OUTBOX_EVERY_S, 5),
            ("warm", self.warm_job, WARM_EVERY_S, 2),
            ("reports", self.reports_job, REPORTS_EVERY_S, 30),
        )
        for job_id, job, every_s, first_after_s in housekeeping:
            scheduler.add_job(
                job,
                IntervalTrigger(seconds=every_s),
                id=job_id,
                next_run_time=now + timedelta(seconds=first_after_s),
                max_instances=1,
                coalesce=True,
            )

    async def drain(self, timeout: float = 30.0) -> None:
        """Let polls in flight finish (their transaction commits or does not start)."""
        self._stopping.set()
        pending = {t for t in self._inflight if not t.done()}
        if pending:
            await asyncio.wait(pending, timeout=timeout)
        await self.coordinator.drain_exports()


def _make_server(app: Any, host: str, port: int) -> Any:
    import uvicorn

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # the daemon installs its own handlers

    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, lifespan="on"
    )
    return _Server(config)


async def run(settings: Settings, *, on_ready: Callable[[str], None] | None = None) -> None:
    """Run the daemon until SIGTERM/SIGINT."""
    from capwatch.service.footprint import skip_unused_modules, tune_allocator

    skip_unused_modules()  # before the web stack (httpx, FastAPI) is imported
    tune_allocator()  # before any thread starts
    from capwatch.templating import use_cache_dir

    use_cache_dir(settings.data_dir / "cache" / "templates")  # a restart loads, not compiles

    from capwatch.store import open_store

    # A first start or an upgrade migrates in a child process: the daemon runs for months and
    # should not carry Alembic's ~10 MiB for it.
    store = open_store(settings.resolved_database_url(), isolate_migration=True)
    try:
        with store.serve_lock():
            await _serve(settings, store, on_ready)
    finally:
        store.close()


async def _start_device_sources(settings: Settings, store: Store) -> list[Any]:
    """Start each ``[[device_sources]]`` entry (a netflow collector...); one that cannot start
    is logged and left out, the rest of the daemon runs on."""
    if not settings.device_sources:
        return []
    from capwatch.devices.sources import load_device_sources

    started = []
    for source in load_device_sources(settings, store):
        try:
            await source.start()
        except Exception as exc:
            log.error("device source %s did not start: %s", source.name, exc)
            continue
        started.append(source)
    return started


async def _serve(settings: Settings, store: Store, on_ready: Callable[[str], None] | None) -> None:
    """The daemon's life on an open (and, on SQLite, locked) store."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from capwatch.exporters.base import load_exporters
    from capwatch.web.app import create_app
    from capwatch.web.history import warm_summary

    exporters = load_exporters(settings)
    coordinator = Coordinator(settings, store, exporters=exporters)
    app = create_app(settings, store, coordinator=coordinator)
    daemon = Daemon(settings, store, coordinator, warm=partial(warm_summary, app.state))
    server = _make_server(app, settings.web.host, settings.web.port)
    loop = asyncio.get_running_loop()

    def stop() -> None:
        log.info("stopping")
        server.should_exit = True

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    for exporter in exporters:
        try:
            await exporter.start()
        except Exception as exc:
            log.warning("exporter %s did not start: %s", exporter.name, exc)
    sources = await _start_device_sources(settings, store)
    scheduler = AsyncIOScheduler(timezone=UTC)
    daemon.schedule(scheduler)
    scheduler.start()
    url = f"http://{settings.web.host}:{settings.web.port}/"
    log.debug("store %s", store.url_display)  # "capwatch is serving" is said once, by serve
    if on_ready is not None:
        on_ready(url)
    try:
        await server.serve()
    finally:
        scheduler.shutdown(wait=False)
        await daemon.drain()
        for source in sources:
            try:
                await source.stop()
            except Exception as exc:
                log.warning("device source %s did not stop cleanly: %s", source.name, exc)
        for exporter in exporters:
            with contextlib.suppress(Exception):
                await exporter.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        log.info("stopped")
