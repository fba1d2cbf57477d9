"""The dashboards build: the committed output in dashboards/ is a fresh build, the provisioning
YAML is what Grafana reads, titles are Chinese first, and zones never show by colour alone."""

from __future__ import annotations

import json
import re

import yaml
from servers import ROOT

from dashboards.generator.catalog import DASHBOARDS
from dashboards.generator.render import build_files
from dashboards.generator.vocabulary import ALARM_TYPE_NAMES, SEVERITY_NAMES
from edge_gateway.sinks.health import GATEWAY_ALARM_TYPES
from sebiao.cli import main
from sebiao_common.alarms import ALARM_TYPES, SEVERITIES
from sebiao_common.domain import COLOR_CLASSES

CJK_FIRST = re.compile(r"^[\u4e00-\u9fff][^A-Za-z]*[\u4e00-\u9fff）)] +[A-Za-z]")


def test_committed_output_is_a_fresh_build():
    built = build_files()
    committed = {p.relative_to(ROOT / "dashboards").as_posix(): p.read_text("utf-8")
                 for p in (ROOT / "dashboards").rglob("*") if p.suffix in (".json", ".yaml")}
    assert set(committed) == set(built), "run: sebiao dashboards build --out dashboards"
    for path, text in built.items():
        assert committed[path] == text, f"dashboards/{path} is stale: run sebiao dashboards build --out dashboards"


def test_cli_build_writes_json_and_provisioning(tmp_path, capsys):
    assert main(["dashboards", "build", "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.count("wrote ") == len(DASHBOARDS) + 2
    uids = {json.loads((tmp_path / "out" / "json" / f"{stem}.json").read_text("utf-8"))["uid"] for stem in DASHBOARDS}
    assert uids == {"sebiao-workshop", "sebiao-zones", "sebiao-alarms", "sebiao-stations", "sebiao-district"}
    source = yaml.safe_load((tmp_path / "out/provisioning/datasources/sebiao.yaml").read_text("utf-8"))
    (ds,) = source["datasources"]
    assert (ds["type"], ds["uid"], ds["url"]) == ("influxdb", "sebiao-influxdb", "${INFLUX_URL}")
    assert ds["jsonData"]["version"] == "InfluxQL" and ds["jsonData"]["dbName"] == "${INFLUX_DB}"
    assert ds["secureJsonData"]["password"] == "${INFLUX_PASSWORD}"
    (provider,) = yaml.safe_load((tmp_path / "out/provisioning/dashboards/sebiao.yaml").read_text("utf-8"))["providers"]
    assert provider["type"] == "file" and provider["options"]["path"] == "${SEBIAO_DASHBOARDS_DIR}"


def test_cli_build_into_an_unwritable_place_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["dashboards", "build", "--out", str(blocker / "sub")]) == 2
    assert "cannot write the dashboards" in capsys.readouterr().err


def _models() -> list[dict]:
    return [json.loads(text) for path, text in build_files().items() if path.endswith(".json")]


def test_titles_are_chinese_first_then_english_and_queries_use_the_datasource_and_filters():
    for model in _models():
        assert CJK_FIRST.match(model["title"]), model["title"]
        assert [v["name"] for v in model["templating"]["list"]] == ["district", "workshop"]
        ids = [p["id"] for p in model["panels"]]
        assert ids == list(range(1, len(ids) + 1))
        for panel in model["panels"]:
            assert CJK_FIRST.match(panel["title"]), panel["title"]
            for target in panel["targets"]:
                assert target["datasource"] == {"type": "influxdb", "uid": "sebiao-influxdb"}
                assert target["rawQuery"] is True
                q = target["query"]
                assert "$timeFilter" in q and '"workshop" =~ /^$workshop$/' in q and '"district" =~ /^$district$/' in q


def test_zones_show_name_and_symbol_not_only_colour():
    expected = {c.key: f"{c.symbol} {c.zh} {c.en}" for c in COLOR_CLASSES}
    zone_series = 0
    for model in _models():
        for panel in model["panels"]:
            for mapping in panel["fieldConfig"]["defaults"].get("mappings", []):
                if "red" in mapping["options"]:
                    assert {k: v["text"] for k, v in mapping["options"].items()} == expected
            if any(t.get("alias") == "$tag_zone" for t in panel["targets"]):
                zone_series += 1
                names = {o["matcher"]["options"]: {p["id"]: p["value"] for p in o["properties"]}
                         for o in panel["fieldConfig"]["overrides"]}
                assert {k: v["displayName"] for k, v in names.items()} == expected
    assert zone_series >= 3


def test_vocabulary_covers_every_alarm_type_and_severity():
    assert set(ALARM_TYPE_NAMES) == set(ALARM_TYPES) | set(GATEWAY_ALARM_TYPES)
    assert set(SEVERITY_NAMES) == set(SEVERITIES)
