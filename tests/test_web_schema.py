"""schemathesis against the app's OpenAPI spec, in-process: no generated request gets a 5xx.

schemathesis' own pytest plugin does not work with pytest 9 here (``from_fixture`` needs a
private pytest attribute), so each operation's strategy is driven by Hypothesis directly.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.fixtures.web import WebServer

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


def _operations(app: Any, method: str) -> list[Any]:
    spec = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _as_local(app))
    ops = [r.ok() for r in spec.get_all_operations()]
    return [op for op in ops if op.method.upper() == method]


def _fuzz(op: Any, examples: int, **fixed: Any) -> int:
    """Run ``examples`` positive and negative cases of ``op``; return how many ran."""
    ran = 0
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

        @given(case=op.as_strategy(generation_mode=mode, **fixed))
        @settings(SETTINGS, max_examples=examples)
        def check(case: Any) -> None:
            nonlocal ran
            ran += 1
            response = case.call_and_validate(checks=[not_a_server_error])
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
