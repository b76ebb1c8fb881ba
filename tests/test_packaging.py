"""The packaging as shipped: the systemd unit and the container's runtime contract.

Docker cannot run here, so the container is checked by what it runs: `capwatch serve` with the
Dockerfile's environment, and the Dockerfile's own HEALTHCHECK command against it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.common import free_port

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "packaging" / "capwatch.service"
DOCKERFILE = ROOT / "Dockerfile"
CAPWATCH = Path(sys.executable).parent / "capwatch"


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze is missing: install the Debian package systemd (make debs)")
    return subprocess.run([tool, *args], capture_output=True, text=True, check=False)


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's capwatch (the rest unchanged)."""
    text = UNIT.read_text()
    assert "ExecStart=/opt/capwatch/bin/capwatch serve\n" in text
    path = tmp_path / "capwatch.service"
    path.write_text(text.replace("/opt/capwatch/bin/capwatch", str(CAPWATCH)))
    return path


def test_systemd_unit_verifies(unit: Path) -> None:
    done = _analyze("verify", str(unit))
    ours = [line for line in done.stderr.splitlines() if "capwatch.service" in line]
    assert ours == [], ours


def test_systemd_unit_hardening_exposure_is_low(unit: Path) -> None:
    done = _analyze("security", "--offline=yes", "--no-pager", str(unit))
    found = re.search(r"Overall exposure level for capwatch\.service: ([\d.]+)", done.stdout)
    assert found, done.stdout[-1000:] + done.stderr
    assert float(found.group(1)) <= 2.0, done.stdout[-3000:]


def _dockerfile_env() -> dict[str, str]:
    """The ENV block of the Dockerfile's final stage."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.startswith("ENV "))
    return dict(item.split("=", 1) for item in shlex.split(line[4:]))


def _healthcheck() -> list[str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    line = next(ln for ln in text.splitlines() if ln.startswith("HEALTHCHECK "))
    return shlex.split(line.split(" CMD ", 1)[1])


def _container_env(tmp_path: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
    image = _dockerfile_env()
    assert image["CAPWATCH_DATA_DIR"] == "/data"
    image["CAPWATCH_DATA_DIR"] = str(tmp_path / "data")  # the /data volume
    image["CAPWATCH_CONFIG"] = str(tmp_path / "config" / "capwatch.toml")  # the mounted file
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "capwatch.toml").write_text("# the user's config: defaults\n")
    env.update(image, CAPWATCH_WEB__PORT=str(port), **extra)
    return env


def test_container_refuses_to_serve_openly_without_auth(tmp_path: Path) -> None:
    env = _container_env(tmp_path, free_port())
    assert env["CAPWATCH_WEB__HOST"] == "0.0.0.0"
    done = subprocess.run(
        [str(CAPWATCH), "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "web.auth_token" in lines[0], done.stderr


def test_container_serves_and_its_healthcheck_passes(tmp_path: Path) -> None:
    port = free_port()
    token = "container-token-0123456789abcdef"
    env = _container_env(tmp_path, port, CAPWATCH_WEB__AUTH_TOKEN=token)
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([str(CAPWATCH), "serve"], env=env, stdout=log, stderr=log)
    try:
        check = [a.replace("8485", str(port)) for a in _healthcheck()]
        assert check[0] == "python"
        check[0] = sys.executable
        deadline = time.monotonic() + 60
        while subprocess.run(check, capture_output=True, check=False).returncode != 0:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the HEALTHCHECK never passed"
            time.sleep(0.5)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/v1/accounts", timeout=5).status_code == 401
        answer = httpx.get(
            f"{base}/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert answer.status_code == 200 and answer.json()[0]["account"] == "host"
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
        log.close()
    assert (tmp_path / "data" / "capwatch.db").exists()
    assert token not in (tmp_path / "serve.log").read_text()
    # the JSON log format the image asks for
    first = (tmp_path / "serve.log").read_text().splitlines()[0]
    assert first.startswith("{") and '"level"' in first, first


def test_the_wheel_and_sdist_pass_a_maintainers_review(tmp_path: Path) -> None:
    """Issue 23 point 9: the license file, URLs and classifiers in the metadata, Jinja2 declared
    (the pages need it), the test tools a dependency group rather than a published extra, the
    templates in the wheel, nothing a run leaves behind in the sdist; the wheel installs into a
    fresh venv with its console script."""
    import tarfile
    import venv
    import zipfile

    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "-q", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    for line in (
        "License-Expression: MIT",
        "License-File: LICENSE",
        "Classifier: Typing :: Typed",
        "Classifier: Programming Language :: Python :: 3.13",
        "Project-URL: Homepage",
    ):
        assert line in meta, line
    assert re.search(r"^Requires-Dist: jinja2", meta, re.M | re.I)
    assert "Provides-Extra: test" not in meta and "pytest" not in meta
    assert "capwatch/templates/base.html" in names and "capwatch/py.typed" in names
    assert any(n.endswith("/licenses/LICENSE") for n in names)
    with tarfile.open(sdist) as t:
        members = t.getnames()
    assert any(m.endswith("/LICENSE") for m in members)
    assert not [m for m in members if "__pycache__" in m or ".pytest_cache" in m or "/.venv" in m]
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    pip = target / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True)
    assert (target / "bin" / "capwatch").is_file()
    site = next((target / "lib").glob("python3*/site-packages"))
    assert (site / "capwatch" / "templates" / "overview.html").is_file()
    # the installed console script answers --help from the kept text, without click (not
    # installed in this --no-deps venv)
    done = subprocess.run(
        [str(target / "bin" / "capwatch"), "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        check=True,
    )
    assert done.stdout.startswith("Usage: capwatch [OPTIONS] COMMAND") and "status" in done.stdout
