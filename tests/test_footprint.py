"""The daemon's process settings: unused modules kept out; glibc malloc tuned, env wins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from capwatch.service.footprint import SETTINGS, tune_allocator


def test_applies_every_setting_in_a_fresh_process() -> None:
    code = (
        "from capwatch.service.footprint import tune_allocator; print(sorted(tune_allocator({})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(sorted(SETTINGS))


def test_the_environment_wins() -> None:
    applied = tune_allocator({"MALLOC_ARENA_MAX": "4", "MALLOC_TRIM_THRESHOLD_": "1"})
    assert sorted(applied) == ["M_MMAP_THRESHOLD"]
    assert tune_allocator({"GLIBC_TUNABLES": "glibc.malloc.arena_max=1"}) == {}


def test_freed_large_blocks_return_to_the_system() -> None:
    """With the thresholds fixed, freeing big buffers gives their memory back (RSS falls).

    Without the settings glibc keeps all 30 MB here: its raised threshold puts the buffers on
    the heap, and the small blocks allocated after them stop the heap from shrinking."""
    code = """
from capwatch.service.footprint import tune_allocator
tune_allocator({})

def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))

blocks = [bytearray(300 * 1024) for _ in range(10)]
del blocks  # the first frees: glibc would now raise its mmap threshold without the fixed one
before = rss()
blocks = [bytearray(300 * 1024) for _ in range(100)]  # 30 MB
keep = [bytearray(100) for _ in range(1000)]  # small blocks after them pin the heap's top
peak = rss()
del blocks
print(peak - before > 25_000, rss() - before < 5_000)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_unused_modules_are_marked_absent_unless_already_loaded() -> None:
    code = (
        "import sys, httpx\nfrom capwatch.service.footprint import skip_unused_modules\n"
        "marked = skip_unused_modules()\n"
        "print(marked, sys.modules['pydantic.v1'], sys.modules['httpx._main'] is not None)\n"
        "try:\n    import pydantic.v1\nexcept ImportError:\n    print('ImportError')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # httpx (imported first) already has its CLI; pydantic.v1 is refused from then on
    assert out.stdout.split("\n")[:2] == ["['pydantic.v1'] None True", "ImportError"]


def test_serve_keeps_httpx_cli_out_even_when_the_config_loads_a_provider(tmp_path: Path) -> None:
    # Validating an http_json account imports its provider and httpx before the daemon starts:
    # the serve command must mark httpx's CLI absent first, or rich and pygments (~6 MiB) load.
    config = tmp_path / "capwatch.toml"
    config.write_text(
        '[[accounts]]\nname = "isp"\nprovider = "http_json"\ncap = "1 TB"\n'
        '[accounts.options]\nurl = "http://127.0.0.1:9/usage"\nused_path = "$.used"\n'
    )
    code = (
        "import sys\nimport capwatch.service.daemon as daemon\n"
        "async def run(settings, on_ready=None):\n"
        "    print('httpx' in sys.modules, 'rich' in sys.modules, 'pygments' in sys.modules)\n"
        "daemon.run = run\n"
        "from capwatch.cli import cli\n"
        f"cli(['--config', {str(config)!r}, 'serve'])\n"
    )
    env = {**os.environ, "CAPWATCH_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert out.stdout.split()[:3] == ["True", "False", "False"], out.stderr
