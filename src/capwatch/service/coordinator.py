"""The poll pipeline: fetch, validate, store, evaluate alerts, hand to consumers.

This is the only place that strings the layers together. One poll of one account:

1. skip if the account waits for ``capwatch login`` (auth-required) or another instance holds
   its poll lock;
2. ``provider.fetch`` with a few quick retries for connect and server errors (tenacity);
3. turn the snapshot into a reading (counter sources through :mod:`capwatch.analysis.counters`)
   and validate it;
4. store reading, counters, devices, history, payload and the poll log line in one transaction;
5. evaluate alert rules, latch them, queue notifications;
6. hand the account's summary to the exporters (their failures never undo a reading).

Failures are classified by :func:`capwatch.errors.classify` into the poll log, and set the
account's next-poll backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from capwatch.errors import (
    AuthRequired,
    BadResponse,
    BotBlocked,
    CapwatchError,
    Implausible,
    ProviderError,
    RateLimited,
    StoreError,
    StoreFull,
    classify,
    is_retryable,
)
from capwatch.models import PollLogEntry, PollOutcome, Reading, Snapshot, utcnow
from capwatch.secrets import redact
from capwatch.service.accounts import AccountRuntime, build_runtime
from capwatch.service.views import NO_METER_MESSAGE, account_summary, auth_waiting
from capwatch.store.api import PollRecord, Store

if TYPE_CHECKING:
    import ssl

    import httpx

    from capwatch.config import Settings
    from capwatch.exporters.base import Exporter

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 6 * 3600.0
FIRST_RETRY_S = 60.0
BOT_BLOCK_BACKOFF_S = 4 * 3600.0
FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of one account did."""

    account: str
    outcome: PollOutcome
    reading: Reading | None = None
    stored: bool = False
    message: str | None = None
    duration_s: float = 0.0
    skipped: bool = False

    @property
    def ok(self) -> bool:
        """True when the poll produced a reading."""
        return self.outcome is PollOutcome.OK and not self.skipped


@dataclass
class _Backoff:
    failures: int = 0
    not_before: float = 0.0


def refused_reply(provider: str, body: Any, error: str) -> dict[str, Any]:
    """A refused reply as the archive keeps it: the body as received (secrets out) under
    ``capwatch_reply``, which ``capwatch check-response`` reads back."""
    import json

    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return {"capwatch_reply": redact(text), "provider": provider, "error": error}


