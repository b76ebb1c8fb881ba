"""docs/integrations.md's examples, run (issue 23 point 7): the page cannot drift from the code.

Every fenced block of the page carries a marker (``<!-- example: NAME -->``, see
tests/fixtures/_docs.py) and CLAIMS names the test that runs it: config snippets are validated
by capwatch's own settings, the Prometheus scrape config by promtool, each PromQL line against a
real Prometheus scraping capwatch's /metrics, the Graphite targets and carbon's schema and
aggregation entries against a real carbon-cache (reading the whisper files back), the InfluxQL
statements against a real InfluxDB 1.x fed by the exporter, the line protocol against the
renderer, the MQTT subscription with the real mosquitto_sub against a real broker. Hosts and
ports are swapped for the test servers' loopback ones; the rest is the text the reader copies.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from capwatch.config import GraphiteSettings, InfluxSettings, MqttSettings, validate_text
from capwatch.exporters.graphite import GraphiteExporter, render_lines
from capwatch.exporters.influxdb import InfluxExporter, render_points
from capwatch.exporters.metrics import METRICS, TEXT_METRICS
from capwatch.models import AccountStatus, Forecast
from tests.fixtures._docs import Example, blocks, examples
from tests.fixtures._servers import AsgiThread, wait_until
from tests.fixtures.common import free_port
from tests.fixtures.exporters import AS_OF, DEVICES, make_summary

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "integrations.md"
GB = 10**9

# Each marked example and the test that runs it.
CLAIMS = {
    "mqtt-config": "test_config_examples_are_valid_settings",
    "mqtt-subscribe": "test_mosquitto_sub_example_prints_the_state",
    "ha-automation": "test_home_assistant_automation_names_real_entities",
    "prometheus-config": "test_config_examples_are_valid_settings",
    "prometheus-scrape": "test_prometheus_scrape_config_passes_promtool",
    "promql": "test_promql_examples_answer_on_a_real_prometheus",
    "graphite-config": "test_graphite_targets_match_what_carbon_stored",
    "graphite-targets": "test_graphite_targets_match_what_carbon_stored",
    "carbon-schemas": "test_carbon_keeps_hourly_points_in_the_coarse_archive",
    "carbon-aggregation": "test_carbon_keeps_hourly_points_in_the_coarse_archive",
    "whisper-fix": "test_whisper_fix_commands_set_what_the_aggregation_entries_say",
    "influxdb1-config": "test_influxql_examples_answer_on_a_real_influxdb",
    "influxdb2-config": "test_influxdb2_config_example_writes",
    "influx-lines": "test_line_protocol_example_is_what_the_exporter_renders",
    "influxql": "test_influxql_examples_answer_on_a_real_influxdb",
    "flux": "test_flux_example_names_what_the_exporter_writes",
}


def example(name: str) -> Example:
    """The marked example ``name`` of docs/integrations.md."""
    found = examples(DOC)
    assert name in found, f"{DOC.name}: no block marked <!-- example: {name} -->"
    return found[name]


def config_table(name: str, table: str, **changes: Any) -> dict[str, Any]:
    """The ``[table]`` of a TOML example, with ``changes`` (the test server's address)."""
    data = tomllib.loads(example(name).text)[table]
    assert isinstance(data, dict)
    data.update(changes)
    return data


def test_every_block_is_marked_and_run() -> None:
    found = blocks(DOC)
    unmarked = [b.where(DOC) for b in found if b.name is None]
    assert unmarked == [], f"blocks without <!-- example: NAME -->: {unmarked}"
    names = {b.name for b in found if b.name and not b.name.startswith(API_PREFIX)}
    assert names == set(CLAIMS), (names ^ set(CLAIMS), "add the example to CLAIMS")
    assert all(callable(globals().get(test)) for test in CLAIMS.values())


def test_the_metrics_table_lists_the_metrics_table() -> None:
    """The page's table of metrics has a row for each row of METRICS, with its Prometheus name."""
    text = DOC.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z_]+)` +\|[^|]+\|[^|]+\| (.*?) +\|$", text, re.M)
    documented = {key: prom for key, prom in rows}
    keys = [m.key for m in METRICS] + [m.key for m in TEXT_METRICS]
    assert sorted(documented) == sorted(keys)
    for metric in METRICS:
        if metric.prom_name:
            assert f"`{metric.prom_name}" in documented[metric.key], metric.key


