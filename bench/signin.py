"""Browser sign-in memory: peak PSS of ``capwatch login xfinity`` and of each part of it.

Usage (from the repo root)::

    python bench/signin.py [--runs 3] [--extra-args "--no-zygote ..."] [--node-options "..."]
                           [--browser /usr/bin/chromium-headless-shell] [--driver playwright]

Starts the local Xfinity stand-in (tests/fakes/xfinity.py: the two-step sign-in form, the OAuth
redirects, the usage API) and runs ``capwatch login xfinity --account home --headless`` against
it in a fresh process, the password given by reference (``env:``), as a user would. While it
runs it samples every process of the tree (capwatch's Python, Playwright's Node driver,
Chromium's browser, zygotes, renderers, utilities) every 50 ms and adds their proportional set
size (PSS: shared pages split between the processes sharing them, so the sum is what the tree
costs the machine). Prints the peak of that sum and the parts at that moment, per run and the
median. ``--extra-args`` adds Chromium switches to capwatch's own
(``capwatch.providers.xfinity.browser.CHROMIUM_ARGS``) and ``--node-options`` sets
``NODE_OPTIONS`` for Playwright's driver, to measure what each would save. ``--driver`` sets
``browser_driver`` (default: capwatch's, ``cdp``; ``playwright`` runs Playwright's Node driver).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


def kind(proc: object) -> str:
    """Which part of the sign-in a process is."""
    import psutil

    assert isinstance(proc, psutil.Process)
    try:
        cmd = proc.cmdline()
    except psutil.Error:
        return "gone"
    exe = os.path.basename(cmd[0]) if cmd else ""
    if "python" in exe:
        return "capwatch (python)"
    if exe == "node" or "playwright" in " ".join(cmd[:2]):
        return "playwright driver (node)"
    for arg in cmd:
        if arg.startswith("--type="):
            return f"chromium {arg[7:]}"
    return "chromium browser" if "chrom" in exe else exe


def sample(pid: int, stop: threading.Event, out: dict[str, object]) -> None:
    """Peak PSS (MiB) of the tree under ``pid`` and its parts at the peak, into ``out``."""
    import psutil

    root = psutil.Process(pid)
    peak, count = 0.0, 0
    parts: dict[str, float] = {}
    while not stop.is_set():
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            break
        now: dict[str, float] = {}
        for proc in procs:
            try:
                pss = proc.memory_full_info().pss / 2**20
            except psutil.Error:
                continue
            name = kind(proc)
            now[name] = now.get(name, 0.0) + pss
        total = sum(now.values())
        if total > peak:
            peak, parts, count = total, now, len(procs)
        time.sleep(0.05)
    out.update(peak=peak, parts=parts, processes=count)


def one_run(
    url: str, extra_args: list[str], node_options: str = "", browser: str = "", driver: str = ""
) -> dict[str, object]:
    """One ``capwatch login`` in a fresh data directory; its peak and parts."""
    with tempfile.TemporaryDirectory(prefix="capwatch-signin-") as tmp:
        work = Path(tmp)
        config = work / "capwatch.toml"
        config.write_text(
            f'data_dir = "{work / "data"}"\n[[accounts]]\nname = "home"\nprovider = "xfinity"\n'
            f'cap = "provider"\n[accounts.options]\nlogin_base_url = "{url}"\n'
            f'customer_base_url = "{url}"\ngraphql_url = "{url}/galileo/graphql"\n'
            'username = "jane@example.com"\npassword = { env = "BENCH_XFINITY_PASSWORD" }\n'
            "headless_login = true\n"
            + (f'browser_path = "{browser}"\n' if browser else "")
            + (f'browser_driver = "{driver}"\n' if driver else "")
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
        env["BENCH_XFINITY_PASSWORD"] = PASSWORD
        if node_options:
            env["NODE_OPTIONS"] = node_options
        code = "from capwatch._launch import main; main()"
        if extra_args:
            code = (
                "import capwatch.providers.xfinity.browser as b\n"
                f"b.CHROMIUM_ARGS.extend({extra_args!r})\n" + code
            )
        cmd = [sys.executable, "-c", code, "--config", str(config)]
        cmd += ["login", "xfinity", "--account", "home", "--headless"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        stop = threading.Event()
        out: dict[str, object] = {}
        watcher = threading.Thread(target=sample, args=(proc.pid, stop, out))
        watcher.start()
        stdout, stderr = proc.communicate(timeout=300)
        stop.set()
        watcher.join()
        out["seconds"] = time.perf_counter() - t0
        out["exit"] = proc.returncode
        if proc.returncode:
            out["error"] = (stderr or stdout).decode(errors="replace").strip()[-300:]
        return out


def report(label: str, runs: list[dict[str, object]]) -> None:
    """Print each run and the median."""
    print(f"\n{label}")
    for r in runs:
        parts = r["parts"]
        assert isinstance(parts, dict)
        detail = ", ".join(f"{k} {v:.0f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]))
        print(
            f"  peak {r['peak']:6.1f} MiB in {r['processes']} processes, {r['seconds']:.1f} s, "
            f"exit {r['exit']}: {detail}"
        )
        if r.get("error"):
            print(f"    {r['error']}")
    peaks = [float(r["peak"]) for r in runs]  # type: ignore[arg-type]
    median = statistics.median(peaks)
    print(f"  median peak {median:.1f} MiB ({median * 1.048576:.0f} MB)")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description="capwatch browser sign-in memory")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--extra-args", default="", help="Chromium switches to add")
    parser.add_argument("--node-options", default="", help="NODE_OPTIONS for the driver")
    parser.add_argument("--browser", default="", help="browser_path (default: capwatch's)")
    parser.add_argument("--driver", default="", help="browser_driver (default: capwatch's)")
    args = parser.parse_args(argv)
    from tests.fakes._server import serve
    from tests.fakes.xfinity import FakeXfinityState, build_app

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, runs={args.runs}")
    extra = args.extra_args.split()
    label = f"CHROMIUM_ARGS {' '.join(extra) or '(as shipped)'}; NODE_OPTIONS {args.node_options!r}"
    label += f"; browser_path {args.browser or '(default)'}"
    label += f"; browser_driver {args.driver or '(default)'}"
    with serve(build_app(FakeXfinityState())) as url:
        runs = [
            one_run(url, extra, args.node_options, args.browser, args.driver)
            for _ in range(args.runs)
        ]
        report(label, runs)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
