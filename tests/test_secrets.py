"""Secret references resolve lazily, never show their value, and are redacted in logs."""

from __future__ import annotations

import io
import json
import logging
import shlex
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from capwatch import secrets
from capwatch.errors import ConfigError, MissingExtra
from capwatch.logsetup import setup_logging
from capwatch.secrets import Secret, redact, register_secret


class _Holder(BaseModel):
    secret: Secret
    other: Secret | None = None


def _py(code: str) -> str:
    return shlex.join([sys.executable, "-c", code])


@pytest.fixture
def secrets_root_logger() -> Iterator[logging.Logger]:
    """Restore the root logger's handlers and level after a test that sets up logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)


def test_env_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CW_TEST_PW", "env-value-123")
    s = Secret.parse({"env": "CW_TEST_PW"})
    assert not s.is_literal
    assert s.reveal() == "env-value-123"
    monkeypatch.setenv("CW_TEST_PW", "changed")
    assert s.reveal() == "env-value-123"  # cached
    assert repr(s) == "Secret(env=CW_TEST_PW)" == str(s)


def test_missing_env_names_reference_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CW_TEST_MISSING", raising=False)
    with pytest.raises(ConfigError) as info:
        Secret.parse({"env": "CW_TEST_MISSING"}).reveal()
    assert str(info.value) == "secret env=CW_TEST_MISSING: environment variable is not set"


def test_file_reference_strips_newline_and_expands_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "pw").write_text("file-secret-42\n", encoding="utf-8")
    assert Secret.parse({"file": "~/pw"}).reveal() == "file-secret-42"


def test_missing_file(tmp_path: Path) -> None:
    ref = str(tmp_path / "absent")
    with pytest.raises(ConfigError, match=r"^secret file=.*absent: file not found$"):
        Secret.parse({"file": ref}).reveal()


def test_command_reference() -> None:
    s = Secret.parse({"command": _py("print('  cmd-secret-77  ')")})
    assert s.reveal() == "cmd-secret-77"


def test_failing_command_hides_output() -> None:
    code = "import sys; print('leaky' + '-output-99'); sys.exit(3)"
    with pytest.raises(ConfigError) as info:
        Secret.parse({"command": _py(code)}).reveal()
    assert str(info.value).endswith("exited with status 3")
    assert "leaky-output-99" not in str(info.value)


def test_command_not_found() -> None:
    with pytest.raises(ConfigError, match="no-such-binary-cw not found"):
        Secret.parse({"command": "no-such-binary-cw --get"}).reveal()


def test_command_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "COMMAND_TIMEOUT_S", 0.3)
    with pytest.raises(ConfigError, match=r"timed out after 0\.3 s"):
        Secret.parse({"command": _py("import time; time.sleep(30)")}).reveal()


def test_keyring_missing_is_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)
    with pytest.raises(MissingExtra) as info:
        Secret.parse({"keyring": "capwatch/isp"}).reveal()
    assert info.value.extra == "keyring"


def test_keyring_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []

    def get_password(service: str, user: str) -> str | None:
        calls.append((service, user))
        return "ring-secret-5" if user == "me" else None

    fake = types.SimpleNamespace(get_password=get_password)
    monkeypatch.setitem(sys.modules, "keyring", fake)
    assert Secret.parse({"keyring": "capwatch/isp/me"}).reveal() == "ring-secret-5"
    assert calls == [("capwatch/isp", "me")]
    with pytest.raises(ConfigError, match="no such entry"):
        Secret.parse({"keyring": "capwatch/other"}).reveal()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "exactly one of env, file, command, keyring (got an empty table)"),
        ({"env": "A", "file": "B"}, "(got env, file)"),
        ({"vault": "x"}, "(got vault)"),
        ({"env": 5}, "secret reference env must be a non-empty string"),
        ({"keyring": "noslash"}, "must look like 'service/username'"),
        (12345, "(got int)"),
    ],
)
def test_bad_shapes(raw: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        Secret.parse(raw)
    assert message in str(info.value)


def test_pydantic_dump_gives_reference() -> None:
    h = _Holder(secret={"env": "X_TOKEN"}, other="literal-pw-1")  # type: ignore[arg-type]
    assert h.model_dump() == {"secret": {"env": "X_TOKEN"}, "other": "**********"}
    assert json.loads(h.model_dump_json()) == {"secret": {"env": "X_TOKEN"}, "other": "**********"}
    assert h.other is not None and h.other.is_literal and h.other.reveal() == "literal-pw-1"
    assert "literal-pw-1" not in repr(h)
    assert _Holder.model_validate(h.model_dump()).secret == h.secret


def test_from_cli() -> None:
    assert Secret.from_cli("env:XFINITY_PASSWORD") == Secret("env", "XFINITY_PASSWORD")
    assert Secret.from_cli("command:pass show isp") == Secret("command", "pass show isp")
    assert Secret.from_cli("keyring:svc/user") == Secret("keyring", "svc/user")
    assert Secret.from_cli("hunter2:x").is_literal
    assert Secret.from_cli("literal:env:X") == Secret("literal", "env:X")


def test_redact_plain_and_url_encoded() -> None:
    register_secret("p@ss w/rd!42")
    text = "login p@ss w/rd!42 then https://u:p%40ss%20w%2Frd%2142@host and p%40ss+w%2Frd%2142"
    out = redact(text)
    assert "p@ss" not in out and "p%40ss" not in out
    assert out.count("***") == 3


def test_revealed_secret_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CW_TEST_TOKEN", "tok-abcdef-998")
    Secret.parse({"env": "CW_TEST_TOKEN"}).reveal()
    assert redact("Authorization: Bearer tok-abcdef-998") == "Authorization: Bearer ***"


def test_short_values_are_not_registered() -> None:
    register_secret("ab")
    assert redact("tab cab") == "tab cab"


def test_logging_filter_hides_secret(
    monkeypatch: pytest.MonkeyPatch, secrets_root_logger: logging.Logger
) -> None:
    monkeypatch.setenv("CW_TEST_LOG_PW", "log-secret-31337")
    value = Secret.parse({"env": "CW_TEST_LOG_PW"}).reveal()
    buf = io.StringIO()
    setup_logging("text", "DEBUG", stream=buf)
    log = logging.getLogger("capwatch.test")
    log.info("posting password=%s", value, extra={"account": "home"})
    try:
        raise RuntimeError(f"server echoed {value}")
    except RuntimeError:
        log.exception("login failed")
    out = buf.getvalue()
    assert "log-secret-31337" not in out
    assert "posting password=*** account=home" in out
    assert "RuntimeError: server echoed ***" in out


def test_json_logging_one_object_per_line(
    monkeypatch: pytest.MonkeyPatch, secrets_root_logger: logging.Logger
) -> None:
    register_secret("json-secret-4242")
    buf = io.StringIO()
    setup_logging("json", "INFO", stream=buf)
    log = logging.getLogger("capwatch.jsontest")
    log.debug("hidden by level")
    log.warning("cookie json-secret-4242 expired", extra={"account": "isp", "attempt": 2})
    lines = buf.getvalue().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert obj["level"] == "WARNING" and obj["logger"] == "capwatch.jsontest"
    assert obj["msg"] == "cookie *** expired"
    assert obj["account"] == "isp" and obj["attempt"] == 2
    assert obj["ts"].endswith("+00:00")


def test_setup_logging_replaces_its_handler(secrets_root_logger: logging.Logger) -> None:
    setup_logging("text", "INFO", stream=io.StringIO())
    setup_logging("json", logging.DEBUG, stream=io.StringIO())
    ours = [h for h in secrets_root_logger.handlers if h.get_name() == "capwatch"]
    assert len(ours) == 1 and secrets_root_logger.level == logging.DEBUG
    with pytest.raises(ValueError, match="unknown log level"):
        setup_logging("text", "LOUD")


def test_scheduler_chatter_is_hidden_below_debug(secrets_root_logger: logging.Logger) -> None:
    buf = io.StringIO()
    setup_logging("text", "INFO", stream=buf)
    jobs = logging.getLogger("apscheduler.executors.default")
    jobs.info('Running job "Daemon.poll_job"')
    jobs.warning("Run time of job was missed")
    logging.getLogger("capwatch.service.daemon").info("polled home")
    lines = buf.getvalue().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "WARNING apscheduler.executors.default: Run time of job was missed",
        "INFO capwatch.service.daemon: polled home",
    ]
    setup_logging("text", "DEBUG", stream=buf)  # -vv shows everything
    jobs.info("Job executed successfully")
    assert buf.getvalue().splitlines()[-1].endswith("Job executed successfully")
