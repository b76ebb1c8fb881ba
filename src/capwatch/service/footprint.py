"""What the long-running daemon does to its own process to stay small on a 512 MB board.

:func:`skip_unused_modules` keeps out two modules that libraries import although capwatch never
uses them:

* ``httpx._main``: httpx's own command-line client, imported by httpx's package whenever rich
  and click are installed (they are, for capwatch's CLI); it pulls in rich and pygments, ~6 MiB.
* ``pydantic.v1``: the legacy API, imported by FastAPI only to reject v1 models; ~1.7 MiB.

A None entry in ``sys.modules`` makes their import raise ImportError, which both libraries catch
and fall back from (httpx to a stub ``main``, FastAPI to "not a v1 model").

:func:`tune_allocator` sets glibc's malloc so that freed memory goes back to the system. By
default glibc raises its mmap and trim thresholds every time a large block is freed, so the big
transient buffers of a summary (SQLite's sorter and page cache, result rows) end up on the heap
and stay resident after they are freed; and every thread that touches the store gets its own
arena. It fixes both thresholds at 128 KiB and keeps a single arena, as the ``MALLOC_*``
environment variables would. Anything the user set in the environment wins, and on other C
libraries it does nothing.

Figures for both are in BENCHMARKS.md.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from collections.abc import Mapping

log = logging.getLogger(__name__)

UNUSED_MODULES = ("httpx._main", "pydantic.v1")

# mallopt() parameter numbers from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

# name -> (mallopt parameter, value, the environment variable that overrides it)
SETTINGS: dict[str, tuple[int, int, str]] = {
    "M_ARENA_MAX": (M_ARENA_MAX, 1, "MALLOC_ARENA_MAX"),
    "M_MMAP_THRESHOLD": (M_MMAP_THRESHOLD, 128 * 1024, "MALLOC_MMAP_THRESHOLD_"),
    "M_TRIM_THRESHOLD": (M_TRIM_THRESHOLD, 128 * 1024, "MALLOC_TRIM_THRESHOLD_"),
}


def skip_unused_modules() -> list[str]:
    """Mark :data:`UNUSED_MODULES` absent (unless already imported); return those marked."""
    marked = [name for name in UNUSED_MODULES if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None  # type: ignore[assignment]
    return marked


def tune_allocator(env: Mapping[str, str] | None = None) -> dict[str, int]:
    """Apply :data:`SETTINGS` through glibc's ``mallopt``; return what was applied.

    Call it before the daemon starts its threads. Settings given in the environment (the
    ``MALLOC_*`` variables, or any ``glibc.malloc`` tunable) are left alone.
    """
    env = os.environ if env is None else env
    if not sys.platform.startswith("linux") or "glibc.malloc." in env.get("GLIBC_TUNABLES", ""):
        return {}
    libc = _glibc()
    if libc is None:
        return {}
    applied: dict[str, int] = {}
    for name, (param, value, variable) in SETTINGS.items():
        if variable in env:
            continue
        if libc.mallopt(ctypes.c_int(param), ctypes.c_int(value)) == 1:
            applied[name] = value
    log.debug("malloc settings: %s", applied)
    return applied


def _glibc() -> ctypes.CDLL | None:
    """The process's glibc, or None (musl and others have no such mallopt parameters)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        version = libc.gnu_get_libc_version  # glibc only
    except (OSError, AttributeError, TypeError):
        return None
    version.restype = ctypes.c_char_p
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    libc.mallopt.restype = ctypes.c_int
    return libc
