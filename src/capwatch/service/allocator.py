"""glibc malloc settings for the long-running daemon, so freed memory goes back to the system.

By default glibc raises its mmap and trim thresholds every time a large block is freed, so the
big transient buffers of a summary (SQLite's sorter and page cache, result rows) end up on the
heap and stay resident after they are freed; and every thread that touches the store gets its
own arena. :func:`tune_allocator` fixes both thresholds at 128 KiB and caps the arenas at two,
as the ``MALLOC_*`` environment variables would (about 3 MiB less resident memory over a month
of one-minute readings; BENCHMARKS.md). Anything the user set in the environment wins, and on
other C libraries this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from collections.abc import Mapping

log = logging.getLogger(__name__)

# mallopt() parameter numbers from glibc's <malloc.h>
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

# name -> (mallopt parameter, value, the environment variable that overrides it)
SETTINGS: dict[str, tuple[int, int, str]] = {
    "M_ARENA_MAX": (M_ARENA_MAX, 2, "MALLOC_ARENA_MAX"),
    "M_MMAP_THRESHOLD": (M_MMAP_THRESHOLD, 128 * 1024, "MALLOC_MMAP_THRESHOLD_"),
    "M_TRIM_THRESHOLD": (M_TRIM_THRESHOLD, 128 * 1024, "MALLOC_TRIM_THRESHOLD_"),
}


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
