"""A fake ISP meter speaking plain JSON, with injectable faults (for pipeline and soak tests).

``GET /usage`` answers ``{"used_bytes": N, "cap_bytes": C, "observed_at": ISO}``. Faults are
queued on the app's ``state.faults`` (consumed one per request) or drawn at ``state.fault_rate``
from ``state.fault_kinds``: ``500``, ``503``, ``timeout``, ``blank``, ``html``, ``truncated``,
``login``, ``429``, ``401``, ``stale`` (repeat the previous answer), ``backwards`` (a lower value
than before, as a meter corrected at rollover), ``negative``.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

FAULTS = (
    "500",
    "503",
    "timeout",
    "blank",
    "html",
    "truncated",
    "login",
    "429",
    "stale",
    "backwards",
)


@dataclass
class MeterState:
    """What the fake meter serves and which faults it injects."""

    used_bytes: int = 10 * 10**9
    step_bytes: int = 10**9
    cap_bytes: int = 1229 * 10**9
    faults: deque[str] = field(default_factory=deque)
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = FAULTS
    timeout_s: float = 5.0
    seed: int = 1
    requests: int = 0
    served: list[dict[str, Any]] = field(default_factory=list)
    last: dict[str, Any] | None = None
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def next_fault(self) -> str | None:
        """The fault for this request, if any."""
        if self.faults:
            return self.faults.popleft()
        if self.fault_rate and self.rng.random() < self.fault_rate:
            return self.rng.choice(self.fault_kinds)
        return None

    def good(self) -> dict[str, Any]:
        """A fresh, correct answer (usage grows by step each time)."""
        self.used_bytes += self.step_bytes
        body = {
            "used_bytes": self.used_bytes,
            "cap_bytes": self.cap_bytes,
            "observed_at": datetime.now(UTC).isoformat(timespec="microseconds"),
        }
        self.last = body
        return body


async def _usage(request: Request) -> Response:
    state: MeterState = request.app.state.meter
    state.requests += 1
    fault = state.next_fault()
    if fault in ("500", "503", "429", "401"):
        headers = {"Retry-After": "1"} if fault == "429" else None
        return Response("error", status_code=int(fault), headers=headers)
    if fault == "timeout":
        await asyncio.sleep(state.timeout_s)
    if fault == "blank":
        return Response("", media_type="application/json")
    if fault == "html":
        return HTMLResponse("<html><body><h1>Service unavailable</h1></body></html>")
    if fault == "login":
        return HTMLResponse('<html><form id="signin"><input name="user"></form></html>')
    if fault == "truncated":
        return Response(json.dumps(state.good())[:-7], media_type="application/json")
    if fault == "stale" and state.last is not None:
        return JSONResponse(state.last)
    if fault == "backwards" and state.last is not None:
        body = dict(state.last, used_bytes=max(state.last["used_bytes"] - 5 * 10**9, 0))
        body["observed_at"] = datetime.now(UTC).isoformat(timespec="microseconds")
        return JSONResponse(body)
    if fault == "negative":
        return JSONResponse(dict(state.good(), used_bytes=-1))
    body = state.good()
    state.served.append(body)
    return JSONResponse(body)


def build(state: MeterState | None = None) -> Starlette:
    """The fake meter app."""
    app = Starlette(routes=[Route("/usage", _usage)])
    app.state.meter = state or MeterState()
    return app


def provider_options(base_url: str) -> str:
    """The TOML options table that points an http_json account at this fake."""
    return (
        f'url = "{base_url}/usage"\nused_path = "$.used_bytes"\ncap_path = "$.cap_bytes"\n'
        'observed_at_path = "$.observed_at"\nunit = "B"\n'
    )


if __name__ == "__main__":
    from tests.fakes._server import main

    main(lambda mode: build(), ["ok"])
