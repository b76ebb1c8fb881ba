"""`capwatch check-response` and the support bundle it reads back (issue 17)."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from capwatch.cli import cli
from tests.fixtures.common import FakeClock

DATA = Path(__file__).resolve().parent / "data" / "providers"
NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)


def run(*args: str, stdin: str | None = None, config: Path | None = None) -> tuple[int, str, str]:
    prefix = ["--config", str(config)] if config else []
    result = CliRunner().invoke(
        cli, [*prefix, *args], obj={"clock": FakeClock(NOW, tick=timedelta(0))}, input=stdin
    )
    return result.exit_code, result.stdout, result.stderr


def test_startca_reply_shows_what_a_poll_would_store() -> None:
    code, out, err = run("check-response", "startca", str(DATA / "startca/usage_ok.xml"), "--json")
    assert code == 0, err
    data = json.loads(out)
    reading = data["reading"]
    assert reading["source"] == "startca" and reading["used_bytes"] > 0
    assert reading["cycle_start"] == "2026-11-01T04:00:00Z"  # Toronto's calendar month
    assert data["cycle_end"] == "2026-12-01T05:00:00Z"
    assert set(reading) == {
        "account",
        "observed_at",
        "cycle_start",
        "used_bytes",
        "cap_bytes",
        "source",
    }  # fmt: skip  (the shape of `poll --json`'s reading)


def test_a_reply_it_cannot_read_is_one_line_and_exit_2() -> None:
    code, out, err = run("check-response", "startca", str(DATA / "startca/usage_missing_used.xml"))
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "<used><download> missing" in err


def test_stdin_and_xfinity_usage_json() -> None:
    body = (DATA / "xfinity/json_limited.json").read_text()
    code, out, err = run(
        "check-response", "xfinity", "-", "--timezone", "America/New_York", stdin=body
    )
    assert code == 0, err
    assert "Used" in out and "Cap" in out and "Earlier cycles" in out


def test_providers_without_a_reply_and_http_json_without_account_say_so() -> None:
    code, _, err = run("check-response", "host", "x.json")
    assert code == 2 and "reads no saved reply" in err
    code, _, err = run("check-response", "http_json", "x.json")
    assert code == 2 and "--account" in err
    code, _, err = run("check-response", "nope", "x.json")
    assert code == 2 and "unknown provider 'nope'" in err


def test_a_diagnostics_bundle_is_read_back(tmp_path: Path) -> None:
    from capwatch.diagnostics import save_bundle

    page = (DATA / "xfinity/login_page.html").read_text()
    bundle = save_bundle(
        tmp_path, account="home", provider="xfinity", error="AuthRequired", url_path="/usage",
        status=200, html=page, screenshot=None, keep=5,
    )  # fmt: skip
    code, _, err = run("check-response", "xfinity", str(bundle))
    assert code == 2 and "sign-in page" in err  # read with the provider's own page classifier
    code, _, err = run("check-response", "startca", str(bundle))
    assert code == 2 and "from 'xfinity', not 'startca'" in err


async def test_a_refused_reply_goes_from_a_poll_to_the_support_bundle_and_back(
    tmp_path: Path,
) -> None:
    """A poll refuses Start.ca's reply; the archive keeps it as received; `doctor --bundle`
    puts it in the zip; `check-response` reads it back (from the zip and from the file)."""
    from capwatch.config import load_settings
    from capwatch.service.coordinator import Coordinator
    from capwatch.store import open_store
    from tests.fakes import startca as fake
    from tests.fakes._server import serve

    bad = (DATA / "startca/usage_missing_used.xml").read_text()
    state = fake.StartcaState(body=bad)
    with serve(fake.make_app(state)) as url:
        config = tmp_path / "capwatch.toml"
        config.write_text(
            f'data_dir = "{tmp_path / "data"}"\n'
            '[[accounts]]\nname = "sc"\nprovider = "startca"\n'
            f'options = {{ api_key = "{fake.API_KEY}", base_url = "{url}", cap_gb = 400 }}\n'
        )
        settings = load_settings(config)
        store = open_store(settings.resolved_database_url())
        try:
            coordinator = Coordinator(settings, store, clock=FakeClock(NOW))
            (result,) = await coordinator.poll_all()
            assert result.outcome.value == "bad_response"
        finally:
            store.close()
    target = tmp_path / "support.zip"
    code, out, err = run("doctor", "--bundle", str(target), config=config)
    assert target.is_file() and "1 refused reply" in out, (out, err)
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert "accounts/sc/reply-1.json" in names and "README.txt" in names
        reply = json.loads(archive.read("accounts/sc/reply-1.json"))
        everything = b"".join(archive.read(n) for n in names)
    assert reply["capwatch_reply"] == bad and reply["provider"] == "startca"
    assert fake.API_KEY.encode() not in everything
    code, _, err = run("check-response", "startca", str(target))
    assert code == 2 and "<used><download> missing" in err and "reply-1.json" in err
    extracted = tmp_path / "reply-1.json"
    extracted.write_text(json.dumps(reply))
    code, _, err = run("check-response", "startca", str(extracted))
    assert code == 2 and "<used><download> missing" in err


REAL = Path(__file__).resolve().parent / "data" / "real"


def test_xfinity_graphql_and_usage_json_replies_give_one_cap() -> None:
    """Issue 17 must show: real replies of the two shapes for the 1.2 TB plan, read by
    `check-response xfinity FILE --json`, give the same cap within "1.23 TB"'s rounding."""
    caps = []
    for name in (
        "graphql_usage_2025-09_limited_tb_cap.json",
        "usage_json_2025-09_twelve_months_devices_elided.json",
    ):
        code, out, err = run(
            "check-response", "xfinity", str(REAL / "xfinity" / name), "--json",
            "--timezone", "America/New_York",
        )  # fmt: skip
        assert code == 0, err
        caps.append(json.loads(out)["reading"]["cap_bytes"])
    assert caps == [1230 * 10**9, 1229 * 10**9]
    assert abs(caps[0] - caps[1]) <= 5 * 10**9


def test_startca_real_replies_capped_and_unlimited() -> None:
    code, out, err = run(
        "check-response", "startca", str(REAL / "startca/usage_capped_ha.xml"), "-o", "cap_gb=400"
    )
    assert code == 0, err
    assert "305 GB" in out and "400 GB" in out
    code, out, err = run(
        "check-response", "startca", str(REAL / "startca/usage_unlimited_tekuila.xml"),
        "-o", "unlimited=true", "--json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["unlimited"] is True and data["reading"]["cap_bytes"] is None
    assert data["reading"]["used_bytes"] == 239_743_945_534  # the total: <used> says 0
    code, _, err = run(
        "check-response", "startca", str(REAL / "startca/usage_capped_ha.xml"), "-o", "cap_gb=-4"
    )
    assert code == 2 and "-o cap_gb" in err
