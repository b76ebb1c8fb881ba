"""Run an ASGI app (a fake ISP) on 127.0.0.1 in a background thread, or standalone.

``with serve(app) as base_url: ...`` starts uvicorn on a free port and stops it afterwards.
``main(build, argv)`` is the ``python -m tests.fakes.<isp> --port N`` entry: it prints the URL
and serves until killed.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.fixtures.common import free_port


@contextmanager
def serve(
    app: Any, *, port: int | None = None, tls: tuple[str, str] | None = None
) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a thread (HTTPS with ``tls`` = (certfile, keyfile)); yield
    its base URL; stop on exit."""
    port = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        access_log=False,
        ssl_certfile=tls[0] if tls else None,
        ssl_keyfile=tls[1] if tls else None,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"fake-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20.0
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"fake server on port {port} did not start")
        time.sleep(0.02)
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20.0)


def main(build: Callable[[str], Any], modes: list[str], argv: list[str] | None = None) -> None:
    """Standalone entry: ``--port N [--mode M]``; prints the URL, serves until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mode", default="ok", choices=modes)
    args = parser.parse_args(argv)
    port = args.port or free_port()
    print(f"http://127.0.0.1:{port}", flush=True)
    uvicorn.run(build(args.mode), host="127.0.0.1", port=port, log_level="warning")
