"""The influx: section (errors name file, field path and reason) and the line builder."""

from __future__ import annotations

import re

import pytest
import yaml
from gateway_proc import EXAMPLE
from servers import example_config

from edge_gateway.model.alarms import Alarm, HistoryEntry
from edge_gateway.model.stations import StationState
from edge_gateway.model.toolstate import ToolState
from edge_gateway.model.workshop import parse_config
from edge_gateway.sinks.influx.config import influx_settings
from edge_gateway.sinks.influx.lines import InfluxLines
from sebiao_common.errors import ConfigError
from sebiao_common.influx.lines import string_field, tag
from sebiao_common.influx.writer import PRECISION_V1, PRECISION_V2


def settings(section):
    data = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    data["influx"] = section
    return influx_settings(parse_config(data, "ws.yaml"))


V2 = {"url": "http://127.0.0.1:8086", "token": "t", "org": "o", "bucket": "b"}


def test_defaults_and_both_apis():
    s = settings(V2)
    assert (s.api, s.bucket, s.outbox.max_rows, s.outbox.batch_lines, s.outbox.warn_percent) == ("v2", "b", 1_000_000,
                                                                                                  1000, 80)
    v1 = settings({"api": "v1", "url": "https://influx:8086/", "database": "sebiao", "retention_policy": "autogen",
                   "username": "u", "password": "p", "outbox": {"max_rows": 500}})
    assert (v1.url, v1.database, v1.query_db, v1.outbox.max_rows) == ("https://influx:8086", "sebiao", "sebiao", 500)
    assert influx_settings(example_config()) is None


@pytest.mark.parametrize("section, message", [
    ({**V2, "bucket": None}, "ws.yaml: influx: missing required key 'bucket' (api: v2 needs url, token, org and bucket)"),
    ({**V2, "database": "x"}, "ws.yaml: influx.database: is for api: v1; this section has api: v2"),
    ({"api": "v1", "url": "http://h", "database": "d", "token": "t"},
     "ws.yaml: influx.token: is for api: v2; this section has api: v1"),
    ({"api": "v1", "url": "http://h"}, "ws.yaml: influx: missing required key 'database'"),
    ({"api": "v1", "url": "http://h", "database": "d", "username": "u"},
     "ws.yaml: influx: missing required key 'password' (username and password go together)"),
    ({**V2, "api": "v3"}, "ws.yaml: influx.api: 'v3' is not one of: v2, v1"),
    ({**V2, "url": "influx:8086"}, "ws.yaml: influx.url: 'influx:8086' is not an http:// or https:// URL with a host"),
    ({**V2, "url": "http://h:99999"}, "ws.yaml: influx.url: 'http://h:99999': Port out of range"),
    ({**V2, "url": "http://h/?db=x"}, "ws.yaml: influx.url: 'http://h/?db=x': no query or fragment here"),
    ({**V2, "outbox": {"batch_lines": 6000}}, "ws.yaml: influx.outbox.batch_lines: must be at most 5000, got 6000"),
    ({**V2, "outbox": {"size": 1}}, "ws.yaml: influx.outbox.size: unknown key"),
    ({**V2, "retry_max_seconds": "10s"}, "ws.yaml: influx.retry_max_seconds: must be a number of seconds"),
    ({**V2, "bukket": "x"}, "ws.yaml: influx.bukket: unknown key"),
])
def test_errors_name_file_path_and_reason(section, message):
    with pytest.raises(ConfigError) as err:
        settings({k: v for k, v in section.items() if v is not None})
    assert message in str(err.value)


def test_precision_names_per_api():
    assert PRECISION_V1 == {"ns": "n", "us": "u", "ms": "ms", "s": "s"}
    assert PRECISION_V2 == {"ns": "ns", "us": "us", "ms": "ms", "s": "s"}


def test_escaping():
    assert tag("a b,c=d") == r"a\ b\,c\=d"
    assert tag("x\\") == "x"
    assert string_field('say "hi" \\ now\nok') == '"say \\"hi\\" \\\\ now ok"'


def _split(line: str) -> tuple[str, set[str], set[str], int]:
    head, fields, ts = re.split(r"(?<!\\) (?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", line)
    parts = re.split(r"(?<!\\),", head)
    tags = {p.split("=", 1)[0] for p in parts[1:]}
    names = {f.split("=", 1)[0] for f in re.split(r",(?=[a-z_]+=)", fields)}
    return parts[0], tags, names, int(ts)


def test_points_keep_tags_and_fields_apart_and_ids_in_fields():
    config = example_config()
    lines = InfluxLines(config)
    tool = config.tool("KN-R-01")
    event = lines.event("rack-red-1", tool, "removed", 1_700_000_000_123, tool.tag, "a1b2c3d4", 1_000_042,
                        1_700_000_000_200, False)
    a = Alarm(id=7, type="cross_zone", severity="critical", subject="KN-R-01", tool="KN-R-01", tag=tool.tag,
              station="rack-white-1", ts=1, last_ts=1, raised_at=1, updated_at=1, text_zh="跨区",
              text_en='tool "KN-R-01" at white', acked=False)
    points = [event, lines.alarm(a, HistoryEntry(alarm_id=7, at=5, action="cleared", state="cleared", acked=True,
                                                 by="王师傅", comment="洗过, 换刀"), 12),
              lines.station_status(StationState(id="sink-red-1", online=True), "status", 9,
                                   {"rssi": -60, "zone": 3}),
              *lines.zone_summaries([ToolState(tool="KN-R-01", color="red")], 10)]
    unbounded = {"tool", "tag_uid", "alarm_id", "boot", "seq"}
    for point in points:
        measurement, tags, fields, _ = _split(point)
        assert not tags & fields, point
        assert not tags & unbounded, point
    assert _split(event)[3] == 1_700_000_000_123 * 1_000_000 + 42  # seq mod 1e6 in the sub-ms digits
    assert ",district=昆都仑区," in event and "seq=1000042i" in event and "delay_ms=77i" in event
    assert _split(points[1])[3] == 5 * 1_000_000 + 12  # cleared: the action's time, history id
    assert "rssi=-60.0" in points[2] and "zone=3" not in points[2]