@pytest.mark.parametrize("name", sorted(n for n in CLAIMS if n.endswith("-config")))
def test_config_examples_are_valid_settings(name: str) -> None:
    block = example(name)
    assert block.lang == "toml"
    settings = validate_text(block.text, DOC)
    (table,) = tomllib.loads(block.text)
    assert getattr(settings, table) is not None


def test_prometheus_scrape_config_passes_promtool(tmp_path: Path) -> None:
    import yaml

    from capwatch.config import WebSettings

    block = example("prometheus-scrape")
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: install Debian's prometheus (make debs)"
    config = tmp_path / "prometheus.yml"
    config.write_text(block.text)
    done = subprocess.run(
        [promtool, "check", "config", str(config)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (job,) = yaml.safe_load(block.text)["scrape_configs"]
    (target,) = job["static_configs"][0]["targets"]
    assert target.endswith(f":{WebSettings().port}")  # capwatch's default port


def _metrics_app(registry: Any) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from capwatch.exporters.prometheus import metrics_response

    def metrics(request: Request) -> Response:
        body, content_type = metrics_response(registry, request.headers.get("accept"))
        return Response(content=body, media_type=content_type)

    return Starlette(routes=[Route("/metrics", metrics)])


def test_promql_examples_answer_on_a_real_prometheus(prometheus_server: Any) -> None:
    """Each line's expression answers with a series: the names, labels and functions it uses
    are the ones /metrics serves. The account is made to need attention (stale, heading over
    the cap, no reading since 2020, a failed poll) so that every filter keeps it."""
    from capwatch.exporters.prometheus import ProcessFacts, build_registry

    summary = make_summary(
        status=AccountStatus.STALE,
        forecast=Forecast(1_300_000_000_000, 1_250_000_000_000, 1_400_000_000_000),
        last_success_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    facts = ProcessFacts(
        store_failures=lambda: 0,
        polls=lambda: {("home", "ok"): 3, ("home", "connect"): 1},
        exports=lambda: {("graphite", "ok"): 3},
        last_polls=lambda: {"home": AS_OF},
        currency=lambda account: "USD",
    )
    registry = build_registry(lambda: ([summary], {"home": DEVICES}), facts=facts)
    expressions = example("promql").code_lines()
    assert len(expressions) >= 5
    with AsgiThread(_metrics_app(registry), free_port()) as web:
        prom = prometheus_server([f"127.0.0.1:{web.port}"])
        answers: dict[str, list[dict[str, Any]]] = {}
        for expr in expressions:

            def answered(expr: str = expr) -> bool:
                answers[expr] = prom.query(expr)  # an error fails here, naming the expression
                return bool(answers[expr])

            wait_until(answered, f"an answer to {expr!r}")
    used = answers['capwatch_usage_bytes{account="home"} / 1e9']
    assert float(used[0]["value"][1]) == 412.5
    assert float(answers["capwatch_usage_ratio * 100"][0]["value"][1]) == 34.375


def _graphite_exporter(port: int) -> GraphiteExporter:
    settings = GraphiteSettings.model_validate(
        config_table("graphite-config", "graphite", host="127.0.0.1", port=port)
    )
    return GraphiteExporter(settings)


def _glob_part(pattern: str, name: str) -> bool:
    """Graphite's glob for one path node: ``*``, ``?``, ``[..]`` and ``{a,b}``."""
    braces = re.fullmatch(r"(.*)\{([^}]*)\}(.*)", pattern)
    if braces:
        head, choices, tail = braces.groups()
        return any(_glob_part(head + c + tail, name) for c in choices.split(","))
    return fnmatch.fnmatchcase(name, pattern)


def _matches(target: str, metric: str) -> bool:
    nodes, parts = target.split("."), metric.split(".")
    return len(nodes) == len(parts) and all(map(_glob_part, nodes, parts))


def _stored_metrics(whisper_dir: Path) -> set[str]:
    return {
        ".".join(p.relative_to(whisper_dir).with_suffix("").parts)
        for p in whisper_dir.rglob("*.wsp")
    }


async def test_graphite_targets_match_what_carbon_stored(carbon_factory: Any) -> None:
    """Each target of the page names series carbon stored from the exporter, `pi-host` with its
    hyphen (Graphite keeps `-`; capwatch used to send `pi_host`)."""
    carbon = carbon_factory(example("carbon-schemas").text, example("carbon-aggregation").text)
    exporter = _graphite_exporter(carbon.port)
    now = datetime.now(UTC).replace(microsecond=0)
    summaries = [make_summary("home", as_of=now), make_summary("pi-host", as_of=now)]
    await exporter.publish(summaries, {"home": DEVICES})
    await exporter.stop()
    sent = {line.split()[0] for line in render_lines(summaries, {"home": DEVICES})}
    assert "capwatch.pi-host.used_bytes" in sent
    wait_until(lambda: sent <= _stored_metrics(carbon.whisper_dir), "carbon to store every series")
    stored = _stored_metrics(carbon.whisper_dir)
    targets = example("graphite-targets").code_lines()
    assert targets, "no targets"
    for target in targets:
        assert [m for m in stored if _matches(target, m)], (target, sorted(stored))
    assert "capwatch.pi_host.used_bytes" not in stored


def _whisper_points(path: Path, since: int) -> list[tuple[int, float]]:
    import whisper

    (start, _end, step), values = whisper.fetch(str(path), since)
    return [(start + i * step, v) for i, v in enumerate(values) if v is not None]


async def _feed_hourly(carbon: Any, hours: int) -> tuple[datetime, list[int]]:
    """Send ``hours`` hourly polls (and one at half past the sixth hour) ending 2 h ago."""
    exporter = _graphite_exporter(carbon.port)
    now = datetime.now(UTC)
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours + 2)
    used = [100 * GB + i * GB for i in range(hours)]
    for i in range(hours):
        at = first + timedelta(hours=i)
        summary = make_summary(
            as_of=at, used_bytes=used[i], consecutive_failures=2 if i == 5 else 0
        )
        await exporter.publish([summary], {})
        if i == 5:  # the hour's later poll: more usage, failures back to 0
            late = make_summary(
                as_of=at + timedelta(minutes=30),
                used_bytes=used[i] + GB // 2,
                consecutive_failures=0,
            )
            await exporter.publish([late], {})
    await exporter.stop()
    path = carbon.wsp("capwatch.home.used_bytes")
    wait_until(path.exists, "carbon to create used_bytes")
    since = int((first - timedelta(minutes=5)).timestamp())
    wait_until(
        lambda: len(_whisper_points(path, since)) == hours + (hours > 5),
        "carbon to write every point",
    )
    return first, used


@pytest.mark.parametrize("with_aggregation", [True, False], ids=["page's-entries", "defaults"])
async def test_carbon_keeps_hourly_points_in_the_coarse_archive(
    carbon_factory: Any, with_aggregation: bool
) -> None:
    """The page's retention fed with hourly polls: with its aggregation entries the 1-hour
    archive holds each hour (the last usage, the most failures); with carbon's defaults
    (average, xFilesFactor 0.5) it stays empty, which is why the page ships the entries."""
    import whisper

    aggregation = example("carbon-aggregation").text if with_aggregation else None
    carbon = carbon_factory(example("carbon-schemas").text, aggregation)
    hours = 24
    first, used = await _feed_hourly(carbon, hours)
    used_path = carbon.wsp("capwatch.home.used_bytes")
    failures_path = carbon.wsp("capwatch.home.consecutive_failures")
    wait_until(failures_path.exists, "carbon to create consecutive_failures")
    info = whisper.info(str(used_path))
    assert [(a["secondsPerPoint"], a["retention"]) for a in info["archives"]] == [
        (300, 90 * 86400),
        (3600, 5 * 365 * 86400),
    ]
    # A start older than the 5-minute archive's 90 days makes whisper read the 1-hour one.
    coarse_since = int(time.time()) - 100 * 86400
    coarse = _whisper_points(used_path, coarse_since)
    if not with_aggregation:
        assert info["xFilesFactor"] == 0.5 and info["aggregationMethod"] == "average"
        assert coarse == []
        return
    assert info["xFilesFactor"] == 0 and info["aggregationMethod"] == "last"
    expected = [
        (int((first + timedelta(hours=i)).timestamp()), float(used[i])) for i in range(hours)
    ]
    expected[5] = (expected[5][0], float(used[5] + GB // 2))  # the hour's last reading
    assert coarse == expected
    failures = dict(_whisper_points(failures_path, coarse_since))
    assert whisper.info(str(failures_path))["aggregationMethod"] == "max"
    assert failures[expected[5][0]] == 2.0  # the hour's worst, though its last poll said 0
    assert failures[expected[4][0]] == 0.0


async def test_whisper_fix_commands_set_what_the_aggregation_entries_say(
    carbon_factory: Any,
) -> None:
    """The page's commands for whisper files made before the entries, run on such files."""
    import whisper

    carbon = carbon_factory(example("carbon-schemas").text)  # carbon's default aggregation
    await _feed_hourly(carbon, 3)
    wait_until(carbon.wsp("capwatch.home.last_success").exists, "last_success's file")
    carbon.stop()
    script = example("whisper-fix").text
    assert script.startswith("cd /var/lib/graphite/whisper/capwatch\n")
    script = script.replace(
        "/var/lib/graphite/whisper/capwatch", shlex.quote(str(carbon.whisper_dir / "capwatch")), 1
    )
    tools = [
        shutil.which("whisper-set-xfilesfactor"),
        shutil.which("whisper-set-aggregation-method"),
    ]
    assert all(tools), "install Debian's python3-whisper (graphite-carbon brings it)"
    done = subprocess.run(["bash", "-e", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    methods = {
        p.stem: (whisper.info(str(p))["aggregationMethod"], whisper.info(str(p))["xFilesFactor"])
        for p in (carbon.whisper_dir / "capwatch" / "home").glob("*.wsp")
    }
    assert methods["last_success"] == methods["consecutive_failures"] == ("max", 0)
    assert methods["used_bytes"] == methods["percent"] == ("last", 0)


def test_line_protocol_example_is_what_the_exporter_renders() -> None:
    """The page's lines (``...`` standing for fields left out) are rendered lines of the
    standard summary, whose reading time is the page's 1794744000."""
    rendered = render_points([make_summary()], {"home": DEVICES})
    assert int(AS_OF.timestamp()) == 1794744000
    for line in example("influx-lines").code_lines(comment=""):
        pattern = ".*".join(re.escape(part) for part in line.split("..."))
        assert [r for r in rendered if re.fullmatch(pattern, r)], (line, rendered)


def _influx_now(server: Any) -> datetime:
    """InfluxDB's own now (its clock, which may not be this process's under faketime)."""
    httpx.post(
        f"{server.url}/write", params={"db": "capwatch"}, content=b"clock_probe v=1\n", timeout=30
    ).raise_for_status()
    (row,) = server.rows('SELECT v FROM "clock_probe"', "capwatch")
    server.query('DROP MEASUREMENT "clock_probe"', "capwatch")
    return datetime.fromtimestamp(row["time"], UTC)


async def test_influxql_examples_answer_on_a_real_influxdb(influxdb_server: Any) -> None:
    """The page's 1.x config writes through the exporter; each statement, as printed, answers
    (main's `/ 1e9` was a parse error), and the first gives the GB per day."""
    settings = InfluxSettings.model_validate(
        config_table("influxdb1-config", "influxdb", url=influxdb_server.url)
    )
    exporter = InfluxExporter(settings)
    server_now = _influx_now(influxdb_server)
    days = [3, 2, 1]
    await exporter.start()
    try:
        for i, back in enumerate(days):
            summary = make_summary(
                as_of=server_now - timedelta(days=back, minutes=30), used_bytes=(100 + i) * GB
            )
            await exporter.publish([summary], {"home": DEVICES})
        await exporter.publish([make_summary("cabin", as_of=server_now - timedelta(minutes=5))], {})
        await exporter.publish(
            [make_summary(as_of=server_now - timedelta(minutes=10))], {"home": DEVICES}
        )
    finally:
        await exporter.stop()
    statements = [line for line in example("influxql").code_lines(comment="--")]
    assert len(statements) == 3
    answers = [influxdb_server.rows(q, settings.database or "") for q in statements]
    gb = [row["gb"] for row in answers[0] if row["gb"] is not None]
    assert gb[:3] == [100.0, 101.0, 102.0] and gb[-1] == 412.5
    assert {row["account"] for row in answers[1]} == {"home", "cabin"}
    by_name = {row.get("name", ""): row["last"] for row in answers[2]}
    assert by_name == {"Living room TV": 301_000_000_000, "": 111_500_000_000}


async def test_influxdb2_config_example_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes._server import serve
    from tests.fakes.influx2 import Influx2State, build

    data = config_table("influxdb2-config", "influxdb")
    state = Influx2State(org=data["org"], bucket=data["bucket"], token="doc-token-0123456789")
    monkeypatch.setenv(data["token"]["env"], state.token)
    with serve(build(state)) as url:
        exporter = InfluxExporter(InfluxSettings.model_validate({**data, "url": url}))
        await exporter.publish([make_summary()], {})
        await exporter.stop()
    assert state.bodies[0].splitlines() == render_points([make_summary()], {})


def test_flux_example_names_what_the_exporter_writes() -> None:
    """Not run: no InfluxDB 2.x (nor any Flux engine) is packaged in Debian or on PyPI. What
    can be checked is checked: the bucket, measurement and field are the ones written."""
    text = example("flux").text
    bucket = config_table("influxdb2-config", "influxdb")["bucket"]
    assert f'from(bucket: "{bucket}")' in text
    measurement = InfluxSettings.model_validate({"url": "http://x", "database": "d"}).measurement
    assert f'r._measurement == "{measurement}"' in text
    fields = set(re.findall(r'r\._field == "([a-z_]+)"', text))
    assert fields and fields <= {m.key for m in METRICS}


def _ha_entity_id(config: dict[str, Any]) -> str:
    """The entity id Home Assistant gives an MQTT sensor: its object id if it sets one, else
    the device's name and the sensor's name, slugified."""
    if config.get("default_entity_id"):
        return str(config["default_entity_id"])
    if config.get("object_id"):
        return f"sensor.{config['object_id']}"
    name = f"{config['device']['name']} {config['name']}"
    return "sensor." + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


async def _mqtt_published(broker: Any, recorder: Any) -> Any:
    from capwatch.exporters.mqtt import MqttExporter

    settings = MqttSettings.model_validate(
        config_table("mqtt-config", "mqtt", host="127.0.0.1", port=broker.port)
        | {"username": None, "password": None}
    )
    rec = recorder(broker.port)
    exporter = MqttExporter(settings)
    await exporter.start()
    wait_until(lambda: exporter.connected, "the exporter to connect")
    from dataclasses import replace

    from capwatch.models import AllowanceSummary

    day = AllowanceSummary("anytime", "outside", "slowdown", 10**11, 0, 0, 4 * 10**10, 9 * 10**10,
                           True, windows="mon-sun 02:00-08:00")  # fmt: skip
    await exporter.publish([replace(make_summary(), allowances=(day,))], {"home": DEVICES})
    rec.wait_for("capwatch/home/state")
    return exporter, rec


async def test_mosquitto_sub_example_prints_the_state(
    mosquitto_broker: Any, mosquitto_recorder: Any
) -> None:
    """The page's mosquitto_sub, pointed at the test broker (and stopping after one message),
    prints the topic and the state JSON the page shows; the topics in the page's table are the
    ones capwatch publishes."""
    exporter, rec = await _mqtt_published(mosquitto_broker, mosquitto_recorder)
    try:
        block = example("mqtt-subscribe").text.splitlines()
        command, shown = block[0], block[1]
        assert command.startswith("$ mosquitto_sub -h broker ")
        argv = shlex.split(command[2:].replace("-h broker", "-h 127.0.0.1", 1))
        argv += ["-p", str(mosquitto_broker.port), "-C", "1", "-W", "30"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        topic, payload = done.stdout.strip().split(" ", 1)
        state = json.loads(payload)
        assert shown.split(" ", 1)[0] == topic == "capwatch/home/state"
        for key, value in re.findall(r'"([a-z_]+)":("[^"]*"|-?[\d.]+)', shown):
            assert state[key] == json.loads(value), key
        assert set(re.findall(r'"([a-z_]+)":', shown)) <= set(state)
        published = {t for t, _, _ in rec.messages}
        section = DOC.read_text(encoding="utf-8").split("## Home Assistant over MQTT", 1)[1]
        topics = re.findall(r"^\| `([^`]+)` +\|", section.split("\n## ", 1)[0], re.M)
        assert topics
        for documented in topics:
            pattern = "".join(
                "[^/]+" if part.startswith("<") else re.escape(part)
                for part in re.split(r"(<[^>]+>)", documented)
            )
            assert [t for t in published if re.fullmatch(pattern, t)], (documented, published)
    finally:
        await exporter.stop()


async def test_home_assistant_automation_names_real_entities(
    mosquitto_broker: Any, mosquitto_recorder: Any
) -> None:
    """The automation's entity ids are ones Home Assistant makes from capwatch's discovery
    configs, and `above: 90` is in the sensor's unit, percent."""
    import yaml

    exporter, rec = await _mqtt_published(mosquitto_broker, mosquitto_recorder)
    await exporter.stop()
    text = example("ha-automation").text
    (automation,) = yaml.safe_load(text)["automation"]
    configs = {
        _ha_entity_id(config): config
        for topic, payload, _ in rec.messages
        if topic.startswith("homeassistant/") and topic.endswith("/config") and payload
        for config in [json.loads(payload)]
    }
    named = set(re.findall(r"sensor\.[a-z0-9_]+", text))
    assert named and named <= set(configs), (named, sorted(configs))
    (trigger,) = automation["triggers"]
    assert configs[trigger["entity_id"]]["unit_of_measurement"] == "%"
    assert 0 < trigger["above"] <= 100


# The API's curl examples: a block marked `api-...` (any name with that prefix is claimed
# here) in `console` form: `$ curl ...` lines (a trailing `\` continues one), each followed by
# the output it prints. The base URL (`http://<host>:8485`) becomes the test server's,
# `$CAPWATCH_TOKEN` holds its token; curl must exit 0, and shown JSON output must have the
# real answer's keys and values (`...` in it stands for what is left out).
API_PREFIX = "api-"
_BASE_URL = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+:8485")


def _console_commands(text: str) -> list[tuple[str, list[str]]]:
    """(command, output lines shown after it) of a console block."""
    out: list[tuple[str, list[str]]] = []
    pending = ""
    for line in text.splitlines():
        if pending or line.startswith("$ "):
            part = line[2:] if not pending else line
            pending += part.rstrip("\\").rstrip() + " " if part.endswith("\\") else part
            if not part.endswith("\\"):
                out.append((pending.strip(), []))
                pending = ""
        elif out and line.strip():
            out[-1][1].append(line)
    return out


def _shown_json_matches(shown: str, real: Any) -> None:
    """Each `"key": value` shown (strings, numbers, booleans, null) is in the real answer."""
    flat = json.dumps(real)
    for key, value in re.findall(r'"([A-Za-z_]+)":\s*("[^"]*"|-?[\d.]+|true|false|null)', shown):
        assert re.search(rf'"{key}": {re.escape(json.dumps(json.loads(value)))}', flat), (
            key,
            value,
        )
    for key in re.findall(r'"([A-Za-z_]+)":', shown):
        assert f'"{key}":' in flat, key


def run_curl_example(text: str, base_url: str, token: str) -> int:
    """Run a console block's curl commands against ``base_url``; return how many ran."""
    curl = shutil.which("curl")
    assert curl, "curl is missing (Debian package curl)"
    env = {"PATH": "/usr/bin:/bin", "CAPWATCH_TOKEN": token}
    commands = _console_commands(text)
    for command, shown in commands:
        assert command.startswith("curl "), command
        line = _BASE_URL.sub(base_url, command) + " --max-time 30"
        done = subprocess.run(
            ["bash", "-c", line], capture_output=True, text=True, env=env, timeout=60, check=False
        )
        assert done.returncode == 0, (command, done.stderr)
        if shown:
            text_shown = "\n".join(shown)
            if text_shown.lstrip().startswith(("{", "[")):
                _shown_json_matches(text_shown, json.loads(done.stdout))
            else:
                for expected in shown:
                    head = expected.split("...", 1)[0].strip()
                    assert head in done.stdout, (command, expected, done.stdout[:500])
    return len(commands)


def test_api_curl_examples_run_against_the_web_server(web_app_token: Any) -> None:
    """Every `api-` example of the page, and this runner on a sample of the same form."""
    from tests.fakes._server import serve
    from tests.fixtures.web import WEB_TOKEN

    sample = (
        '$ curl -s -H "Authorization: Bearer $CAPWATCH_TOKEN" \\\n'
        "    http://raspberrypi.local:8485/api/v1/accounts\n"
        '[{"account":"isp", ...}, {"account":"home", ...}]\n'
        "$ curl -s http://raspberrypi.local:8485/healthz\n"
        '{"status":"ok", ...}\n'
    )
    page = [e for n, e in examples(DOC).items() if n.startswith(API_PREFIX)]
    with serve(web_app_token.app) as url:
        assert run_curl_example(sample, url, WEB_TOKEN) == 2
        with pytest.raises(AssertionError):  # a shown value the server does not answer
            run_curl_example(sample.replace('"isp"', '"nobody"'), url, WEB_TOKEN)
        for block in page:
            assert block.lang in ("console", "sh", "shell"), block.where(DOC)
            assert run_curl_example(block.text, url, WEB_TOKEN) > 0, block.where(DOC)
