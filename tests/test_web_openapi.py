"""Issue 23 point 8: the OpenAPI spec says how this server really answers (auth, refusals,
examples), openapi-spec-validator accepts it, and a 401 challenges only what can succeed."""

from __future__ import annotations

import base64
from typing import Any

from fastapi.testclient import TestClient
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from capwatch.analysis import allowance
from capwatch.models import Cycle
from tests.fixtures.web import WEB_PASSWORD, WEB_TOKEN, WEB_USER, WebServer

PREFIX = "/api/v1/accounts"


def _client(web: WebServer) -> TestClient:
    return TestClient(base_url="http://127.0.0.1", app=web.app)


def _spec(web: WebServer) -> dict[str, Any]:
    headers = {}
    if web.settings.web.auth_token is not None:
        headers["Authorization"] = f"Bearer {WEB_TOKEN}"
    elif web.settings.web.username:
        raw = base64.b64encode(f"{WEB_USER}:{WEB_PASSWORD}".encode()).decode()
        headers["Authorization"] = f"Basic {raw}"
    r = _client(web).get("/api/v1/openapi.json", headers=headers)
    assert r.status_code == 200, r.text
    spec: dict[str, Any] = r.json()
    return spec


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, item in spec["paths"].items() for m, op in item.items()]


def _conforms(spec: dict[str, Any], schema: dict[str, Any], body: Any) -> list[str]:
    """Why ``body`` does not match ``schema`` (whose $refs point into ``spec``); [] if it does."""
    root = {"components": spec["components"], "allOf": [schema]}
    return [e.message for e in OAS31Validator(root).iter_errors(body)]


def _schemes(web: WebServer) -> set[str]:
    out = set()
    if web.settings.web.auth_token is not None:
        out.add("bearerAuth")
    if web.settings.web.username:
        out.add("basicAuth")
    return out


def test_spec_without_auth_is_valid_and_asks_for_none(web_app: WebServer) -> None:
    spec = _spec(web_app)
    validate(spec)
    assert "securitySchemes" not in spec["components"]
    for method, path, op in _operations(spec):
        assert "401" not in op["responses"] and "security" not in op, (method, path)


def test_spec_declares_the_configured_auth_on_every_guarded_route(web_app_auth: WebServer) -> None:
    spec = _spec(web_app_auth)
    validate(spec)
    schemes = spec["components"]["securitySchemes"]
    assert set(schemes) == _schemes(web_app_auth)
    assert {s["scheme"] for s in schemes.values()} <= {"bearer", "basic"}
    assert all(s["type"] == "http" for s in schemes.values())
    ops = _operations(spec)
    assert len(ops) >= 10
    for method, path, op in ops:
        if path == "/healthz":
            assert op["security"] == [] and "401" not in op["responses"]
            continue
        assert {k for req in op["security"] for k in req} == set(schemes), (method, path)
        unauthorized = op["responses"]["401"]
        assert unauthorized["headers"]["WWW-Authenticate"]["required"] is True
        schema = unauthorized["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorOut"}


def test_every_response_has_an_example_matching_its_schema(web_app_auth: WebServer) -> None:
    spec = _spec(web_app_auth)
    seen: set[str] = set()
    for method, path, op in _operations(spec):
        for status, response in op["responses"].items():
            media = response["content"]["application/json"]
            assert "example" in media, (method, path, status)
            problems = _conforms(spec, media["schema"], media["example"])
            assert problems == [], (method, path, status, problems)
            seen.add(status)
    assert seen == {"200", "401", "403", "404", "422", "503"}


def test_refusal_bodies_have_schemas(web_app: WebServer) -> None:
    spec = _spec(web_app)
    (poll,) = [op for m, p, op in _operations(spec) if m == "POST"]
    for status in ("403", "404", "503"):
        schema = poll["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorOut"}, status
    assert spec["components"]["schemas"]["ErrorOut"]["required"] == ["detail"]


def test_csrf_header_is_declared_required_and_its_absence_is_the_declared_403(
    web_app: WebServer,
) -> None:
    spec = _spec(web_app)
    op = spec["paths"][f"{PREFIX}/{{name}}/poll"]["post"]
    (header,) = [p for p in op["parameters"] if p["in"] == "header"]
    assert header["name"].lower() == "x-capwatch-request" and header["required"] is True
    assert header["schema"]["enum"] == ["1"]
    for sent in ({}, {"X-Capwatch-Request": "yes"}):
        r = _client(web_app).post(f"{PREFIX}/isp/poll", headers=sent)
        assert r.status_code == 403, r.text
        assert (
            _conforms(
                spec, op["responses"]["403"]["content"]["application/json"]["schema"], r.json()
            )
            == []
        )


