"""An item the cloud cannot take is a 400 naming that item, never a 5xx, on SQLite and PostgreSQL alike.

A 5xx makes the gateway send the same batch again for ever, so one bad item
would stop every later event and alarm; a 400 naming ``items[N]`` makes it set
that item aside and send the rest (``edge_gateway/sinks/cloud/push.py``). Each
bad item is sent as ``items[1]`` of a batch to the real ``sebiao cloud``
process, over HTTP; the batch is refused whole, and the same batch without it
is then accepted.
"""

from __future__ import annotations

import json

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, alarm, batch, event, status
from cloud_server import *  # noqa: F401,F403 - the served_cloud fixture
from cloud_server import Served

from sebiao_common.station_health import MAX_FIELDS, MAX_VALUE_BYTES

pytestmark = pytest.mark.slow


def _text(item: dict, **raw: str) -> str:
    """``item`` as JSON text, with each ``raw`` field's value written as it is (NaN, 1e400, an escape)."""
    text = json.dumps(item)[:-1]
    return text + "".join(f', "{key}": {value}' for key, value in raw.items()) + "}"


def _with(item: dict, path: tuple, value: object) -> str:
    inner = item
    for step in path[:-1]:
        inner = inner[step]
    inner[path[-1]] = value
    return json.dumps(item)


NESTED = "[" * 100_000 + "]" * 100_000
# name, the bad item as JSON text, the path the 400 names (ending in "*": the path starts so)
CASES = [
    ("NaN in a status' health", _text(status(), rssi="NaN"), "items[1].rssi"),
    ("Infinity in a status' health", _text(status(), heap_free="Infinity"), "items[1].heap_free"),
    ("-Infinity in a status' health", _text(status(), rssi="-Infinity"), "items[1].rssi"),
    ("1e400 in a status' health", _text(status(), uptime_s="1e400"), "items[1].uptime_s"),
    ("NaN as an event's seq", _text({k: v for k, v in event().items() if k != "seq"}, seq="NaN"), "items[1].seq"),
    ("a lone surrogate in an event's note", _text(event(), note='"fine \\ud800"'), "items[1].note"),
    ("a lone surrogate in a health field's name", json.dumps(status())[:-1] + ', "\\udc00x": 1}',
     "items[1].\\udc00x"),
    ("100000 nested arrays in a status", _text(status(), deep=NESTED), "items[1].deep[0]*"),
    ("health nested 40 deep", _text(status(), deep="[" * 40 + "]" * 40), "items[1].deep"),
    ("a NUL in an event's note", json.dumps({**event(), "note": "a\u0000b"}), "items[1].note"),
    ("a NUL in a transition's comment", _with(alarm(), ("transition", "comment"), "x\u0000"),
     "items[1].transition.comment"),
    ("a NUL in a transition's by", _with(alarm(), ("transition", "by"), "王\u0000"), "items[1].transition.by"),
    ("a NUL in an alarm's text", _with(alarm(), ("alarm", "text", "zh"), "跨区\u0000"), "items[1].alarm.text.zh"),
    ("a count beyond a 32-bit integer", _with(alarm(), ("alarm", "count"), 2**31), "items[1].alarm.count"),
    ("a buffer depth beyond a 32-bit integer", json.dumps({**status(), "buffer_depth": 2**31}),
     "items[1].buffer_depth"),
    ("a seq beyond a 64-bit integer", json.dumps({**event(), "seq": 2**63}), "items[1].seq"),
    ("a 3 MB health field", json.dumps({**status(), "blob": "x" * 3_000_000}), "items[1].blob"),
    ("a health field just over its bound", json.dumps({**status(), "blob": "x" * MAX_VALUE_BYTES}), "items[1].blob"),
    ("too many health fields", json.dumps({**status(), **{f"f{n}": n for n in range(MAX_FIELDS + 1)}}), "items[1]"),
    ("a health field name of 40 characters", json.dumps({**status(), "n" * 40: 1}), "items[1]." + "n" * 40),
    ("health over 4096 bytes together", json.dumps({**status(), **{f"f{n}": "x" * 900 for n in range(5)}}),
     "items[1]"),
]


def _batch(batch_id: str, *items: str) -> bytes:
    return f'{{"v": 1, "workshop": "ws-a", "batch": "{batch_id}", "items": [{", ".join(items)}]}}'.encode()


