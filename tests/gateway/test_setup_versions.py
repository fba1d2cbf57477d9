"""The gateway's side of the setup as evidence: the snapshot taken from the parsed config, the versions kept in
the store, and the tools' marking (``marking``, ``marked_on``) and optional tag."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest
import yaml
from servers import EXAMPLE_CONFIG

from edge_gateway.model.setup import plain, setup_hash, setup_json, setup_of
from edge_gateway.model.workshop import parse_config
from edge_gateway.sinks.cloud.setups import queue_setups
from edge_gateway.store import setup_versions
from edge_gateway.store.writer import Store
from sebiao_common import strict_json
from sebiao_common.errors import ConfigError


def _example() -> dict:
    return yaml.safe_load(EXAMPLE_CONFIG.read_text("utf-8"))


def _parse(data: dict):  # type: ignore[no-untyped-def]
    return parse_config(data, "workshop.yaml")


def test_marking_defaults_to_pending_and_a_tool_may_have_no_tag() -> None:
    data = _example()
    data["tools"][0]["marking"] = "labelled"
    data["tools"][0]["marked_on"] = yaml.safe_load("2026-11-20")  # unquoted in YAML: a date
    data["tools"][1]["marking"] = "replaced"
    data["tools"][1]["marked_on"] = "2026-12-02"
    del data["tools"][2]["tag"]
    config = _parse(data)
    first, second, untagged, other = config.tools[:4]
    assert (first.marking, first.marked_on) == ("labelled", "2026-11-20")
    assert (second.marking, second.marked_on) == ("replaced", "2026-12-02")
    assert untagged.tag is None and config.tool(untagged.id) is untagged
    assert (other.marking, other.marked_on) == ("pending", None)
    assert all(config.tool_by_tag(t.tag) is t for t in config.tools if t.tag is not None)
    assert len(config._tags) == len(config.tools) - 1  # the untagged tool is in no tag's place


@pytest.mark.parametrize("tool, error", [
    ({"marking": "done"}, "tools[0].marking"),
    ({"marking": "labelled", "marked_on": "2026-02-30"}, "2026-02-30 is not a day of the calendar"),
    ({"marking": "labelled", "marked_on": "20.11.2026"}, "write YYYY-MM-DD"),
    ({"marked_on": "2026-11-20"}, "a pending tool has no marked_on"),
])
def test_a_bad_marking_names_the_field(tool: dict, error: str) -> None:
    data = _example()
    data["tools"][0].update(tool)
    with pytest.raises(ConfigError) as exc:
        _parse(data)
    assert error in str(exc.value)


def test_the_setup_is_every_field_of_the_parsed_config_with_defaults_written_out() -> None:
    data = _example()
    bare = dict(data)
    bare.pop("rules")  # the example spells the defaults out: the same setup without them
    config = _parse(data)
    text = setup_json(setup_of(config))
    assert text == setup_json(setup_of(_parse(bare)))
    setup = strict_json.loads(text)
    assert set(setup) == {"stations", "tools", "rules"}
    assert setup["tools"][0] == {"id": "KN-R-01", "kind": "knife", "color": "red", "tag": "04A224E2C65E80",
                                 "home": "rack-red-1", "marking": "pending", "marked_on": None}
    assert setup["rules"]["wash_required"] == ["brush", "cloth", "container", "cutting_board", "knife", "scissors"]
    assert setup["rules"]["severity"]["raw_to_white"] == "critical" and setup["rules"]["exceptions"] == []
    assert setup_hash(text) == setup_hash(setup_json(setup_of(config)))
    # a key a later version adds to the rules is in the snapshot without a change to model/setup.py
    Later = dataclasses.make_dataclass("Later", [("wash_min_seconds", int, dataclasses.field(default=20))],
                                       bases=(type(config.rules),), frozen=True, kw_only=True)
    assert plain(Later())["wash_min_seconds"] == 20 and "overdue_after_minutes" in plain(Later())


def test_a_version_per_change_of_the_setup_queued_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "g.sqlite3")
    one = setup_json(setup_of(_parse(_example())))
    relaxed = _example()
    relaxed["rules"]["exceptions"] = [{"station": "sink-red-1", "color": "green", "reason": "同池清洗"}]
    two = setup_json(setup_of(_parse(relaxed)))
    made = []
    for text, now in ((one, 1), (one, 2), (two, 3), (one, 4)):  # back to the first setup: a change too
        with store.transaction():
            version, new = setup_versions.record(store.conn, setup=text, digest=setup_hash(text), now=now)
        made.append((version.version, new))
    assert made == [(1, True), (1, False), (2, True), (3, True)]
    with store.transaction():
        assert queue_setups(store) == 3
    with store.transaction():
        assert queue_setups(store) == 0
    items = [strict_json.loads(r[0]) for r in store.conn.execute("SELECT item FROM cloud_outbox ORDER BY id")]
    assert [(i["kind"], i["version"], i["at"]) for i in items] == [("setup", 1, 1), ("setup", 2, 3), ("setup", 3, 4)]
    assert all(setup_hash(setup_json(i["setup"])) == i["hash"] for i in items)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.conn.execute("DELETE FROM setup_versions")
    store.close()


@pytest.mark.slow
def test_an_untagged_tool_is_listed_but_not_tracked_by_the_running_gateway(mosquitto, tmp_path: Path) -> None:
    from gateway_proc import GatewayProcess, write_config

    config = write_config(tmp_path / "w.yaml", mosquitto())
    data = yaml.safe_load(config.read_text("utf-8"))
    del data["tools"][2]["tag"]  # CL-R-01, the red cloth: no tag fitted yet
    data["tools"][0].update({"marking": "labelled", "marked_on": "2026-11-20"})
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    gateway = GatewayProcess(config, tmp_path / "data").start()
    try:
        tools = {t["id"]: t for t in gateway.get("/api/tools").json()}
        assert (tools["CL-R-01"]["tag"], tools["CL-R-01"]["tracked"], tools["CL-R-01"]["marking"]) == (
            None, False, "pending")
        assert (tools["KN-R-01"]["tracked"], tools["KN-R-01"]["marking"], tools["KN-R-01"]["marked_on"]) == (
            True, "labelled", "2026-11-20")
        red = next(z for z in gateway.get("/display/data.json").json()["zones"] if z["key"] == "red")
        assert red["tools"]["untagged"] == 1 and red["total"] == 3
        assert red["tools"]["unknown"] == 2  # the two tagged red tools, not read yet
        setup = gateway.get("/api/setup").json()["current"]["setup"]
        assert next(t for t in setup["tools"] if t["id"] == "CL-R-01")["tag"] is None
        assert TOKEN_TEXT not in strict_json.dumps(setup)  # the setup holds no credential
    finally:
        gateway.stop()


TOKEN_TEXT = "test-token-0123456789"  # gateway_proc.TOKEN: the http token of the config