def test_the_hand_raised_422_matches_the_schema_it_declares(web_app: WebServer) -> None:
    spec = _spec(web_app)
    declared = spec["paths"][f"{PREFIX}/{{name}}/readings"]["get"]["responses"]["422"]
    schema = declared["content"]["application/json"]["schema"]
    client = _client(web_app)
    for start in ("2026-11-01T00:00:00", "0001-01-01T00:00:00+05:00"):
        r = client.get(f"{PREFIX}/isp/readings", params={"start": start})
        assert r.status_code == 422, r.text
        assert _conforms(spec, schema, r.json()) == [], r.json()
        (error,) = r.json()["detail"]
        assert error["loc"] == ["query", "start"] and error["msg"].startswith("start: ")
    # FastAPI's own 422 has the same shape
    r = client.get(f"{PREFIX}/isp/readings", params={"points": 0})
    assert r.status_code == 422 and _conforms(spec, schema, r.json()) == []


def test_examples_show_one_summary(web_app: WebServer) -> None:
    """The examples agree with each other as real answers do: the summary's derived figures are
    what the analysis computes from its used, cap, cycle and instant, and every other example
    (list, burndown, readings) shows the same numbers."""
    spec = _spec(web_app)

    def example(path: str, status: str = "200") -> Any:
        op = spec["paths"][path]["get"]
        return op["responses"][status]["content"]["application/json"]["example"]

    from datetime import datetime

    s = example(f"{PREFIX}/{{name}}")
    used, cap = s["used_bytes"], s["cap_bytes"]
    now = datetime.fromisoformat(s["as_of"])
    cycle = Cycle(
        datetime.fromisoformat(s["cycle"]["start"]), datetime.fromisoformat(s["cycle"]["end"])
    )
    assert s["remaining_bytes"] == cap - used
    assert s["percent"] == round(100 * used / cap, 2)
    assert s["days_left"] == round(allowance.days_left(now, cycle), 3)
    assert s["daily_allowance_bytes"] == allowance.daily_allowance(used, cap, now, cycle)
    pace = allowance.pace(used, cap, now, cycle)
    assert pace is not None and s["pace"] == round(pace, 4)
    f = s["forecast"]
    assert f["low_bytes"] <= f["expected_bytes"] <= f["high_bytes"] and f["expected_bytes"] >= used

    (monthly,) = s["allowances"]  # the plan's one allowance counts all: the line's figures
    assert monthly["size_bytes"] == monthly["base_bytes"] + monthly["topup_bytes"]
    assert monthly["used_bytes"] == used
    assert monthly["remaining_bytes"] == monthly["size_bytes"] - used
    assert monthly["projected_bytes"] == f["expected_bytes"]
    assert example(PREFIX) == [s]
    burndown = example(f"{PREFIX}/{{name}}/burndown")
    assert burndown["cycle"] == s["cycle"] and burndown["cap_bytes"] == cap
    assert burndown["used"][-1]["bytes"] == used
    assert {k: burndown["forecast"][k] for k in ("expected_bytes", "low_bytes", "high_bytes")} == {
        k: f[k] for k in ("expected_bytes", "low_bytes", "high_bytes")
    }
    newest = example(f"{PREFIX}/{{name}}/readings")[-1]
    assert newest["used_bytes"] == used and newest["observed_at"] == s["last_reading_at"]
    alerts = example(f"{PREFIX}/{{name}}/alerts")
    assert any(a["rule"] == "projected" and a["active"] for a in alerts)  # it is heading over


CHALLENGES = {
    "token": ['Bearer realm="capwatch"'],
    "basic": ['Basic realm="capwatch", charset="UTF-8"'],
    "both": ['Bearer realm="capwatch"', 'Basic realm="capwatch", charset="UTF-8"'],
}


def test_401_challenges_only_the_schemes_that_can_succeed(web_app_auth: WebServer) -> None:
    """A token alone gets no Basic challenge (a browser would prompt for a login that cannot
    succeed); basic alone no Bearer; both configured, both."""
    schemes = _schemes(web_app_auth)
    config = "both" if len(schemes) == 2 else ("token" if "bearerAuth" in schemes else "basic")
    expected = CHALLENGES[config]
    client = _client(web_app_auth)
    for path in ("/", PREFIX, "/api/v1/openapi.json", "/metrics", "/static/chart.js"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.headers.get_list("www-authenticate") == expected, path
        assert r.json() == {"detail": "authentication required"}
    wrong = client.get(PREFIX, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    if config != "basic":
        assert wrong.headers.get_list("www-authenticate")[0] == (
            'Bearer realm="capwatch", error="invalid_token"'
        )
