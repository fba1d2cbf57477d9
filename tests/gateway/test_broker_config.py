"""`sebiao broker-config`: the generated Mosquitto files, and real Mosquitto enforcing them."""

from __future__ import annotations

import argparse
import base64
import copy
import json
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml
from servers import EXAMPLE_CONFIG, MqttClient, connack_reason, example_config, secrets_then_marker

from edge_gateway.broker.access import filter_covered, topic_matches
from edge_gateway.broker.credentials import load_credentials
from edge_gateway.broker.mosquitto import (
    MAX_INFLIGHT_MESSAGES,
    QUEUE_FLOOR,
    generate,
    queue_sizing,
)
from edge_gateway.broker.passwd import hash_password, parse_passwd, verify_password
from edge_gateway.commands import broker_config as command
from edge_gateway.model.protocol import (
    MAX_MESSAGE_BYTES,
    MAX_PAYLOAD_BYTES,
    alarm_topic,
    cmd_topic,
    event_topic,
    status_topic,
)
from edge_gateway.model.workshop import parse_config
from sebiao_common.errors import ConfigError

WS = "ws-demo"
NOT_AUTHORIZED = 135  # paho's v5 reason for a 3.1.1 CONNACK 5, "not authorised"


def example_data() -> dict:
    return yaml.safe_load(EXAMPLE_CONFIG.read_text("utf-8"))


def conf_values(path: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            values.setdefault(key, []).append(value)
    return values


def acl_rules(path: Path) -> dict[str, set[tuple[str, str]]]:
    rules: dict[str, set[tuple[str, str]]] = {}
    user = None
    for line in path.read_text().splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "user":
            user = words[1]
            rules[user] = set()
        else:
            assert words[0] == "topic" and user is not None, f"rule outside a user block: {line!r}"
            rules[user].add((words[1], words[2]))
    return rules


# -- password hashes -------------------------------------------------------------------


def test_hash_format_is_mosquitto_pbkdf2_sha512():
    hashed = hash_password("secret")
    m = re.fullmatch(r"\$7\$101\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)", hashed)
    assert m, hashed
    assert len(base64.b64decode(m.group(1))) == 12
    assert len(base64.b64decode(m.group(2))) == 64
    assert verify_password("secret", hashed)
    assert not verify_password("Secret", hashed)
    assert hash_password("secret") != hashed  # a fresh salt each time


def test_we_verify_what_mosquitto_passwd_writes(tmp_path):
    tool = shutil.which("mosquitto_passwd")
    assert tool, "mosquitto_passwd (Debian package mosquitto) is needed"
    subprocess.run([tool, "-c", "-b", str(tmp_path / "pw"), "alice", "s3cret"], check=True)
    entries = parse_passwd((tmp_path / "pw").read_text())
    assert entries["alice"].startswith("$7$")
    assert verify_password("s3cret", entries["alice"])
    assert not verify_password("wrong", entries["alice"])


@pytest.mark.parametrize("bad", ["", "$6$abc$def", "$7$x$AAAA$BBBB", "$7$101$!!!$AAAA", "plain"])
def test_malformed_hashes_never_verify(bad):
    assert not verify_password("anything", bad)


# -- the generated files ------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    return generate(example_config(), tmp_path / "broker", listen="127.0.0.1:18883",
                    persistence_dir=tmp_path / "db")


