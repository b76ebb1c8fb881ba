"""Unlimited Xfinity plans poll OK: without a meter (404) nothing is stored; with one (policy
"unlimited") the usage is kept; either way the account shows "unlimited", never an error."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from capwatch.config import load_settings
from capwatch.models import AccountStatus, PollOutcome
from capwatch.service.coordinator import Coordinator
from capwatch.service.views import account_summary
from capwatch.store import open_store
from tests.fakes.xfinity import FakeXfinityState
from tests.fixtures.common import FakeClock
from tests.fixtures.xfinity import sign_in_fake, xfinity_account_config

MID_MONTH = datetime(2026, 11, 18, 15, tzinfo=UTC)


@pytest.mark.parametrize("plan", ["no-meter-404", "policy-unlimited"])
async def test_unlimited_plan_is_ok(
    tmp_path: Path, xfinity_fake: tuple[FakeXfinityState, str], plan: str
) -> None:
    state, url = xfinity_fake
    clock = FakeClock(MID_MONTH)
    state.clock = clock
    state.unlimited_404 = plan == "no-meter-404"
    state.policy = "unlimited" if plan == "policy-unlimited" else "limited"
    settings = load_settings(xfinity_account_config(tmp_path, url))
    store = open_store(settings.resolved_database_url())
    try:
        coordinator = Coordinator(settings, store, clock=clock)
        sign_in_fake(coordinator, state)
        for _ in range(2):
            result = await coordinator.poll_account("home")
            assert result.ok, result.message
        assert all(e.outcome is PollOutcome.OK for e in store.poll_log("home"))
        summary = account_summary(settings, store, "home", clock())
        assert summary.unlimited and summary.cap_bytes is None
        assert summary.status is AccountStatus.OK and summary.last_error is None
        states = store.alert_states("home")
        assert not any(s.active for s in states.values()), states
        if plan == "no-meter-404":
            assert result.reading is None and "unlimited" in (result.message or "")
            assert store.readings("home") == [] and summary.used_bytes is None
        else:
            assert result.reading is not None and result.reading.cap_bytes is None
            assert summary.used_bytes == 585 * 10**9
    finally:
        store.close()