@dataclass
class Coordinator:
    """Polls accounts and feeds the store, alerts, notifications and exporters."""

    settings: Settings
    store: Store
    exporters: Sequence[Exporter] = ()
    client_factory: Callable[[], httpx.AsyncClient] | None = None
    retry_wait_s: float = 1.0
    retry_attempts: int = 3
    clock: Callable[[], datetime] = utcnow
    _runtimes: dict[str, AccountRuntime] = field(default_factory=dict)
    _backoff: dict[str, _Backoff] = field(default_factory=dict)
    _export_tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _tls: ssl.SSLContext | None = None
    _polling: dict[str, asyncio.Lock] = field(default_factory=dict)
    _last: dict[str, tuple[datetime, PollResult]] = field(default_factory=dict)
    _now_tasks: dict[str, asyncio.Task[PollResult]] = field(default_factory=dict)
    store_failures: int = 0
    """Writes to the store that failed since the last one that worked (a full disk)."""
    poll_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Polls made by this process per (account, outcome) (``capwatch_polls_total``)."""
    export_counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Exports per (exporter, "ok" | "failed") (``capwatch_exports_total``)."""
    last_store_error: str | None = None

    def runtime(self, name: str) -> AccountRuntime:
        """The provider instance and cycle rule of an account (built once)."""
        rt = self._runtimes.get(name)
        if rt is None:
            account = self.settings.account(name)
            rt = build_runtime(account, self.settings, self.clock)
            self.store.ensure_account(name, account.provider, account.cycle.zone.key)
            self._runtimes[name] = rt
        return rt

    def interval_for(self, name: str) -> float:
        """The account's poll interval: the configured one, else the provider's default or the
        shorter one its last fetch asked for (never below its minimum)."""
        rt = self.runtime(name)
        hint = rt.provider.interval_hint()
        if hint is None or rt.account.poll_interval_s is not None:
            return rt.interval_s
        return max(min(rt.interval_s, hint), rt.provider.min_interval)

    def next_delay(self, name: str) -> float:
        """Seconds until the account's next poll, after failures a backoff that starts short
        and stays well below the stale threshold (a short outage must not look stale).

        Retries come after 1, 2, 4, ... minutes (never sooner than the provider allows), at
        most the normal interval and a third of ``stale_hours``; an ISP's Retry-After or a
        bot block's hours still win.
        """
        rt = self.runtime(name)
        base = self.interval_for(name)
        state = self._backoff.get(name)
        if state is None or state.failures == 0:
            return base
        floor = max(FIRST_RETRY_S, rt.provider.min_interval)
        stale_s = rt.account.alerts.stale_hours * 3600.0
        cap = max(min(base, stale_s / 3, MAX_BACKOFF_S), floor)
        delay = min(floor * 2.0 ** min(state.failures - 1, 16), cap)
        return max(delay, state.not_before - time.monotonic())

    async def poll_all(self, *, force: bool = False) -> list[PollResult]:
        """Poll every enabled account once, one after another."""
        results = []
        for account in self.settings.accounts:
            if account.enabled:
                results.append(await self.poll_account(account.name, force=force))
        return results

    async def poll_account(
        self, name: str, *, force: bool = False, attempts: int | None = None
    ) -> PollResult:
        """Poll one account; never raises for provider failures (they go to the poll log).

        ``force`` polls even an account waiting for `capwatch login`; ``attempts`` caps the quick
        retries of connect and server errors (default ``retry_attempts``)."""
        rt = self.runtime(name)
        config = Path(self.settings.source_path) if self.settings.source_path else None
        waiting = await asyncio.to_thread(
            auth_waiting, self.store, name, rt.context.account_dir, config
        )
        if not force and waiting:
            if hasattr(rt.provider, "interactive_login"):
                wait = f"`capwatch login {rt.account.provider} --account {name}`"
            else:
                wait = f"new credentials in the config (or `capwatch poll --force -a {name}`)"
            return PollResult(
                name,
                PollOutcome.AUTH,
                message=f"credentials refused: waiting for {wait}",
                skipped=True,
            )
        # Polls of one account in this process (the schedule, "Poll now") take turns; the
        # store's lock then keeps other capwatch instances on the same store out.
        async with self._polling.setdefault(name, asyncio.Lock()):
            with self.store.account_lock(name) as taken:
                if not taken:
                    return PollResult(
                        name, PollOutcome.OK, message="polled by another instance", skipped=True
                    )
                return await self._poll_locked(rt, attempts=attempts)

    async def poll_now(self, name: str) -> PollResult:
        """A person's "Poll now": never more often than the provider allows (the last result is
        returned, saying how old it is), never past refused credentials, one quick attempt,
        and presses that overlap share one poll."""
        rt = self.runtime(name)
        last = self._last.get(name)
        if last is not None:
            age = (self.clock() - last[0]).total_seconds()
            wait = rt.provider.min_interval - age
            if wait > 0:
                return replace(
                    last[1],
                    skipped=True,
                    message=(
                        f"polled {age:.0f} s ago; {rt.account.provider} allows one poll every "
                        f"{rt.provider.min_interval:.0f} s (next in {wait:.0f} s): "
                        f"that result: {last[1].message or last[1].outcome.value}"
                    ),
                )
        task = self._now_tasks.get(name)
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(
                self.poll_account(name, force=False, attempts=1)
            )
            self._now_tasks[name] = task
        return await asyncio.shield(task)

    async def _poll_locked(self, rt: AccountRuntime, *, attempts: int | None = None) -> PollResult:
        started = self.clock()
        result = await self._poll_once(rt, attempts or self.retry_attempts)
        if not result.skipped:
            self._last[rt.account.name] = (started, result)
            self.poll_counts[(rt.account.name, result.outcome.value)] += 1
        return result

    def last_polls(self) -> dict[str, datetime]:
        """When this process last polled each account (skipped polls aside)."""
        return {name: at for name, (at, _result) in self._last.items()}

    async def _poll_once(self, rt: AccountRuntime, attempts: int) -> PollResult:
        name = rt.account.name
        started_at = self.clock()
        t0 = time.monotonic()
        try:
            snapshot = await self._fetch(rt, attempts)
            if snapshot.unlimited and snapshot.used_bytes is None and not snapshot.counters:
                return await self._no_meter(rt, started_at, t0)
            record = await asyncio.to_thread(self._to_record, rt, snapshot, started_at, t0)
            stored = await asyncio.to_thread(self.store.record_poll, record)
        except Exception as exc:
            return await self._failed(rt, exc, started_at, t0)
        self._backoff.pop(name, None)
        self.store_failures, self.last_store_error = 0, None
        await self._after_success(rt)
        return PollResult(
            name,
            PollOutcome.OK,
            reading=record.reading,
            stored=stored,
            message=record.log.message if record.log else None,
            duration_s=time.monotonic() - t0,
        )

    async def _no_meter(self, rt: AccountRuntime, started_at: datetime, t0: float) -> PollResult:
        """An unlimited plan whose ISP keeps no meter: a successful poll with nothing to store."""
        message = f"{NO_METER_MESSAGE} (measure it locally with a router or host meter)"
        entry = PollLogEntry(
            account=rt.account.name,
            started_at=started_at,
            duration_s=time.monotonic() - t0,
            outcome=PollOutcome.OK,
            message=message,
        )
        await asyncio.to_thread(self.store.log_poll, entry)
        self._backoff.pop(rt.account.name, None)
        return PollResult(
            rt.account.name, PollOutcome.OK, message=message, duration_s=entry.duration_s
        )

    async def _fetch(self, rt: AccountRuntime, attempts: int) -> Snapshot:
        from tenacity import (
            AsyncRetrying,
            retry_if_exception,
            stop_after_attempt,
            wait_exponential,
        )

        async with self._client(rt) as client:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(is_retryable),
                stop=stop_after_attempt(max(attempts, 1)),
                wait=wait_exponential(multiplier=self.retry_wait_s, max=30),
                reraise=True,
            ):
                with attempt:
                    return await rt.provider.fetch(client)
        raise AssertionError("unreachable")  # pragma: no cover

    def _client(self, rt: AccountRuntime) -> httpx.AsyncClient:
        import httpx

        if self.client_factory is not None:
            return self.client_factory()
        if self._tls is None:
            # One verifying TLS context for every poll: building it loads the CA bundle, about
            # 20 ms of CPU here (several times that on a Pi), once a minute per account.
            self._tls = httpx.create_ssl_context()
        return httpx.AsyncClient(
            verify=self._tls,
            timeout=httpx.Timeout(30.0, connect=10.0),
            headers={"User-Agent": rt.context.user_agent},
            follow_redirects=False,
        )

    def _to_record(
        self, rt: AccountRuntime, snap: Snapshot, started_at: datetime, t0: float
    ) -> PollRecord:
        from capwatch.service.readings import snapshot_to_reading

        parts = snapshot_to_reading(
            rt, snap, self.store, now=self.clock(), tolerance=FUTURE_TOLERANCE
        )
        entry = PollLogEntry(
            account=rt.account.name,
            started_at=started_at,
            duration_s=time.monotonic() - t0,
            outcome=PollOutcome.OK,
            message=parts.note(rt.rule.timezone),
            reading_stored=True,
        )
        return PollRecord(
            reading=parts.reading,
            cycle_end=parts.cycle.end,
            counter_states=parts.states,
            raw_counters=parts.raw_counters,
            devices=snap.devices,
            history=snap.history,
            payload=snap.raw,
            log=entry,
            allowance_usage=parts.allowance_usage,
        )

    async def _failed(
        self, rt: AccountRuntime, exc: Exception, started_at: datetime, t0: float
    ) -> PollResult:
        name = rt.account.name
        outcome = classify(exc)
        message = redact(str(exc)) or type(exc).__name__
        if not isinstance(exc, CapwatchError):
            log.exception("internal error polling %s", name, extra={"account": name})
            message = f"internal error: {type(exc).__name__}: {message}"
        else:
            log.warning("poll of %s failed: %s", name, message, extra={"account": name})
        if isinstance(exc, StoreFull):
            # Nothing can be written: not the poll's log line, the alerts' states or the
            # outbox either, so the failure is counted and said once (the warning above).
            self._store_failed(exc, said=True)
            self._note_failure(name, exc)
            return PollResult(name, outcome, message=message, duration_s=time.monotonic() - t0)
        payload = None
        if isinstance(exc, Implausible) and isinstance(exc.payload, Mapping):
            payload = exc.payload  # the snapshot's raw: secret-free, as on a success
        elif isinstance(exc, BadResponse) and exc.payload is not None:
            payload = refused_reply(rt.account.provider, exc.payload, message)
            log.debug("bad payload from %s kept for diagnosis", name)
        entry = PollLogEntry(
            account=name,
            started_at=started_at,
            duration_s=time.monotonic() - t0,
            outcome=outcome,
            error_class=type(exc).__name__,
            message=message[:500],
        )
        await asyncio.to_thread(self._log_failure, entry, payload)
        self._note_failure(name, exc)
        # Alerts are evaluated after failures too: the stale rule can only fire while polls fail.
        await self._after_success(rt, auth_required=await self._auth_flag(name, exc))
        return PollResult(name, outcome, message=message, duration_s=entry.duration_s)

    def _log_failure(self, entry: PollLogEntry, payload: Mapping[str, Any] | None) -> None:
        """The failure's poll log line, with the refused payload archived where it can be; a
        store that cannot be written (a full disk) is counted, never raised to the caller."""
        try:
            try:
                self.store.log_poll(entry, payload)
            except StoreFull:
                raise
            except CapwatchError:
                log.warning("could not archive the refused payload of %s", entry.account)
                self.store.log_poll(entry)
        except StoreError as exc:
            self._store_failed(exc)

    def _store_failed(self, exc: StoreError, *, said: bool = False) -> None:
        """Count a write the store refused; ``said``: the caller has already logged it."""
        self.store_failures += 1
        self.last_store_error = redact(str(exc))
        if not said:
            log.error("the store cannot be written: %s", self.last_store_error)

    async def _auth_flag(self, name: str, exc: Exception) -> bool:
        """Auth is required after an auth failure; other failures keep its current state."""
        if isinstance(exc, AuthRequired):
            from capwatch.service.views import note_refused

            rt = self.runtime(name)
            config = Path(self.settings.source_path) if self.settings.source_path else None
            try:
                await asyncio.to_thread(note_refused, rt.context.account_dir, config)
            except OSError as err:
                log.warning("could not note the refused login of %s: %s", name, err)
            return True
        states = await asyncio.to_thread(self.store.alert_states, name)
        return any(s.active for s in states.values() if s.rule == "auth")

    def _note_failure(self, name: str, exc: Exception) -> None:
        state = self._backoff.setdefault(name, _Backoff())
        state.failures += 1
        wait = 0.0
        if isinstance(exc, RateLimited) and exc.retry_after:
            wait = exc.retry_after
        elif isinstance(exc, BotBlocked):
            wait = BOT_BLOCK_BACKOFF_S
        state.not_before = time.monotonic() + wait

    async def _after_success(self, rt: AccountRuntime, *, auth_required: bool = False) -> None:
        """Evaluate alerts and hand the summary to exporters; failures here are logged only."""
        from capwatch.service.alerting import evaluate_and_queue

        try:
            summary = await asyncio.to_thread(
                account_summary, self.settings, self.store, rt.account.name, self.clock()
            )
            await asyncio.to_thread(
                evaluate_and_queue, self.settings, self.store, rt, summary, auth_required
            )
        except StoreFull as exc:
            self._store_failed(exc)
            return
        except Exception:
            log.exception("alert evaluation failed for %s", rt.account.name)
            return
        if self.exporters:
            self._spawn_export(rt.account.name, summary)

    def _spawn_export(self, name: str, summary: Any) -> None:
        task = asyncio.get_running_loop().create_task(self._export(name, summary))
        self._export_tasks.add(task)
        task.add_done_callback(self._export_tasks.discard)

    async def _export(self, name: str, summary: Any) -> None:
        from capwatch.service.devices import named_devices

        # The devices the user named, by key: a bounded set, and a series survives a rename.
        # Not exporting on a failure: an empty list would retire every device's sensor.
        try:
            named = await asyncio.to_thread(
                named_devices, self.settings, self.store, name, self.clock()
            )
        except Exception:
            log.exception("reading the named devices of %s failed; not exported", name)
            return
        devices = {name: named}
        for exporter in self.exporters:
            t0 = time.monotonic()
            try:
                await asyncio.wait_for(exporter.publish([summary], devices), timeout=30)
                self.export_counts[(exporter.name, "ok")] += 1
            except Exception as exc:
                self.export_counts[(exporter.name, "failed")] += 1
                message = redact(str(exc)) or type(exc).__name__
                log.warning("exporter %s failed: %s", exporter.name, message)
                entry = PollLogEntry(
                    account=name,
                    started_at=self.clock(),
                    duration_s=time.monotonic() - t0,
                    outcome=PollOutcome.SERVER,
                    error_class=f"export:{exporter.name}",
                    message=message[:500],
                )
                await asyncio.to_thread(self.store.log_poll, entry)

    async def drain_exports(self) -> None:
        """Wait for exports in flight (used at shutdown and in tests)."""
        if self._export_tasks:
            await asyncio.gather(*self._export_tasks, return_exceptions=True)


def poll_error_exit_code(results: Sequence[PollResult]) -> int:
    """Exit status for `capwatch poll`: 0 if every polled account produced a reading."""
    failed = [r for r in results if not r.ok and not (r.skipped and r.outcome is PollOutcome.OK)]
    return 1 if failed else 0


__all__ = ["Coordinator", "PollResult", "ProviderError", "poll_error_exit_code"]
