"""The memory a capwatch command cannot go below: the libraries its path has loaded.

For each command (``poll`` and ``status`` on a host account's existing store, and ``serve``
after ``--wait`` seconds), runs it in a child interpreter that, as it ends (``serve``: when the
wait is over), writes its resident memory and the names in ``sys.modules``. Then a fresh
interpreter imports those modules, leaving out capwatch's own, one top-level package after
another, and reads its resident memory after each package: what each library adds (a
standard-library module is charged to the first package that imports it), and the total, which
is the floor a command on these libraries has before any of capwatch's code or data.

    .venv/bin/python bench/import_floor.py              # poll, status, serve (75 s)
    .venv/bin/python bench/import_floor.py --wait 300 --commands serve

MiB are 2^20 bytes; the issue's MB are 10^6 (64 MB = 61.0 MiB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
RUNS = 5  # imports timed per command, and runs of the bare interpreter (medians)

# The child: dump peak RSS and the loaded modules at exit, or after ``wait`` seconds (serve).
WRAPPER = textwrap.dedent(
    """
    import atexit, json, os, resource, sys, threading, time

    out, wait, args = sys.argv[1], float(sys.argv[2]), sys.argv[3:]

    def dump():
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with open("/proc/self/status") as fh:
            now = next(int(l.split()[1]) / 1024 for l in fh if l.startswith("VmRSS"))
        mods = sorted(k for k, v in list(sys.modules.items()) if v is not None)
        with open(out, "w") as fh:
            json.dump({"peak_mib": peak, "rss_mib": now, "modules": mods}, fh)

    if wait > 0:
        def later():
            time.sleep(wait)
            dump()
            os._exit(0)
        threading.Thread(target=later, daemon=True).start()
    else:
        atexit.register(dump)
    sys.argv = ["capwatch", *args]
    from capwatch._launch import main
    main()
    """
)

# The fresh interpreter: import the modules package by package, print what each added.
IMPORTER = textwrap.dedent(
    """
    import importlib, json, sys

    def rss():
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024
        return 0.0

    names = json.load(open(sys.argv[1]))["modules"]
    groups = {}
    for name in names:
        top = name.split(".")[0]
        if top in ("capwatch", "__main__", "__mp_main__"):
            continue
        groups.setdefault(top, []).append(name)
    bare, added = rss(), {}
    # the big ones first, so that the standard library they pull in is charged to them
    first = ["sqlalchemy", "pydantic", "fastapi", "uvicorn", "httpx", "apscheduler", "click"]
    for top in [*[g for g in first if g in groups], *[g for g in groups if g not in first]]:
        before = rss()
        for name in groups[top]:
            try:
                importlib.import_module(name)
            except Exception:
                pass
        added[top] = rss() - before
    with open("/proc/self/smaps_rollup") as fh:
        pss = next(int(line.split()[1]) / 1024 for line in fh if line.startswith("Pss:"))
    import time
    cpu = time.process_time()  # the interpreter's start-up and these imports
    print(json.dumps({"bare": bare, "total": rss(), "pss": pss, "cpu": cpu, "added": added}))
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(workdir: Path, command: str, wait: float) -> dict[str, object]:
    config = workdir / "capwatch.toml"
    out = workdir / f"{command}.json"
    env = {**os.environ, "COLUMNS": "80", "PYTHONPATH": str(ROOT / "src")}
    args = ["--config", str(config), command]
    subprocess.run(
        [PY, "-c", WRAPPER, str(out), str(wait if command == "serve" else 0), *args],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=wait + 120,
        check=False,
    )
    loaded = json.loads(out.read_text())
    floors = [
        json.loads(
            subprocess.run(
                [PY, "-c", IMPORTER, str(out)], env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(RUNS)
    ]
    floors.sort(key=lambda f: f["cpu"])
    return {"command": command, **loaded, **floors[RUNS // 2]}


def bare_cpu() -> float:
    """The median CPU time of ``python -c pass``, the interpreter's own start-up."""
    times = []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([PY, "-c", "pass"], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return sorted(times)[RUNS // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", default="poll,status,serve")
    parser.add_argument("--wait", type=float, default=75.0, help="seconds serve runs")
    parser.add_argument("--top", type=int, default=8, help="libraries listed per command")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="capwatch-floor-") as tmp:
        workdir = Path(tmp)
        (workdir / "capwatch.toml").write_text(
            f'data_dir = "{workdir / "data"}"\n[web]\nport = {free_port()}\n'
            '[[accounts]]\nname = "host"\nprovider = "host"\n'
        )
        # the store made (and migrated) once first: the rows are commands on an existing store
        subprocess.run(
            [PY, "-m", "capwatch", "--config", str(workdir / "capwatch.toml"), "poll"],
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            capture_output=True,
            check=True,
        )
        results = [run(workdir, c, args.wait) for c in args.commands.split(",")]
    bare = bare_cpu()
    print(f"`python -c pass`: {bare * 1000:.0f} ms CPU (median of {RUNS})\n")
    print(
        "| command | RSS at its end (peak) | its libraries alone: RSS, PSS, CPU | of which (MiB) |"
    )
    print("|---|---|---|---|")
    for r in results:
        added = sorted(r["added"].items(), key=lambda kv: -kv[1])[: args.top]  # type: ignore[attr-defined]
        parts = ", ".join(f"{name} {mib:.1f}" for name, mib in added if mib >= 0.1)
        print(
            f"| `capwatch {r['command']}` | {r['rss_mib']:.1f} MiB ({r['peak_mib']:.1f}) "
            f"| {r['total']:.1f} MiB, PSS {r['pss']:.1f}, {r['cpu'] * 1000:.0f} ms "
            f"({r['cpu'] / bare:.1f}x the interpreter) | {parts} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
