"""A minimal DevTools-protocol client: Chromium launched with its DevTools on a pipe, commands,
replies and events. :mod:`.cdp_login` drives the sign-in with it (no Node process).

Written here rather than taken from a library: the asyncio CDP clients on PyPI (pydoll,
zendriver, cdp-use) talk to ``--remote-debugging-port`` over a websocket (a TCP port on
127.0.0.1 that any local process can attach to while the browser holds the session) and
pydoll and zendriver add 17-22 MiB of imports; pydoll found no tab in Debian's headless shell.
``--remote-debugging-pipe`` is the transport Playwright itself uses: NUL-terminated JSON on
file descriptors 3 (to Chromium) and 4 (from it), a few lines of asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from typing import Any

from capwatch.providers.xfinity.browser import LoginPlan

CALL_TIMEOUT_S = 30.0
Handler = Callable[[dict[str, Any]], None]


class CdpError(Exception):
    """A DevTools call failed, timed out, or Chromium went away."""


class Connection:
    """One DevTools connection over Chromium's pipe: calls, replies and events."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        read_end: asyncio.BaseTransport,
        writer: asyncio.WriteTransport,
    ) -> None:
        self._reader, self._read_end, self._writer = reader, read_end, writer
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.handlers: dict[str, Handler] = {}
        self.closed: str | None = None
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = CALL_TIMEOUT_S,
    ) -> dict[str, Any]:
        """Send one command and return its result; CdpError on an error reply or a timeout."""
        if self.closed:
            raise CdpError(self.closed)
        msg: dict[str, Any] = {"id": next(self._ids), "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        reply = asyncio.get_running_loop().create_future()
        self._pending[msg["id"]] = reply
        self._writer.write(json.dumps(msg).encode() + b"\0")
        try:
            answer = await asyncio.wait_for(reply, timeout)
        except TimeoutError:
            raise CdpError(f"{method}: no answer within {timeout:g} s") from None
        finally:
            self._pending.pop(msg["id"], None)
        if "error" in answer:
            raise CdpError(f"{method}: {answer['error'].get('message', answer['error'])}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def _read(self) -> None:
        try:
            while True:
                msg = json.loads((await self._reader.readuntil(b"\0"))[:-1])
                if "id" in msg:
                    reply = self._pending.get(msg["id"])
                    if reply is not None and not reply.done():
                        reply.set_result(msg)
                elif handler := self.handlers.get(msg.get("method", "")):
                    handler(msg.get("params", {}))
        except Exception:  # the pipe closed (EOF), or Chromium sent what is not JSON
            pass
        self.closed = "Chromium closed the DevTools pipe"
        for reply in self._pending.values():
            if not reply.done():
                reply.set_exception(CdpError(self.closed))

    async def close(self) -> None:
        """Stop reading and close both ends of the pipe."""
        self._task.cancel()
        self._read_end.close()
        self._writer.close()
        await asyncio.sleep(0)  # the transports close their descriptors on the next turn


class Chromium:
    """A Chromium process of its own (own session and process group, temporary profile)."""

    def __init__(self, plan: LoginPlan) -> None:
        self.profile = tempfile.mkdtemp(prefix="capwatch-chromium-")
        self.args = [
            plan.executable,
            *plan.args,
            *(["--headless"] if plan.headless else []),
            f"--user-data-dir={self.profile}",
            "--remote-debugging-pipe",
            "--no-first-run",
            "--no-default-browser-check",
            "--password-store=basic",
            "about:blank",
        ]
        self.pid = 0

    async def start(self) -> Connection:
        """Launch Chromium with the DevTools pipe on its descriptors 3 and 4."""
        to_chrome, from_chrome = os.pipe(), os.pipe()
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (*to_chrome, *from_chrome)]
        for fd in (*to_chrome, *from_chrome):
            os.close(fd)
        ours_w, theirs_r, theirs_w, ours_r = ends[1], ends[0], ends[3], ends[2]
        null = os.O_RDWR
        try:
            self.pid = os.posix_spawn(
                self.args[0],
                self.args,
                dict(os.environ),
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, null, 0),
                    (os.POSIX_SPAWN_OPEN, 1, os.devnull, null, 0),
                    (os.POSIX_SPAWN_OPEN, 2, os.devnull, null, 0),
                    (os.POSIX_SPAWN_DUP2, theirs_r, 3),
                    (os.POSIX_SPAWN_DUP2, theirs_w, 4),
                ],
                setsid=True,
            )
        except OSError as exc:
            os.close(ours_r)
            os.close(ours_w)
            raise CdpError(f"cannot start {self.args[0]}: {exc}") from None
        finally:
            os.close(theirs_r)
            os.close(theirs_w)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=2**28)  # a screenshot or a page is one message
        read_end, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(ours_r, "rb", 0)
        )
        writer, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(ours_w, "wb", 0))
        return Connection(reader, read_end, writer)

    async def stop(self, conn: Connection | None, *, graceful: bool) -> None:
        """Close Chromium (Browser.close when ``graceful``), kill what is left of its process
        group, reap it and remove the profile."""
        if conn is not None:
            if graceful:
                with contextlib.suppress(CdpError):
                    await conn.call("Browser.close", timeout=5.0)
                await self._exited(5.0)
            await conn.close()
        if self.pid:
            # the leader is at most a zombie until reaped, so the group is still ours
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
            await self._exited(10.0)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.pid = 0
        shutil.rmtree(self.profile, ignore_errors=True)

    async def _exited(self, timeout: float) -> bool:
        """Whether the browser process exits within ``timeout`` seconds (left unreaped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            try:
                if os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                    return True
            except ChildProcessError:
                return True
            await asyncio.sleep(0.05)
        return False
