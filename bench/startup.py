"""One-shot commands side by side with the bare interpreter (issue 21's targets as ratios).

Usage (from the repo root)::

    python bench/footprint.py --ratios [--runs 10]

Starts the local Xfinity stand-in (tests/fakes/xfinity.py), signs in once with the real
headless Chromium (``capwatch login xfinity --headless``) so that the session is saved, then
runs, in turn and ``--runs`` times each (interleaved, so load on the machine falls on all of them
alike), in fresh processes: ``python -c pass``, ``capwatch --help``, ``capwatch status`` and
``capwatch poll`` (Xfinity with the saved session: the usage request and one SQLite
transaction). Prints median wall and CPU time, their ratios to the interpreter's, peak RSS (GNU
time), and each target of issue 21 with whether it is met. The seed scraper (xfinity-usage with
Selenium) is measured only where it is installed; it is not on this machine's package mirrors.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
BIN = Path(sys.executable).parent


@dataclass
class Run:
    """One fresh process: wall and CPU seconds, peak RSS in MiB, exit status."""

    wall: float
    cpu: float
    rss: float
    code: int


def run_once(cmd: list[str], env: dict[str, str]) -> Run:
    """Run ``cmd`` under GNU time; CPU time is the child's user + system (from wait4)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "maxrss_kb=%M", *cmd],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    marks = [line for line in done.stderr.splitlines() if line.startswith("maxrss_kb=")]
    rss = int(marks[-1].split("=", 1)[1]) / 1024 if marks else 0.0
    return Run(wall, cpu, rss, done.returncode)


def _config(work: Path, url: str) -> Path:
    config = work / "capwatch.toml"
    config.write_text(
        f'data_dir = "{work / "data"}"\n[[accounts]]\nname = "home"\nprovider = "xfinity"\n'
        f'cap = "provider"\n[accounts.options]\nlogin_base_url = "{url}"\n'
        f'customer_base_url = "{url}"\ngraphql_url = "{url}/galileo/graphql"\n'
        'username = "jane@example.com"\npassword = { env = "BENCH_XFINITY_PASSWORD" }\n'
        "headless_login = true\n"
    )
    return config


TARGETS = {
    "capwatch --help": ("cpu ratio", 3.0),
    "capwatch status": ("cpu ratio", 5.0),
    "capwatch poll": ("wall s", 0.4),
}
POLL_RSS_TARGET = 40 * 1_000_000 / 2**20  # 40 MB, in MiB


def ratios(runs: int) -> int:
    """Measure and print the side-by-side table; 0 when every command exited 0."""
    from tests.fakes._server import serve
    from tests.fakes.xfinity import FakeXfinityState, build_app

    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
    env["BENCH_XFINITY_PASSWORD"] = PASSWORD
    env["COLUMNS"] = "80"
    capwatch = str(BIN / "capwatch")
    with (
        tempfile.TemporaryDirectory(prefix="capwatch-ratios-") as tmp,
        serve(build_app(FakeXfinityState())) as url,
    ):
        config = str(_config(Path(tmp), url))
        login = run_once(
            [capwatch, "--config", config, "login", "xfinity", "--account", "home", "--headless"],
            env,
        )
        if login.code:
            print(f"the sign-in against the stand-in failed (exit {login.code}); no poll figures")
            return 1
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "capwatch --help": [capwatch, "--help"],
            "capwatch status": [capwatch, "--config", config, "status"],
            "capwatch poll": [capwatch, "--config", config, "poll"],
        }
        results: dict[str, list[Run]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, cmd in commands.items():
                results[name].append(run_once(cmd, env))
    base = results["python -c pass"]
    base_wall = statistics.median(r.wall for r in base)
    base_cpu = statistics.median(r.cpu for r in base)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {runs} runs each, in turn")
    print("| command | wall | cpu | x interpreter (wall, cpu) | peak RSS | target | met |")
    print("|---|---|---|---|---|---|---|")
    failed = 0
    for name, rs in results.items():
        wall = statistics.median(r.wall for r in rs)
        cpu = statistics.median(r.cpu for r in rs)
        rss = max(r.rss for r in rs)
        codes = sorted({r.code for r in rs})
        failed |= any(codes)
        target, met = "", ""
        if name in TARGETS:
            kind, limit = TARGETS[name]
            value = cpu / base_cpu if kind == "cpu ratio" else wall
            target = f"<= {limit:g}x cpu" if kind == "cpu ratio" else f"<= {limit:g} s"
            ok = value <= limit
            if name == "capwatch poll":
                target += ", <= 40 MB"
                ok = ok and rss <= POLL_RSS_TARGET
            met = "yes" if ok else "no"
        exit_note = "" if codes == [0] else f" (exit {codes})"
        print(
            f"| `{name}`{exit_note} | {wall:.3f} s | {cpu:.3f} s | "
            f"{wall / base_wall:.2f}x, {cpu / base_cpu:.2f}x | {rss:.1f} MiB | {target} | {met} |"
        )
    print("seed scraper (xfinity-usage + Selenium): not installed here, not measured")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(ratios(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
