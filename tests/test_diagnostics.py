"""Diagnostic bundles: redaction, permissions, metadata and pruning."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from capwatch.diagnostics import list_bundles, prune, redact_html, save_bundle
from capwatch.errors import WrongPassword
from capwatch.secrets import register_secret

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJlLXZhbHVl"

PAGE = f"""<html><head><title>Sign in</title></head><body>
<form name="signin">
<input type="password" id="passwd" name="passwd" value="hunter2-typed">
<input type="hidden" name="reqId" value="req-1234567">
<input type="text" name="user" value="jane@example.com">
<input type="hidden" name="flowStep" value="password">
</form>
<script>var auth = "Bearer abcdefghijklmnop"; var t = {{"access_token": "tok-987654321"}};
var id = "{JWT}"; document.cookie = "s_sess=cookie-value-55; path=/";
var registered = "registered-secret-value";</script>
</body></html>"""

LEAKS = [
    "hunter2-typed",
    "req-1234567",
    "abcdefghijklmnop",
    "tok-987654321",
    JWT,
    "cookie-value-55",
    "registered-secret-value",
    "extra-secret-xyz",
]


@pytest.mark.parametrize("leak", LEAKS)
def test_redact_html_removes(leak: str) -> None:
    register_secret("registered-secret-value")
    out = redact_html(PAGE + "<p>extra-secret-xyz</p>", ["extra-secret-xyz"])
    assert leak not in out


def test_redact_html_keeps_what_helps_diagnosis() -> None:
    out = redact_html(PAGE)
    assert 'value="jane@example.com"' in out
    assert 'name="flowStep" value="password"' in out
    assert "<title>Sign in</title>" in out


def test_save_bundle_writes_private_redacted_files(tmp_path: Path) -> None:
    register_secret("tok-987654321")  # as a captured token is
    err = WrongPassword("xfinity: refused for tok-987654321")
    bundle = save_bundle(
        tmp_path / "diag",
        account="home",
        provider="xfinity",
        error=err,
        url_path="/login?continue=%2Foauth&code=secret-code-1",
        status=200,
        html=PAGE,
        screenshot=b"\x89PNG\r\n\x1a\nfake",
        keep=5,
        extra_secrets=["hunter2-typed"],
    )
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o700
    files = {p.name: p for p in bundle.iterdir()}
    assert set(files) == {"meta.json", "page.html", "screenshot.png"}
    for p in files.values():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
        data = p.read_bytes()
        for leak in ("hunter2-typed", "secret-code-1", "tok-987654321"):
            assert leak.encode() not in data, (p.name, leak)
    meta = json.loads(files["meta.json"].read_text())
    assert meta["url_path"] == "/login"
    assert meta["error_class"] == "WrongPassword"
    assert meta["status"] == 200 and meta["account"] == "home"
    assert meta["message"].startswith("xfinity: refused for")


def test_bundle_without_screenshot_or_html(tmp_path: Path) -> None:
    bundle = save_bundle(
        tmp_path,
        account="a",
        provider="xfinity",
        error="plain text",
        url_path="https://customer.example/apis/x?y=1",
        status=None,
        html=None,
        screenshot=None,
        keep=3,
    )
    assert {p.name for p in bundle.iterdir()} == {"meta.json"}
    assert json.loads((bundle / "meta.json").read_text())["url_path"] == "/apis/x"


def test_only_the_newest_are_kept(tmp_path: Path) -> None:
    made = [
        save_bundle(
            tmp_path,
            account="a",
            provider="xfinity",
            error=RuntimeError(str(i)),
            url_path="/",
            status=500,
            html=f"<p>{i}</p>",
            screenshot=None,
            keep=3,
        )
        for i in range(6)
    ]
    kept = list_bundles(tmp_path)
    assert kept == made[-3:]
    (tmp_path / "not-a-bundle").mkdir()
    assert prune(tmp_path, 1) == made[-3:-1]
    assert (tmp_path / "not-a-bundle").exists()
