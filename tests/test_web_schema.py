"""schemathesis against the app's OpenAPI spec, in-process: no generated request gets a 5xx,
and every answer is one the spec declares (status, content type, body schema, headers), with
and without credentials when auth is configured.

schemathesis' own pytest plugin does not work with pytest 9 here (``from_fixture`` needs a
private pytest attribute), so each operation's strategy is driven by Hypothesis directly.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures.web import WEB_PASSWORD, WEB_TOKEN, WEB_USER, WebServer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SETTINGS = settings(
    deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)


def _as_local(app: Any) -> Any:
    """The app as reached at 127.0.0.1 (schemathesis' ASGI client names the host
    "testserver", which the server's DNS-rebinding guard rightly refuses)."""

    async def local(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = [(k, b"127.0.0.1") if k == b"host" else (k, v) for k, v in scope["headers"]]
            scope = dict(scope, headers=headers)
        await app(scope, receive, send)

    return local


def _operations(app: Any, method: str, headers: dict[str, str] | None = None) -> list[Any]:
    spec = schemathesis.openapi.from_asgi(
        "/api/v1/openapi.json", _as_local(app), headers=headers or {}
    )
    ops = [r.ok() for r in spec.get_all_operations()]
    return [op for op in ops if op.method.upper() == method]


def _fuzz(op: Any, examples: int, headers: dict[str, str] | None = None, **fixed: Any) -> int:
    """Run ``examples`` positive and negative cases of ``op`` (each sent with ``headers``)
    through every conformance check; return how many ran."""
    ran = 0
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @given(case=op.as_strategy(generation_mode=mode, **fixed))
        @settings(SETTINGS, max_examples=examples)
        def check(case: Any) -> None:
            nonlocal ran
            ran += 1
            response = case.call_and_validate(headers=headers or {}, checks=CHECKS)
            assert response.status_code < 500

        try:
            check()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise  # negative cases are impossible for operations without free parameters
    return ran


@pytest.mark.parametrize("known", [True, False], ids=["known-account", "any-name"])
def test_reads_never_fail_on_the_server(web_app: WebServer, known: bool) -> None:
    ops = _operations(web_app.app, "GET")
    assert {op.path for op in ops} >= {"/api/v1/accounts", "/api/v1/accounts/{name}/burndown"}
    for op in ops:
        fixed = {"path_parameters": {"name": "isp"}} if known and "{name}" in op.path else {}
        assert _fuzz(op, 20, **fixed) > 0, op.label


def test_poll_now_never_fails_on_the_server(web_app: WebServer) -> None:
    (op,) = _operations(web_app.app, "POST")
    assert _fuzz(op, 4, path_parameters={"name": "isp"}) > 0
    assert _fuzz(op, 4) > 0


@pytest.mark.parametrize("credentials", ["right", "none", "wrong"])
def test_guarded_api_answers_as_declared(web_app_auth: WebServer, credentials: str) -> None:
    """With a token, basic credentials or both configured: the right credentials, none, or a
    wrong token; every answer (200s, 401s with their challenge) conforms to the spec."""
    web = web_app_auth.settings.web
    if web.auth_token is not None:
        right = f"Bearer {WEB_TOKEN}"
    else:
        right = "Basic " + base64.b64encode(f"{WEB_USER}:{WEB_PASSWORD}".encode()).decode()
    load = {"Authorization": right}
    sent = {"right": load, "none": None, "wrong": {"Authorization": "Bearer wrong-token"}}
    ops = _operations(web_app_auth.app, "GET", headers=load)
    ops += _operations(web_app_auth.app, "POST", headers=load)
    for op in ops:
        fixed = {"path_parameters": {"name": "isp"}} if "{name}" in op.path else {}
        assert _fuzz(op, 3, headers=sent[credentials], **fixed) > 0, op.label