def test_mosquitto_conf(files, tmp_path):
    conf = conf_values(files.conf)
    single = {k: v[0] for k, v in conf.items() if len(v) == 1}
    assert single["listener"] == "18883 127.0.0.1"
    assert single["allow_anonymous"] == "false"
    assert single["per_listener_settings"] == "false"
    assert single["password_file"] == str(files.directory / "passwd")
    assert single["acl_file"] == str(files.directory / "acl")
    assert Path(single["password_file"]).is_absolute() and Path(single["acl_file"]).is_absolute()
    assert single["persistence"] == "true"
    assert single["persistence_location"] == f"{tmp_path / 'db'}/"
    assert (tmp_path / "db").is_dir()
    assert int(single["autosave_interval"]) > 0
    assert single["set_tcp_nodelay"] == "true"
    assert single["use_username_as_clientid"] == "true"  # a client id is its account's (docs/broker.md)
    lines = [line for line in files.conf.read_text().splitlines() if line and not line.startswith("#")]
    assert lines.index("use_username_as_clientid true") > lines.index("listener 18883 127.0.0.1")  # per listener
    assert single["max_queued_bytes"] == "0"
    assert single["max_inflight_messages"] == str(MAX_INFLIGHT_MESSAGES)
    assert MAX_MESSAGE_BYTES < int(single["max_packet_size"]) <= 2 * MAX_MESSAGE_BYTES
    # tools x 240 events + stations x 2880 status reports (every 30 s), doubled, rounded up to 1000
    config = example_config()
    day = len(config.tools) * 240 + len(config.stations) * 2880
    expected = -(-2 * day // 1000) * 1000
    assert int(single["max_queued_messages"]) == expected == files.queue.max_queued_messages > 1000
    text = files.conf.read_text()
    assert files.queue.formula in text  # the formula is written down beside the number
    assert "user" not in conf  # no run_as given


def test_queue_sizing_has_a_floor_and_grows_with_the_workshop():
    data = example_data()
    small = copy.deepcopy(data)
    small["stations"] = [{"id": "rack-red-1", "kind": "rack", "zone": "red"}]
    small["tools"] = [{"id": "CL-R-01", "kind": "cloth", "color": "red", "tag": "5A3C9E01", "home": "rack-red-1"}]
    small["rules"] = {"wash_required": ["knife"]}  # no sink in this workshop: its cloth is not washed
    assert queue_sizing(parse_config(small)).max_queued_messages == QUEUE_FLOOR
    big = copy.deepcopy(small)
    big["stations"] += [{"id": f"rack-x-{i}", "kind": "rack", "zone": "red"} for i in range(40)]
    big["tools"] += [{"id": f"T-{i}", "kind": "cloth", "color": "red", "tag": f"{i:08X}", "home": "rack-red-1"}
                     for i in range(400)]
    sizing = queue_sizing(parse_config(big))
    assert (sizing.tools, sizing.stations) == (401, 41)
    assert 2 * (401 * 240 + 41 * 2880) <= sizing.max_queued_messages < 2 * (401 * 240 + 41 * 2880) + 1000
    assert sizing.max_queued_messages % 1000 == 0


def test_acl(files):
    rules = acl_rules(files.acl)
    config = example_config()
    assert rules.pop("gateway") == {("readwrite", f"sebiao/{WS}/#")}
    assert rules.pop("monitor_ro") == {("read", f"sebiao/{WS}/#")}
    assert set(rules) == {s.id for s in config.stations}
    for sid, user_rules in rules.items():
        assert user_rules == {("write", event_topic(WS, sid)), ("write", status_topic(WS, sid)),
                              ("write", f"sebiao/{WS}/{sid}/cycle"), ("read", cmd_topic(WS, sid))}


def test_passwd_and_credentials(files):
    creds = load_credentials(files.directory)
    assert creds == files.credentials
    assert creds.workshop == WS and creds.gateway.username == "gateway"
    assert {sid: acc.username for sid, acc in creds.stations.items()} == {s.id: s.id for s in example_config().stations}
    hashes = parse_passwd(files.passwd.read_text())
    assert list(hashes) == [acc.username for acc in creds.accounts()]
    for acc in creds.accounts():
        assert verify_password(acc.password, hashes[acc.username])
    assert len({acc.password for acc in creds.accounts()}) == len(hashes)  # all different
    assert stat.S_IMODE(files.credentials_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.passwd.stat().st_mode) == 0o600


def test_rerun_keeps_passwords_and_follows_the_config(tmp_path):
    out = tmp_path / "broker"
    first = generate(example_config(), out)
    passwd_before = first.passwd.read_text()
    again = generate(example_config(), out)
    assert again.credentials == first.credentials
    assert again.passwd.read_text() == passwd_before  # unchanged hashes: nothing to reload

    data = example_data()
    data["stations"].append({"id": "rack-spare-1", "kind": "rack", "zone": "red"})
    grown = generate(parse_config(data), out)
    new = grown.credentials.station("rack-spare-1").password
    assert new not in {acc.password for acc in first.credentials.accounts()}
    assert "rack-spare-1" in parse_passwd(grown.passwd.read_text()) and "rack-spare-1" in acl_rules(grown.acl)
    for sid, acc in first.credentials.stations.items():
        assert grown.credentials.station(sid) == acc  # provisioned stations keep working

    shrunk = generate(example_config(), out)
    assert shrunk.credentials == first.credentials
    assert "rack-spare-1" not in parse_passwd(shrunk.passwd.read_text())
    assert "rack-spare-1" not in acl_rules(shrunk.acl)


def test_gateway_account_from_the_config(tmp_path):
    data = example_data()
    data["broker"] = {"url": "mqtt://127.0.0.1:1883", "username": "gw-main", "password": "from-config-123"}
    files = generate(parse_config(data), tmp_path)
    assert (files.credentials.gateway.username, files.credentials.gateway.password) == ("gw-main", "from-config-123")
    assert acl_rules(files.acl)["gw-main"] == {("readwrite", f"sebiao/{WS}/#")}
    assert verify_password("from-config-123", parse_passwd(files.passwd.read_text())["gw-main"])


@pytest.mark.parametrize("username, reason", [
    ("rack-red-1", "'rack-red-1' is a station id"),
    ("gate:way", "cannot be an MQTT username"),
    ("gate way", "cannot be an MQTT username"),
    ("monitor_ro", "'monitor_ro' is the read-only monitor account"),
])
def test_bad_gateway_usernames(tmp_path, username, reason):
    data = example_data()
    data["broker"] = {"url": "mqtt://127.0.0.1:1883", "username": username, "password": "x" * 12}
    with pytest.raises(ConfigError) as err:
        generate(parse_config(data, "ws.yaml"), tmp_path)
    assert str(err.value).startswith("ws.yaml: broker.username: ")
    assert reason in str(err.value)


def test_credentials_written_before_the_monitor_account_gain_one_and_keep_the_rest(tmp_path):
    first = generate(example_config(), tmp_path)
    data = json.loads(first.credentials_file.read_text())
    del data["monitor"]
    first.credentials_file.write_text(json.dumps(data))
    assert load_credentials(tmp_path).monitor is None
    again = generate(example_config(), tmp_path)
    assert again.credentials.monitor is not None and again.credentials.monitor.username == "monitor_ro"
    assert (again.credentials.gateway, again.credentials.stations) == (first.credentials.gateway,
                                                                       first.credentials.stations)
    assert "monitor_ro" in parse_passwd(again.passwd.read_text())


def test_credentials_of_another_workshop_are_refused(tmp_path):
    generate(example_config(), tmp_path)
    data = example_data()
    data["workshop"]["id"] = "ws-other"
    with pytest.raises(ConfigError, match=r"credentials\.json: workshop: .*'ws-demo'.*'ws-other'"):
        generate(parse_config(data), tmp_path)


@pytest.mark.parametrize("text, where", [
    ("{not json", "not valid JSON"),
    ('{"workshop": "ws-demo", "gateway": {"username": "gateway"}, "stations": {}}', "gateway.password"),
    ('{"workshop": "ws-demo", "gateway": {"username": "g", "password": "p"}, "stations": []}', "stations"),
    ('{"workshop": "ws-demo", "gateway": {"username": "g", "password": "p"}, '
     '"stations": {"rack-red-1": {"username": "rack-red-1", "password": 7}}}', "stations.rack-red-1.password"),
])
def test_broken_credentials_file_is_named(tmp_path, text, where):
    (tmp_path / "credentials.json").write_text(text)
    with pytest.raises(ConfigError) as err:
        generate(example_config(), tmp_path)
    assert str(tmp_path / "credentials.json") in str(err.value) and where in str(err.value)


def test_command_line(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    out = tmp_path / "out"
    args = parser.parse_args(["--config", str(EXAMPLE_CONFIG), "--out", str(out), "--listen", "[::1]:1884",
                              "--persistence-dir", str(tmp_path / "db"), "--run-as", "mosquitto"])
    assert command.run(args) == 0
    conf = conf_values(out / "mosquitto.conf")
    assert conf["listener"] == ["1884 ::1"] and conf["user"] == ["mosquitto"]
    assert conf["persistence_location"] == [f"{tmp_path / 'db'}/"]
    printed = capsys.readouterr().out
    assert f"max_queued_messages {queue_sizing(example_config()).max_queued_messages}" in printed
    assert "mosquitto -c" in printed
    assert load_credentials(out).gateway.password not in printed  # passwords stay in the 0600 file
    with pytest.raises(ConfigError, match="--listen: 'nowhere' is not HOST:PORT"):
        command.run(parser.parse_args(["--config", str(EXAMPLE_CONFIG), "--out", str(out), "--listen", "nowhere"]))


@pytest.mark.parametrize("topic, pattern, expected", [
    ("sebiao/ws/a/event", "sebiao/ws/a/event", True),
    ("sebiao/ws/a/event", "sebiao/ws/b/event", False),
    ("sebiao/ws/a/event", "sebiao/ws/#", True),
    ("sebiao/ws", "sebiao/ws/#", True),
    ("sebiao/other/a/event", "sebiao/ws/#", False),
    ("sebiao/ws/a/event", "sebiao/ws/+/event", True),
    ("sebiao/ws/a/event/x", "sebiao/ws/+/event", False),
    ("$SYS/broker", "#", False),
])
def test_topic_matches(topic, pattern, expected):
    assert topic_matches(topic, pattern) is expected


@pytest.mark.parametrize("topic_filter, pattern, expected", [
    ("sebiao/ws/a/cmd", "sebiao/ws/a/cmd", True),
    ("sebiao/ws/+/cmd", "sebiao/ws/a/cmd", False),
    ("sebiao/ws/#", "sebiao/ws/a/cmd", False),
    ("#", "sebiao/ws/a/cmd", False),
    ("sebiao/ws/#", "sebiao/ws/#", True),
    ("sebiao/ws/+/event", "sebiao/ws/#", True),
    ("sebiao/#", "sebiao/ws/#", False),
    ("sebiao/ws/+/event", "sebiao/ws/+/event", True),
    ("sebiao/ws/#", "sebiao/ws/+/event", False),
])
def test_filter_covered(topic_filter, pattern, expected):
    assert filter_covered(topic_filter, pattern) is expected


# -- real Mosquitto with the generated files -------------------------------------------------


@pytest.fixture(scope="module")
def broker(mosquitto_module):
    return mosquitto_module()


def test_mosquitto_accepts_every_generated_account(broker):
    for name in ["gateway", *broker.credentials.stations]:
        assert connack_reason(broker.host, broker.port, *broker.account(name)).value == 0, name


@pytest.mark.parametrize("who", ["anonymous", "wrong password", "unknown user", "station with gateway password"])
def test_mosquitto_refuses(broker, who):
    creds = {
        "anonymous": (None, None),
        "wrong password": ("gateway", "not-the-password"),
        "unknown user": ("intruder", broker.gateway.password),
        "station with gateway password": ("rack-red-1", broker.gateway.password),
    }[who]
    reason = connack_reason(broker.host, broker.port, *creds)
    assert reason.is_failure and reason.value == NOT_AUTHORIZED, str(reason)


def test_station_publishes_its_own_event_and_status(broker):
    with broker.client("gateway") as gw, broker.client("rack-red-1") as station:
        gw.subscribe(f"sebiao/{WS}/rack-red-1/#")
        station.publish(event_topic(WS, "rack-red-1"), b'{"v":1}', qos=1)
        station.publish(status_topic(WS, "rack-red-1"), b'{"v":1,"online":true}', qos=1, retain=True)
        first, second = gw.expect(event_topic(WS, "rack-red-1")), gw.expect(status_topic(WS, "rack-red-1"))
        assert (first.payload, first.qos) == (b'{"v":1}', 1)
        assert second.payload == b'{"v":1,"online":true}'
    with broker.client("gateway") as late:  # the status was retained
        late.subscribe(status_topic(WS, "rack-red-1"))
        retained = late.expect(status_topic(WS, "rack-red-1"))
        assert retained.retain and retained.payload == b'{"v":1,"online":true}'


def test_station_cannot_publish_as_another_station(broker):
    forged = [event_topic(WS, "rack-white-1"), status_topic(WS, "rack-white-1"), cmd_topic(WS, "rack-white-1"),
              alarm_topic(WS), f"sebiao/{WS}/rack-red-1/cmd"]
    marker = event_topic(WS, "rack-red-1")
    with broker.client("gateway") as gw, broker.client("rack-red-1") as station:
        gw.subscribe(f"sebiao/{WS}/#")
        for topic in forged:
            station.publish(topic, b"forged", qos=1)  # mosquitto acknowledges, then drops it (3.1.1)
        station.publish(marker, b"marker", qos=1)
        got = [m for m in gw.receive_until(lambda m: m.payload == b"marker") if not m.retain]
        # messages from one client reach a subscriber in order: anything forged would be before the marker
        assert [(m.topic, m.payload) for m in got] == [(marker, b"marker")]


def test_station_cannot_read_another_stations_cmd_or_status(broker):
    with broker.client("rack-white-1") as other:  # a retained status the reader must not see
        other.publish(status_topic(WS, "rack-white-1"), b'{"v":1,"online":true}', qos=1, retain=True)
    with broker.client("gateway") as gw, broker.client("rack-red-1") as reader:
        for topic_filter in (cmd_topic(WS, "rack-white-1"), f"sebiao/{WS}/+/status", f"sebiao/{WS}/#"):
            reader.subscribe(topic_filter)  # mosquitto 2.0 grants, then filters each message by the ACL
        assert secrets_then_marker(gw, reader, WS) == [(cmd_topic(WS, "rack-red-1"), b"marker")]


def test_queued_day_survives_a_broker_restart(mosquitto):
    """More than mosquitto's default 1000 queued messages wait for the gateway, across a restart."""
    broker = mosquitto()
    n = 1500
    gw = broker.client("gateway", client_id="sebiao-gateway-test", clean_session=False)
    assert gw.subscribe(f"sebiao/{WS}/+/event")[0].value == 1
    gw.close()
    with broker.client("rack-red-1") as station:
        infos = [station.client.publish(event_topic(WS, "rack-red-1"), str(i).encode(), qos=1) for i in range(n)]
        for info in infos:
            info.wait_for_publish(10)
        assert all(info.is_published() for info in infos)
    broker.stop()  # clean stop: mosquitto writes its database
    broker.start()
    with broker.client("gateway", client_id="sebiao-gateway-test", clean_session=False) as gw:
        assert gw.session_present
        got = gw.receive_until(lambda m: m.payload == str(n - 1).encode(), timeout=10)
        assert [int(m.payload) for m in got] == list(range(n))
        assert all(m.qos == 1 and not m.retain for m in got)


def test_oversized_packets_are_cut_at_the_broker(broker):
    with broker.client("gateway") as gw:
        gw.subscribe(event_topic(WS, "rack-red-1"))
        station = broker.client("rack-red-1")
        near = b"x" * (MAX_PAYLOAD_BYTES + 100)  # over the payload limit: the gateway counts it
        station.publish(event_topic(WS, "rack-red-1"), near, qos=1)
        assert gw.expect(event_topic(WS, "rack-red-1")).payload == near
        station.client.publish(event_topic(WS, "rack-red-1"), b"x" * 64 * 1024, qos=1)
        assert station.disconnected.wait(5)  # far too large: mosquitto drops the client
        station.close()
        assert gw.drain() == []


def test_docs_show_the_example_workshops_queue_size():
    doc = (EXAMPLE_CONFIG.parent.parent / "docs" / "broker.md").read_text("utf-8")
    sizing = queue_sizing(example_config())
    assert f"({sizing.tools} tools, {sizing.stations} stations)" in doc
    assert f"`max_queued_messages {sizing.max_queued_messages}`" in doc


def test_fixture_restarts_on_the_same_port_after_a_kill(mosquitto):
    broker = mosquitto()
    port = broker.port
    broker.kill()
    assert not broker.running
    with pytest.raises(OSError):
        MqttClient.connect(broker.host, port, *broker.account("gateway"), timeout=1)
    broker.start()
    assert broker.port == port and broker.running
    assert connack_reason(broker.host, port, *broker.account("gateway")).value == 0
