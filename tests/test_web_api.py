"""The JSON API and pages in-process: shapes, validation, poll now, CSRF, auth, serve refusal."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient

from capwatch.units import format_bytes
from tests.fixtures.web import WEB_TOKEN, WebServer


def test_accounts_lists_every_account_with_its_numbers(web_app: WebServer) -> None:
    client = TestClient(base_url="http://127.0.0.1", app=web_app.app)
    body = client.get("/api/v1/accounts").json()
    by_name = {a["account"]: a for a in body}
    assert set(by_name) == {"isp", "home"}
    latest = web_app.store.latest_reading("isp")
    assert latest is not None
    assert by_name["isp"]["used_bytes"] == latest.used_bytes
    assert by_name["isp"]["status"] == "ok"
    assert by_name["isp"]["forecast"]["low_bytes"] <= by_name["isp"]["forecast"]["high_bytes"]
    assert by_name["home"]["status"] == "new" and by_name["home"]["used_bytes"] is None


def test_burndown_series_end_at_the_latest_reading(web_app: WebServer) -> None:
    client = TestClient(base_url="http://127.0.0.1", app=web_app.app)
    bd = client.get("/api/v1/accounts/isp/burndown", params={"points": 50}).json()
    summary = client.get("/api/v1/accounts/isp").json()
    assert 2 <= len(bd["used"]) <= 50
    assert bd["used"][-1]["bytes"] == summary["used_bytes"]
    assert bd["cap_bytes"] == summary["cap_bytes"]
    assert bd["prorata"][-1]["bytes"] == bd["cap_bytes"]
    assert bd["alarm"][-1]["bytes"] == int(bd["cap_bytes"] * bd["alarm_percent"] / 100)
    assert bd["forecast"]["at"] == summary["cycle"]["end"]
    assert sum(d["used_bytes"] for d in bd["daily"]) == summary["used_bytes"]


def test_readings_are_downsampled_keeping_both_ends(web_app: WebServer) -> None:
    client = TestClient(base_url="http://127.0.0.1", app=web_app.app)
    everything = web_app.store.readings("isp")
    got = client.get("/api/v1/accounts/isp/readings", params={"points": 10}).json()
    assert len(got) == 10
    assert got[0]["used_bytes"] == everything[0].used_bytes
    assert got[-1]["used_bytes"] == everything[-1].used_bytes


def test_readings_range_needs_an_offset(web_app: WebServer) -> None:
    client = TestClient(base_url="http://127.0.0.1", app=web_app.app)
    bad = client.get("/api/v1/accounts/isp/readings", params={"start": "2026-01-01T00:00:00"})
    assert bad.status_code == 422
    assert [(e["loc"], e["type"]) for e in bad.json()["detail"]] == [
        (["query", "start"], "timezone_aware")
    ]
    ok = client.get(
        "/api/v1/accounts/isp/readings",
        params={"start": "2026-01-01T00:00:00+00:00", "end": "2026-01-01T00:00:00Z"},
    )
    assert ok.status_code == 200 and ok.json() == []


def test_unknown_account_is_404_everywhere(web_app: WebServer) -> None:
    client = TestClient(base_url="http://127.0.0.1", app=web_app.app)
    for path in ("/api/v1/accounts/nope", "/api/v1/accounts/nope/burndown", "/accounts/nope"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "nope" in (r.json()["detail"] if path.startswith("/api/") else r.text)


def test_cycles_devices_polls_alerts(web_app: WebServer) -> None:
    client = TestClient(base_url="http://127.0.0.1", app=web_app.app)
    cycles = client.get("/api/v1/accounts/isp/cycles").json()
    assert len(cycles) == 4
    assert cycles[0]["start"] > cycles[1]["start"]
    devices = client.get("/api/v1/accounts/isp/devices").json()
    assert [d["name"] for d in devices] == ["Living room TV", "Laptop"]
    polls = client.get("/api/v1/accounts/isp/polls").json()
    assert {p["error_class"] for p in polls} == {None, "CannotConnect"}
    assert client.get("/api/v1/accounts/isp/alerts").json() == []


def test_poll_now_needs_the_csrf_header_and_adds_a_reading(web_app: WebServer) -> None:
    client = TestClient(base_url="http://127.0.0.1", app=web_app.app)
    before = len(web_app.store.readings("isp"))
    refused = client.post("/api/v1/accounts/isp/poll")
    assert refused.status_code == 403
    assert len(web_app.store.readings("isp")) == before
    done = client.post("/api/v1/accounts/isp/poll", headers={"X-Capwatch-Request": "1"})
    assert done.status_code == 200, done.text
    assert done.json()["stored"] is True
    assert len(web_app.store.readings("isp")) == before + 1
    assert done.json()["reading"]["used_bytes"] == web_app.meter.used_bytes
    metrics = client.get("/metrics").text  # the serving process counts its polls
    assert 'capwatch_polls_total{account="isp",outcome="ok"} 1.0' in metrics
    assert 'capwatch_last_poll_timestamp_seconds{account="isp"}' in metrics


def test_pages_show_the_api_numbers(web_app: WebServer) -> None:
    client = TestClient(base_url="http://127.0.0.1", app=web_app.app)
    isp = client.get("/api/v1/accounts/isp").json()
    overview = client.get("/").text
    assert f'data-bytes="{isp["used_bytes"]}">{format_bytes(isp["used_bytes"])}' in overview
    page = client.get("/accounts/isp").text
    assert 'id="poll-now"' in page and 'src="/static/chart.js"' in page
    # The seeded netflow devices, renamed, in "Who used it" (which replaces the ISP's list).
    assert "Living-room TV" in page and "CannotConnect" in page
    assert f'data-bytes="{isp["forecast"]["expected_bytes"]}"' in page
    js = client.get("/static/chart.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "http://" not in js.text.replace("http://www.w3.org/2000/svg", "")


def test_token_guards_everything_but_healthz(web_app_token: WebServer) -> None:
    client = TestClient(base_url="http://127.0.0.1", app=web_app_token.app)
    assert client.get("/healthz").status_code == 200
    for path in ("/", "/accounts/isp", "/api/v1/accounts", "/static/chart.js", "/metrics"):
        assert client.get(path).status_code == 401, path
    wrong = client.get("/api/v1/accounts", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    auth = {"Authorization": f"Bearer {WEB_TOKEN}"}
    seen = []
    for path in ("/", "/accounts/isp", "/api/v1/accounts", "/api/v1/openapi.json", "/metrics"):
        r = client.get(path, headers=auth)
        assert r.status_code == 200, path
        seen.append(r.text + str(r.headers))
    seen.append(client.get("/api/v1/accounts").text)
    assert not any(WEB_TOKEN in text for text in seen)


def test_serve_refuses_open_bind_without_auth(tmp_path: Path) -> None:
    from capwatch.cli import cli

    config = tmp_path / "capwatch.toml"
    config.write_text(f'data_dir = "{tmp_path / "data"}"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "0.0.0.0" in lines[0] and "auth_token" in lines[0]
