"""An unlimited Xfinity plan without a meter (404) is a successful poll that stores nothing."""

from __future__ import annotations

from pathlib import Path

from capwatch.config import load_settings
from capwatch.models import PollOutcome
from capwatch.providers.xfinity.session import StoredCookie, XfinitySession, save_session
from capwatch.service.coordinator import Coordinator
from capwatch.store import open_store
from tests.fakes.xfinity import SESSION_COOKIE, FakeXfinityState


async def test_unlimited_without_meter_is_ok_and_stores_nothing(
    tmp_path: Path, xfinity_fake: tuple[FakeXfinityState, str]
) -> None:
    state, url = xfinity_fake
    state.unlimited_404 = True
    state.sessions["sess-value-123"] = True
    config = tmp_path / "c.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "home"\nprovider = "xfinity"\n'
        f'cap = "provider"\n[accounts.options]\nlogin_base_url = "{url}"\n'
        f'customer_base_url = "{url}"\ngraphql_url = "{url}/galileo/graphql"\n'
    )
    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    try:
        coordinator = Coordinator(settings, store)
        rt = coordinator.runtime("home")
        session_file = rt.provider.session_path  # type: ignore[attr-defined]
        cookie = StoredCookie(SESSION_COOKIE, "sess-value-123", "127.0.0.1")
        save_session(session_file, XfinitySession(cookies=(cookie,), bearer_token=None))
        result = await coordinator.poll_account("home")
        assert result.ok and not result.stored and result.reading is None
        assert "unlimited" in (result.message or "")
        assert store.readings("home") == []
        assert store.poll_log("home")[0].outcome is PollOutcome.OK
    finally:
        store.close()
