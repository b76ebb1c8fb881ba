"""Issue 20, second phase: every surface per allowance, from the one summary. One seeded
satellite plan (tests/fixtures/plan.py) at one instant; the API, the alerts, the exporters, the
account page and the weekly email show each allowance's figures as `status --json` has them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from capwatch.cli import cli
from capwatch.config import Settings, load_settings
from capwatch.models import CycleSummary
from capwatch.store import open_store
from capwatch.store.api import Store
from tests.fixtures.common import FakeClock
from tests.fixtures.plan import PLAN_NOW, plan_store


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CycleSummary]:
    """The seeded satellite plan (config, summary at PLAN_NOW), once for the module."""
    return plan_store(tmp_path_factory.mktemp("plan"))


@pytest.fixture
def opened(plan: tuple[Path, CycleSummary]) -> Iterator[tuple[Settings, Store]]:
    """The plan's settings and its store, open."""
    settings = load_settings(plan[0])
    store = open_store(settings.resolved_database_url())
    try:
        yield settings, store
    finally:
        store.close()


def _status_json(config: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "status", "--json"],
        obj={"clock": FakeClock(PLAN_NOW, tick=timedelta(0))},
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)[0]
    return data


def _client(settings: Settings, store: Store) -> Any:
    from fastapi.testclient import TestClient

    from capwatch.web.app import create_app

    app = create_app(settings, store, clock=lambda: PLAN_NOW)
    return TestClient(app, base_url="http://127.0.0.1")


def test_the_api_carries_the_allowances_as_status_json_does(
    plan: tuple[Path, CycleSummary], opened: tuple[Settings, Store]
) -> None:
    config, s = plan
    status = _status_json(config)["allowances"]
    assert [a["name"] for a in status] == ["anytime", "bonus-zone"]
    anytime = status[0]
    assert anytime["used_bytes"] == s.allowances[0].used_bytes > 0
    assert anytime["slowdown_mbps"] == 1.0 and status[1]["slowdown_mbps"] is None
    client = _client(*opened)
    one = client.get("/api/v1/accounts/sat").json()
    assert one["allowances"] == status
    (listed,) = client.get("/api/v1/accounts").json()
    assert listed["allowances"] == status
    spec = client.get("/api/v1/openapi.json").json()
    summary = spec["components"]["schemas"]["SummaryOut"]
    assert "allowances" in summary["required"]
    item = spec["components"]["schemas"]["AllowanceOut"]
    assert set(item["properties"]) == set(anytime)
