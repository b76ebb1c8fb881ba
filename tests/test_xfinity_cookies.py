"""Issue 23 point 11: the Xfinity session's cookies follow the browser's rules (http.cookiejar):
host-only cookies stay on their host, include-subdomains is honoured, cookies are keyed by
domain, path and name, a real browser extension's cookies.txt loads, format-1 session files
still work, and no cookie value reaches an error or a log."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from capwatch.errors import AuthRequired, InputError
from capwatch.providers.xfinity.session import (
    StoredCookie,
    XfinitySession,
    import_cookie_file,
    load_session,
    parse_cookie_text,
    save_session,
)
from capwatch.secrets import redact

REAL = Path(__file__).resolve().parent / "data" / "real" / "cookies"
EXPORT = REAL / "cookies_txt_extension_firefox_2018_amazon.txt"
NOW = datetime(2026, 11, 20, 19, 0, tzinfo=UTC).timestamp()
HOST = "customer.xfinity.com"
HEADER = "# Netscape HTTP Cookie File\n"


def _answer(url: str, *set_cookies: str) -> httpx.Response:
    return httpx.Response(
        200,
        headers=[("set-cookie", v) for v in set_cookies],
        request=httpx.Request("GET", url),
    )


def _header(session: XfinitySession, url: str) -> str | None:
    return session.cookie_header(url, now=NOW)


# --- host-only and domain cookies ------------------------------------------------------------


def test_a_host_only_cookie_is_not_sent_to_a_subdomain() -> None:
    browser = XfinitySession(cookies=(StoredCookie("s", "from-browser-1", HOST),))
    assert _header(browser, f"https://{HOST}/apis/x") == "s=from-browser-1"
    assert _header(browser, f"https://api.{HOST}/apis/x") is None
    # one set by an answer without a Domain attribute is host-only too
    rolled = XfinitySession().merged(_answer(f"https://{HOST}/", "r=rolled-value-1"), now=NOW)
    assert _header(rolled, f"https://{HOST}/") == "r=rolled-value-1"
    assert _header(rolled, f"https://api.{HOST}/") is None
    # and one a cookies.txt marks FALSE, even with a leading dot on its domain
    text = HEADER + f".{HOST}\tFALSE\t/\tFALSE\t0\tf\tfile-value-1\n"
    (cookie,) = parse_cookie_text(text, where="cookies.txt")
    assert cookie.host_only and cookie.domain == HOST
    imported = XfinitySession(cookies=(cookie,))
    assert _header(imported, f"https://{HOST}/") == "f=file-value-1"
    assert _header(imported, f"https://api.{HOST}/") is None


def test_a_domain_cookie_with_include_subdomains_is_sent_below_its_domain() -> None:
    text = HEADER + f"{HOST}\tTRUE\t/\tFALSE\t0\td\tfile-value-2\n"  # TRUE without the dot
    (cookie,) = parse_cookie_text(text, where="cookies.txt")
    assert not cookie.host_only and cookie.domain == f".{HOST}"
    session = XfinitySession(cookies=(cookie,))
    for url in (f"https://{HOST}/", f"https://api.{HOST}/v1"):
        assert _header(session, url) == "d=file-value-2", url
    assert _header(session, "https://xfinity.com/") is None
    answer = _answer(f"https://{HOST}/", "w=wide-value-1; Domain=xfinity.com; Path=/")
    wide = XfinitySession().merged(answer, now=NOW)
    assert _header(wide, "https://login.xfinity.com/") == "w=wide-value-1"
    assert _header(wide, "https://xfinity.com.evil.example/") is None


def test_an_answer_cannot_set_a_cookie_for_another_site() -> None:
    session = XfinitySession(cookies=(StoredCookie("s", "from-browser-2", HOST),))
    answer = _answer(f"https://{HOST}/", "x=stolen-value-1; Domain=evil.example")
    assert session.merged(answer, now=NOW) is session


# --- keyed by domain, path and name ----------------------------------------------------------


def test_cookies_with_one_name_on_different_paths_and_domains_are_all_kept() -> None:
    session = XfinitySession(cookies=(StoredCookie("id", "root-value-1", HOST),))
    answer = _answer(
        f"https://{HOST}/apis/csp/usage",
        "id=apis-value-1; Path=/apis",
        "id=wide-value-2; Domain=xfinity.com; Path=/",
    )
    merged = session.merged(answer, now=NOW)
    values = sorted(c.value for c in merged.cookies)
    assert values == ["apis-value-1", "root-value-1", "wide-value-2"]
    # the most specific path first, as a browser sends them
    assert _header(merged, f"https://{HOST}/apis/x").startswith("id=apis-value-1; ")  # type: ignore[union-attr]
    assert "apis-value-1" not in (_header(merged, f"https://{HOST}/") or "")
    # the same three survive the session file
    text = HEADER + (
        f".xfinity.com\tTRUE\t/\tFALSE\t0\tid\tv-domain\n"
        f"{HOST}\tFALSE\t/\tFALSE\t0\tid\tv-host\n"
        f"{HOST}\tFALSE\t/apis\tFALSE\t0\tid\tv-path\n"
    )
    assert sorted(c.value for c in parse_cookie_text(text, where="c.txt")) == [
        "v-domain",
        "v-host",
        "v-path",
    ]


def test_a_cookie_set_again_replaces_the_one_with_its_domain_path_and_name(tmp_path: Path) -> None:
    session = XfinitySession(cookies=(StoredCookie("s", "old-value-1", HOST),))
    renewed = session.merged(_answer(f"https://{HOST}/", "s=new-value-1; Path=/"), now=NOW)
    assert [c.value for c in renewed.cookies] == ["new-value-1"]
    gone = renewed.merged(
        _answer(f"https://{HOST}/", "s=x; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"), now=NOW
    )
    assert gone.cookies == ()
    path = tmp_path / "s.json"
    save_session(path, renewed)
    assert load_session(path, account="home").cookies == renewed.cookies


# --- a real export ----------------------------------------------------------------------------


def test_a_real_browser_extension_export_loads() -> None:
    cookies = parse_cookie_text(EXPORT.read_text(encoding="utf-8"), where=str(EXPORT))
    assert len(cookies) == 19
    by_name = {c.name: c for c in cookies}
    assert {n for n, c in by_name.items() if c.http_only} == {"sid", "at-main", "sess-at-main"}
    assert by_name["csm-hit"].host_only and by_name["csm-hit"].domain == "www.amazon.com"
    assert not by_name["session-id"].host_only and by_name["session-id"].domain == ".amazon.com"
    assert by_name["gw-penalty"].path == "/spa/" and by_name["sid"].secure
    assert by_name["x-amzn-dat-gui-client-v"].expires is None  # 0: a session cookie
    assert by_name["sid"].value == '"dummy-sid"'  # quotes are part of the value

    session = import_cookie_file(EXPORT, hosts=["alexa.amazon.com"], now=NOW)
    kept = {c.name for c in session.cookies}
    # alive in 2026 and sent to alexa.amazon.com; not www.amazon.com's host-only csm-hit, not
    # mozilla.org's, not the gw-* cookies that expired in 2009
    assert kept == {
        "session-id",
        "session-id-time",
        "sid",
        "ubid-main",
        "session-token",
        "x-main",
        "at-main",
        "sess-at-main",
        "csrf",
        "x-amzn-dat-gui-client-v",
    }
    header = _header(session, "https://alexa.amazon.com/api/devices") or ""
    sent = dict(pair.split("=", 1) for pair in header.split("; "))
    assert set(sent) == kept and sent["sid"] == '"dummy-sid"'
    plain = _header(session, "http://alexa.amazon.com/spa/") or ""
    assert "sid=" not in plain.replace("-sid", "")  # secure cookies need https
    assert "x-amzn-dat-gui-client-v" not in plain  # its path is /api


def test_a_headerless_cookies_txt_still_loads() -> None:
    (cookie,) = parse_cookie_text(f"{HOST}\tFALSE\t/\tTRUE\t0\ts\tno-header-1\n", where="c.txt")
    assert cookie.secure and cookie.host_only


# --- bad files and secrets --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (f"{HOST}\tFALSE\t/\tFALSE\t0\ts", "c.txt:2: expected 7 tab-separated fields, got 6"),
        (f"{HOST}\tMAYBE\t/\tFALSE\t0\ts\tv", "c.txt:2: include-subdomains (field 2) must be"),
        (f"{HOST}\tFALSE\t/\tFALSE\tsoon\ts\tv", "c.txt:2: expiry 'soon' is not a number"),
        ("\tFALSE\t/\tFALSE\t0\ts\tv", "c.txt:2: the domain (field 1) is empty"),
    ],
)
def test_a_bad_line_is_named_without_its_value(line: str, says: str) -> None:
    secret = "s3cret-cookie-value-in-a-bad-file"
    text = HEADER + line.replace("\tv", f"\t{secret}").replace("\ts\n", f"\t{secret}\n") + "\n"
    with pytest.raises(InputError) as info:
        parse_cookie_text(text, where="c.txt")
    assert str(info.value).startswith(says)
    assert secret not in str(info.value) and "\n" not in str(info.value)


def test_values_are_redacted_once_loaded_or_rolled(tmp_path: Path) -> None:
    exported = tmp_path / "cookies.txt"
    exported.write_text(HEADER + f"{HOST}\tFALSE\t/\tTRUE\t0\ts\timported-secret-77\n")
    session = import_cookie_file(exported, hosts=[HOST], now=NOW)
    rolled = session.merged(_answer(f"https://{HOST}/", "s=rolled-secret-88; Path=/"), now=NOW)
    assert [c.value for c in rolled.cookies] == ["rolled-secret-88"]
    line = "sent imported-secret-77 then rolled-secret-88"
    assert "imported-secret-77" not in redact(line) and "rolled-secret-88" not in redact(line)


# --- the session file ---------------------------------------------------------------------------


def test_a_format_1_session_file_still_works(tmp_path: Path) -> None:
    """What capwatch wrote before format 2 (no hostOnly, every cookie sent to its domain and
    below): read as it was sent, and rewritten as format 2 by the next save."""
    path = tmp_path / "xfinity-session.json"
    old = {
        "version": 1,
        "source": "browser-manual",
        "saved_at": "2026-10-01T12:00:00+00:00",
        "bearer_token": "old-bearer-token-1",
        "cookies": [
            {"name": "s", "value": "old-cookie-1", "domain": "xfinity.com", "path": "/",
             "expires": None, "secure": True, "httpOnly": True},
            {"name": "ip", "value": "old-cookie-2", "domain": "127.0.0.1", "path": "/",
             "expires": 2000000000.5, "secure": False, "httpOnly": False},
        ],
        "extra": {},
    }  # fmt: skip
    path.write_text(json.dumps(old))
    session = load_session(path, account="home")
    assert session.bearer_token == "old-bearer-token-1" and session.source == "browser-manual"
    assert _header(session, f"https://{HOST}/") == "s=old-cookie-1"
    assert _header(session, "http://127.0.0.1:8080/") == "ip=old-cookie-2"
    save_session(path, session)
    doc = json.loads(path.read_text())
    assert doc["version"] == 2
    assert {c["name"]: c["hostOnly"] for c in doc["cookies"]} == {"s": False, "ip": True}
    assert load_session(path, account="home").cookies == session.cookies


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("{not json", "JSONDecodeError"),
        ('{"version": 1}', "not a capwatch session"),
        ('{"version": 9, "cookies": []}', "format 9, from a newer capwatch"),
        ('{"version": 2, "cookies": [{"name": 1}]}', "cookies[0]: name, value and domain"),
    ],
)
def test_an_unreadable_session_file_is_named_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, body: str, why: str
) -> None:
    path = tmp_path / "xfinity-session.json"
    path.write_text(body)
    with caplog.at_level(logging.WARNING), pytest.raises(AuthRequired) as info:
        load_session(path, account="home")
    message = str(info.value)
    assert str(path) in message and why in message and "\n" not in message
    assert "capwatch login xfinity --account home" in message
    (record,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert str(path) in record.getMessage()
    assert path.read_text() == body  # left as it was, for the user to look at