def test_each_bad_item_is_a_400_naming_it_and_the_rest_goes_in(served_cloud: Served):
    process, token = served_cloud.process, served_cloud.tokens["gw-ws-a"]
    wrong = []
    for n, (name, bad, path) in enumerate(CASES):
        before = json.dumps(event(seq=2 * n, ts=T0 + n))
        after = json.dumps(status(ts=T0 + n))
        refused = process.push(token, raw=_batch(f"bad-{n}", before, bad, after))
        body = refused.json() if refused.headers.get("content-type") == "application/json" else {}
        named = body.get("path", "")
        if refused.status_code != 400 or not (named.startswith(path[:-1]) if path.endswith("*") else named == path):
            wrong.append(f"{name}: {refused.status_code} {refused.text[:200]}")
            continue
        accepted = process.push(token, raw=_batch(f"good-{n}", before, after))
        if accepted.status_code != 200 or accepted.json()["accepted"] != 2:
            wrong.append(f"{name}: the rest was not taken: {accepted.status_code} {accepted.text[:200]}")
    assert not wrong, "\n".join(wrong)
    assert "Traceback" not in process.log()


BODIES = [  # (name, path, body): bodies read before or after the token, none may become a 5xx
    ("a lone surrogate in an admin body", "/api/v1/admin/districts", b'{"id": "d9", "name": "x\\ud800"}'),
    ("NaN in an admin body", "/api/v1/admin/districts", b'{"id": "d9", "name": NaN}'),
    ("30000 nested arrays in a login (under the body's bound)", "/api/v1/login",
     b'{"username": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"),
    ("nested 40 deep in a review note", "/api/v1/alarms/1/ack", b'{"note": ' + b"[" * 40 + b"]" * 40 + b"}"),
]


@pytest.mark.parametrize("name, path, body", BODIES, ids=[b[0] for b in BODIES])
def test_bodies_that_are_not_strict_json_are_a_400(served_cloud: Served, name, path, body):
    answer = served_cloud.process.post(served_cloud.tokens["admin"], path, body)
    assert answer.status_code == 400, answer.text
    assert "JSON" in answer.json()["error"]


def test_a_nul_in_a_review_note_is_never_a_5xx(served_cloud: Served):
    cloud, process, tokens = served_cloud.cloud, served_cloud.process, served_cloud.tokens
    assert process.push(tokens["gw-ws-a"], batch("ws-a", "a-1", [alarm(12, 1)])).status_code == 200
    alarm_id = cloud.get(tokens["insp1"], "/api/v1/alarms").json()[0]["id"]
    answer = process.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/ack", b'{"note": "ok\\u0000"}')
    # SQLite keeps a NUL; PostgreSQL's text cannot, and its refusal is the request's, not a server fault
    expected = 400 if cloud.url.startswith("postgresql") else 200
    assert answer.status_code == expected, answer.text


def test_a_nul_inside_a_health_value_is_kept_as_its_json_escape(served_cloud: Served):
    """Health is stored as canonical JSON text, where a NUL is the escape ``\\u0000``: PostgreSQL takes that."""
    cloud, process = served_cloud.cloud, served_cloud.process
    answer = process.push(served_cloud.tokens["gw-ws-a"], batch("ws-a", "h-1", [{**status(), "fw": "1.0\u0000"}]))
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text
    with cloud.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT health FROM station_status").scalar_one()
    assert stored == '{"fw":"1.0\\u0000"}'


@pytest.mark.parametrize("method,path", [
    ("get", "/api/v1/alarms/{id}"), ("post", "/api/v1/alarms/{id}/ack"),
    ("post", "/api/v1/alarms/{id}/rectifications"), ("get", "/api/v1/rectifications/{id}"),
    ("post", "/api/v1/admin/tokens/{id}/revoke"), ("post", "/api/v1/admin/users/{id}/disable"),
])
def test_an_id_past_a_row_id_is_no_such_thing_never_a_5xx(served_cloud: Served, method, path):
    """An id of 2^64 reached the database (500 on SQLite, 503 on PostgreSQL); ids that fit are looked up."""
    process, admin = served_cloud.process, served_cloud.tokens["admin"]
    for id_ in (2 ** 64, 10 ** 30, 2 ** 31, 10 ** 9 - 1):
        url = path.format(id=id_)
        answer = process.get(admin, url) if method == "get" else process.post(admin, url, {"note": "x"})
        assert answer.status_code == 404, (url, answer.status_code, answer.text)
