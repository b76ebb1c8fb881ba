"""A fake ISP meter speaking plain JSON, with injectable faults (for pipeline and soak tests).

``GET /usage`` answers ``{"used_bytes": N, "cap_bytes": C, "observed_at": ISO}``. Faults are
queued on the app's ``state.faults`` (consumed one per request) or drawn at ``state.fault_rate``
from ``state.fault_kinds``: ``500``, ``503``, ``timeout``, ``blank``, ``html``, ``truncated``,
``login``, ``429``, ``401``, ``stale`` (repeat the previous answer), ``backwards`` (a lower value
than before, as a meter corrected), ``rollover`` (a new billing cycle: ``cycle_start`` moves on
and the counter goes back near zero), ``reset`` (the TCP connection is reset mid-response; needs
:func:`serve_with_resets`, which puts a small raw asyncio proxy in front of the app),
``negative``, ``echo`` (an error page that reflects the request's headers and query string,
as careless sites do: for secret-leak tests).

Every complete answer is recorded in ``state.answers`` (``observed_at`` -> ``used_bytes``) so a
soak can check that each stored reading is one the meter really gave.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    "rollover",
    "reset",
)
RESET_MARKER = b"x-fake-reset"


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
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    cycle_start: datetime | None = None
    answers: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        if self.cycle_start is None:
            self.cycle_start = self.clock()

    def next_fault(self) -> str | None:
        """The fault for this request, if any."""
        if self.faults:
            return self.faults.popleft()
        if self.fault_rate and self.rng.random() < self.fault_rate:
            return self.rng.choice(self.fault_kinds)
        return None

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a complete answer (what a correct pipeline may store) and return it."""
        self.answers[body["observed_at"]] = body["used_bytes"]
        return body

    def _stamp(self) -> str:
        return self.clock().isoformat(timespec="microseconds")

    def good(self) -> dict[str, Any]:
        """A fresh, correct answer (usage grows by step each time)."""
        self.used_bytes += self.step_bytes
        body = {
            "used_bytes": self.used_bytes,
            "cap_bytes": self.cap_bytes,
            "observed_at": self._stamp(),
            "cycle_start": self.cycle_start.isoformat(timespec="microseconds"),
        }
        self.last = body
        return body


async def _usage(request: Request) -> Response:
    state: MeterState = request.app.state.meter
    state.requests += 1
    fault = state.next_fault()
    state.counts[fault or "ok"] = state.counts.get(fault or "ok", 0) + 1
    if fault == "echo":
        seen = f"{dict(request.headers)} {request.url.query}"
        return HTMLResponse(f"<html><body><pre>bad request {seen}</pre></body></html>", 400)
    if fault == "reset":
        return Response("reset", headers={RESET_MARKER.decode(): "1"})
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
        return JSONResponse(state.answer(state.last))
    if fault == "backwards" and state.last is not None:
        body = dict(state.last, used_bytes=max(state.last["used_bytes"] - 5 * 10**9, 0))
        body["observed_at"] = state._stamp()
        return JSONResponse(state.answer(body))
    if fault == "rollover":
        state.cycle_start = state.clock()
        state.used_bytes = 0
        body = state.good()
        state.served.append(body)
        return JSONResponse(state.answer(body))
    if fault == "negative":
        return JSONResponse(dict(state.good(), used_bytes=-1))
    body = state.good()
    state.served.append(body)
    return JSONResponse(state.answer(body))


def build(state: MeterState | None = None) -> Starlette:
    """The fake meter app."""
    app = Starlette(routes=[Route("/usage", _usage)])
    app.state.meter = state or MeterState()
    return app


def provider_options(base_url: str, *, cycle: bool = False) -> str:
    """The TOML options table that points an http_json account at this fake."""
    text = (
        f'url = "{base_url}/usage"\nused_path = "$.used_bytes"\ncap_path = "$.cap_bytes"\n'
        'observed_at_path = "$.observed_at"\nunit = "B"\n'
        "min_interval_s = 0\n"  # a local fake: any rate, so tests and benches poll at will
    )
    return text + ('cycle_start_path = "$.cycle_start"\n' if cycle else "")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, watch: bool) -> None:
    """Copy bytes; when ``watch`` and a response carries the reset marker, reset the peer."""
    try:
        while data := await reader.read(65536):
            at = data.lower().find(RESET_MARKER) if watch else -1
            if at >= 0:
                writer.write(data[: max(at - 40, 12)])  # part of the status line and headers
                await writer.drain()
                sock = writer.get_extra_info("socket")
                if sock is not None:  # SO_LINGER 0: close() sends RST, not FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
                return
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def _proxy_conn(
    upstream_port: int, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
) -> None:
    try:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", upstream_port)
    except OSError:
        client_w.close()
        return
    await asyncio.gather(_pipe(client_r, up_w, watch=False), _pipe(up_r, client_w, watch=True))


@contextmanager
def serve_with_resets(state: MeterState) -> Iterator[str]:
    """Serve the meter behind a raw TCP proxy that turns ``reset`` faults into TCP resets."""
    from tests.fakes._server import serve
    from tests.fixtures.common import free_port

    with serve(build(state)) as upstream:
        upstream_port = int(upstream.rsplit(":", 1)[1])
        port = free_port()
        started = threading.Event()
        holder: dict[str, Any] = {}

        async def main() -> None:
            server = await asyncio.start_server(
                lambda r, w: _proxy_conn(upstream_port, r, w), "127.0.0.1", port
            )
            holder["loop"], holder["server"] = asyncio.get_running_loop(), server
            started.set()
            async with server:
                with contextlib.suppress(asyncio.CancelledError):
                    await server.serve_forever()

        # asyncio.run cancels and finishes the connections still open when the server stops.
        thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
        thread.start()
        if not started.wait(20):
            raise RuntimeError(f"reset proxy on port {port} did not start")
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            holder["loop"].call_soon_threadsafe(holder["server"].close)
            thread.join(timeout=20)
