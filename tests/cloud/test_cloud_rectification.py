"""Remote rectification (远程整改) on SQLite and PostgreSQL: the workflow, every refused step, the evidence.

Districts d1 (ws-a, ws-b) and d2 (ws-c); insp1 inspects d1, insp2 d2;
owner-a owns ws-a, owner-c ws-c. The alarm under test is ws-a's.
"""

from __future__ import annotations

import json
from itertools import product

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import T0, alarm, batch
from sqlalchemy import func, select

from cloud_ingest.errors import Conflict, Forbidden
from cloud_ingest.review.rectification import MAX_TEXT, next_state
from cloud_ingest.store import db, evidence
from cloud_ingest.store.schema import evidence_log, rectification_steps, rectifications

# -- the state machine, pure ----------------------------------------------------------

STATES = (None, "requested", "answered", "returned", "accepted")
ACTIONS = ("request", "answer", "accept", "return")
ROLES = ("admin", "inspector", "owner", "gateway")
# every step that is allowed, written out; anything else is refused
ALLOWED = {
    (None, "request", "admin"): "requested",
    (None, "request", "inspector"): "requested",
    ("requested", "answer", "owner"): "answered",
    ("returned", "answer", "owner"): "answered",
    ("answered", "accept", "admin"): "accepted",
    ("answered", "accept", "inspector"): "accepted",
    ("answered", "return", "admin"): "returned",
    ("answered", "return", "inspector"): "returned",
}
MAY = {"request": {"admin", "inspector"}, "answer": {"owner"}, "accept": {"admin", "inspector"},
       "return": {"admin", "inspector"}}


@pytest.mark.parametrize("state,action,role", list(product(STATES, ACTIONS, ROLES)))
def test_state_machine(state: str | None, action: str, role: str) -> None:
    if (state, action, role) in ALLOWED:
        assert next_state(state, action, role) == ALLOWED[(state, action, role)]
        return
    # the wrong role is refused whatever the state (403); the right role at the wrong time is a 409
    expected = Conflict if role in MAY[action] else Forbidden
    with pytest.raises(expected) as caught:
        next_state(state, action, role)
    assert caught.value.status == (409 if expected is Conflict else 403)
    assert " / " in str(caught.value)  # Chinese first, then English


def test_state_machine_refuses_an_unknown_action() -> None:
    with pytest.raises(ValueError):
        next_state("requested", "cancel", "admin")


# -- through the API ------------------------------------------------------------------

@pytest.fixture
def world(cloud):  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", [alarm()])).status_code == 200
    assert cloud.push(tokens["gw-ws-c"], batch("ws-c", "c-1", [alarm(alarm_id=7)])).status_code == 200
    ids = {a["workshop"]: a["id"] for a in cloud.get(tokens["admin"], "/api/v1/alarms").json()}
    return cloud, tokens, ids["ws-a"], ids["ws-c"]


def _steps(body: dict) -> list[tuple]:
    return [(s["action"], s["state"], s["by"], s["text"]) for s in body["steps"]]


def _evidence(cloud) -> list[tuple]:  # type: ignore[no-untyped-def]
    with db.read(cloud.engine) as conn:
        return [(r.kind, r.workshop_id, r.alarm_id, json.loads(r.body))
                for r in conn.execute(select(evidence_log).order_by(evidence_log.c.seq))]


def test_whole_workflow(world) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, alarm_id, _ = world
    insp, owner = tokens["insp1"], tokens["owner-a"]
    before = len(_evidence(cloud))

    cloud.now = T0 + 1000
    r = cloud.post(insp, f"/api/v1/alarms/{alarm_id}/rectifications",
                   {"note": "红色刀具放到了熟食区，请说明整改措施", "due": T0 + 86_400_000})
    assert r.status_code == 201, r.text
    rect = r.json()
    rid = rect["id"]
    assert (rect["state"], rect["alarm"], rect["workshop"], rect["district"], rect["requested_by"],
            rect["requested_at"], rect["due"], rect["closed_at"]) == (
        "requested", alarm_id, "ws-a", "d1", "insp1", T0 + 1000, T0 + 86_400_000, None)

    cloud.now = T0 + 2000
    r = cloud.post(owner, f"/api/v1/rectifications/{rid}/answer", {"action": "刀具已消毒，放回红色架"})
    assert r.status_code == 200 and r.json()["state"] == "answered", r.text
    cloud.now = T0 + 3000
    r = cloud.post(insp, f"/api/v1/rectifications/{rid}/return", {"note": "请附上消毒记录"})
    assert r.status_code == 200 and r.json()["state"] == "returned", r.text
    cloud.now = T0 + 4000
    r = cloud.post(owner, f"/api/v1/rectifications/{rid}/answer",
                   {"action": "  已补消毒记录，员工重新培训  "})
    assert r.status_code == 200 and r.json()["state"] == "answered", r.text
    cloud.now = T0 + 5000
    r = cloud.post(insp, f"/api/v1/rectifications/{rid}/accept", {})
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["state"], done["closed_by"], done["closed_at"]) == ("accepted", "insp1", T0 + 5000)
    assert _steps(done) == [
        ("request", "requested", "insp1", "红色刀具放到了熟食区，请说明整改措施"),
        ("answer", "answered", "owner-a", "刀具已消毒，放回红色架"),
        ("return", "returned", "insp1", "请附上消毒记录"),
        ("answer", "answered", "owner-a", "已补消毒记录，员工重新培训"),  # trimmed
        ("accept", "accepted", "insp1", None),
    ]
    assert [s["at"] for s in done["steps"]] == [T0 + 1000, T0 + 2000, T0 + 3000, T0 + 4000, T0 + 5000]

    # the owner reads its own alarm with the rectification, and the rectification itself
    for token in (owner, insp, tokens["admin"]):
        detail = cloud.get(token, f"/api/v1/alarms/{alarm_id}").json()
        assert [(x["id"], x["state"], len(x["steps"])) for x in detail["rectifications"]] == [(rid, "accepted", 5)]
        assert cloud.get(token, f"/api/v1/rectifications/{rid}").json() == done

    # every step is in the evidence chain, in order, and the chain verifies
    # (the request also made the alarm's item of the issue ledger, with its own entry)
    entries = _evidence(cloud)[before:]
    assert [(k, b["rectification"]) for k, _, _, b in entries if k == "ledger_item"] == [("ledger_item", rid)]
    entries = [e for e in entries if e[0] != "ledger_item"]
    assert [(k, ws, a, b["rectification"], b["by"], b["state"], b["text"]) for k, ws, a, b in entries] == [
        ("rectification_" + action, "ws-a", alarm_id, rid, by, state, text) for action, state, by, text in
        _steps(done)]
    assert entries[0][3]["due"] == T0 + 86_400_000 and entries[1][3]["role"] == "owner"
    with db.read(cloud.engine) as conn:
        report = evidence.verify(conn)
    assert report.ok and report.checked == before + 6

    # closed, so the alarm may be given a new rectification
    r = cloud.post(tokens["admin"], f"/api/v1/alarms/{alarm_id}/rectifications", {"note": "复查：请再次说明"})
    assert r.status_code == 201 and r.json()["id"] != rid and r.json()["due"] is None
    assert [x["state"] for x in cloud.get(owner, f"/api/v1/alarms/{alarm_id}").json()["rectifications"]] == [
        "accepted", "requested"]


def _rect(cloud, tokens, alarm_id: int, state: str) -> int:  # type: ignore[no-untyped-def]
    """A rectification of the alarm brought to ``state`` through the API."""
    r = cloud.post(tokens["admin"], f"/api/v1/alarms/{alarm_id}/rectifications", {"note": "请整改"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    owner = "owner-a" if r.json()["workshop"] == "ws-a" else "owner-c"
    path = {"answered": ("answer",), "returned": ("answer", "return"), "accepted": ("answer", "accept")}
    for step in path.get(state, ()):
        who = owner if step == "answer" else "insp1" if owner == "owner-a" else "insp2"
        body = {"action": "已整改"} if step == "answer" else {"note": "意见"}
        assert cloud.post(tokens[who], f"/api/v1/rectifications/{rid}/{step}", body).status_code == 200
    return rid


# (state of the rectification, caller, step, body, expected status, words the error must contain)
REFUSED = [
    # wrong state: 409
    ("requested", "insp1", "accept", {}, 409, "requested"),
    ("requested", "insp1", "return", {"note": "退回"}, 409, "requested"),
    ("answered", "owner-a", "answer", {"action": "再答一次"}, 409, "answered"),
    ("returned", "insp1", "accept", {}, 409, "returned"),
    ("returned", "insp1", "return", {"note": "退回"}, 409, "returned"),
    ("accepted", "owner-a", "answer", {"action": "晚了"}, 409, "accepted"),
    ("accepted", "insp1", "return", {"note": "退回"}, 409, "accepted"),
    ("accepted", "admin", "accept", {}, 409, "accepted"),
    # wrong role: 403; nobody answers for the workshop, the owner does not judge its own answer
    ("requested", "admin", "answer", {"action": "代答"}, 403, "owner"),
    ("requested", "insp1", "answer", {"action": "代答"}, 403, "owner"),
    ("answered", "owner-a", "accept", {}, 403, "inspector"),
    ("answered", "owner-a", "return", {"note": "x"}, 403, "inspector"),
    ("requested", "gw-ws-a", "answer", {"action": "x"}, 403, "owner"),
    ("answered", "gw-ws-a", "accept", {}, 403, "inspector"),
    # out of scope: 404, whatever the state
    ("requested", "owner-c", "answer", {"action": "别家的"}, 404, "does not exist"),
    ("answered", "insp2", "accept", {}, 404, "does not exist"),
    ("answered", "insp2", "return", {"note": "x"}, 404, "does not exist"),
    # the texts: required (422) and bounded (400), the field named
    ("requested", "owner-a", "answer", {}, 422, "action"),
    ("requested", "owner-a", "answer", {"action": "   "}, 422, "action"),
    ("requested", "owner-a", "answer", {"action": 42}, 400, "action"),
    ("requested", "owner-a", "answer", {"action": "长" * (MAX_TEXT + 1)}, 400, "action"),
    ("answered", "insp1", "return", {}, 422, "note"),
    ("answered", "insp1", "return", {"note": ["x"]}, 400, "note"),
    ("answered", "insp1", "accept", {"note": "长" * (MAX_TEXT + 1)}, 400, "note"),
    ("answered", "insp1", "accept", [], 400, "JSON"),
    ("answered", "anonymous", "accept", {}, 401, "token"),
]


@pytest.mark.parametrize("state,who,step,body,status,words", REFUSED,
                         ids=[f"{s}-{w}-{a}-{c}" for s, w, a, _, c, _ in REFUSED])
def test_refused_steps_leave_no_trace(world, state, who, step, body, status, words) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, alarm_id, _ = world
    rid = _rect(cloud, tokens, alarm_id, state)
    before = (cloud.get(tokens["admin"], f"/api/v1/rectifications/{rid}").json(), _evidence(cloud))
    r = cloud.post(tokens.get(who), f"/api/v1/rectifications/{rid}/{step}", body)
    assert r.status_code == status, r.text
    assert words in r.json()["error"] and " / " in r.json()["error"]
    assert (cloud.get(tokens["admin"], f"/api/v1/rectifications/{rid}").json(), _evidence(cloud)) == before


# (caller, body, expected status, words) for asking a rectification of ws-a's alarm
REFUSED_REQUESTS = [
    ("owner-a", {"note": "自己要求自己"}, 403, "inspector"),
    ("owner-c", {"note": "x"}, 403, "inspector"),
    ("gw-ws-a", {"note": "x"}, 403, "inspector"),
    ("insp2", {"note": "别区的"}, 404, "does not exist"),
    ("anonymous", {"note": "x"}, 401, "token"),
    ("insp1", {}, 422, "note"),
    ("insp1", {"note": ""}, 422, "note"),
    ("insp1", {"note": "长" * (MAX_TEXT + 1)}, 400, "note"),
    ("insp1", {"note": "x", "due": T0 - 1}, 422, "due"),
    ("insp1", {"note": "x", "due": "明天"}, 400, "due"),
    ("insp1", {"note": "x", "due": True}, 400, "due"),
]


@pytest.mark.parametrize("who,body,status,words", REFUSED_REQUESTS,
                         ids=[f"{w}-{s}-{i}" for i, (w, _, s, _) in enumerate(REFUSED_REQUESTS)])
def test_refused_requests(world, who, body, status, words) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, alarm_id, _ = world
    before = _evidence(cloud)
    r = cloud.post(tokens.get(who), f"/api/v1/alarms/{alarm_id}/rectifications", body)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]
    assert cloud.get(tokens["admin"], "/api/v1/rectifications").json() == [] and _evidence(cloud) == before


def test_one_open_rectification_per_alarm(world) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, alarm_id, _ = world
    to_close = {"requested": [("owner-a", "answer"), ("insp1", "accept")],
                "answered": [("insp1", "accept")],
                "returned": [("owner-a", "answer"), ("insp1", "accept")]}
    for state, steps in to_close.items():
        rid = _rect(cloud, tokens, alarm_id, state)
        r = cloud.post(tokens["insp1"], f"/api/v1/alarms/{alarm_id}/rectifications", {"note": "再来一个"})
        assert r.status_code == 409 and "open rectification" in r.json()["error"], r.text
        for who, step in steps:
            assert cloud.post(tokens[who], f"/api/v1/rectifications/{rid}/{step}",
                              {"action": "已整改"}).status_code == 200
    # the database holds the rule itself, past the application's check
    with pytest.raises(Conflict):
        with db.write(cloud.engine) as conn:
            for _ in range(2):
                conn.execute(rectifications.insert().values(
                    alarm_id=alarm_id, workshop_id="ws-a", state="requested", note="x", requested_by=1,
                    requested_at=T0, updated_at=T0, open_alarm_id=alarm_id))
    with db.read(cloud.engine) as conn:
        assert conn.execute(select(func.count()).select_from(rectifications)
                            .where(rectifications.c.open_alarm_id.is_not(None))).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(rectification_steps)).scalar_one() == 3 + 3 + 5


def test_lists_are_scoped_and_filtered(world) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, alarm_a, alarm_c = world
    ra = _rect(cloud, tokens, alarm_a, "answered")
    rc = _rect(cloud, tokens, alarm_c, "requested")
    seen = {who: [x["id"] for x in cloud.get(tokens[who], "/api/v1/rectifications").json()]
            for who in ("admin", "insp1", "insp2", "owner-a", "owner-c")}
    assert seen == {"admin": [rc, ra], "insp1": [ra], "insp2": [rc], "owner-a": [ra], "owner-c": [rc]}
    admin = tokens["admin"]
    assert [x["id"] for x in cloud.get(admin, "/api/v1/rectifications", state="answered").json()] == [ra]
    assert [x["id"] for x in cloud.get(admin, "/api/v1/rectifications", workshop="ws-c").json()] == [rc]
    assert cloud.get(admin, "/api/v1/rectifications", state="accepted").json() == []
    # a filter on another workshop does not widen the scope
    assert cloud.get(tokens["insp2"], "/api/v1/rectifications", workshop="ws-a").json() == []
    for params, path in (({"state": "done"}, "state"), ({"limit": "0"}, "limit"), ({"sort": "x"}, "sort")):
        r = cloud.get(admin, "/api/v1/rectifications", **params)
        assert r.status_code == 400 and r.json()["path"] == path, r.text
    assert cloud.get(tokens["gw-ws-a"], "/api/v1/rectifications").status_code == 403
    assert cloud.get(None, "/api/v1/rectifications").status_code == 401
    # one rectification and an alarm's list, out of scope: 404
    assert cloud.get(tokens["owner-c"], f"/api/v1/rectifications/{ra}").status_code == 404
    assert cloud.get(tokens["insp1"], f"/api/v1/rectifications/{rc}").status_code == 404
    assert cloud.get(admin, "/api/v1/rectifications/9999").status_code == 404
    assert cloud.get(tokens["owner-c"], f"/api/v1/alarms/{alarm_a}").status_code == 404
    assert cloud.post(admin, "/api/v1/alarms/9999/rectifications", {"note": "x"}).status_code == 404


def test_two_requests_at_once_open_one(world) -> None:  # type: ignore[no-untyped-def]
    """Two inspectors ask at the same moment: the second waits for the first and is refused (409)."""
    import threading
    import time

    from cloud_ingest.access.auth import Principal
    from cloud_ingest.review import rectification

    cloud, _, alarm_id, _ = world
    admin = Principal("admin", 1, "admin")
    second: list[BaseException] = []

    def ask_again() -> None:
        try:
            with db.write(cloud.engine) as conn:
                rectification.request(conn, admin, alarm_id, "第二个", None, T0)
        except Conflict as exc:
            second.append(exc)

    with db.write(cloud.engine) as conn:
        first = rectification.request(conn, admin, alarm_id, "第一个", None, T0)
        other = threading.Thread(target=ask_again)
        other.start()
        time.sleep(0.5)  # the other transaction is now waiting (SQLite: for the write lock; PostgreSQL: the index)
        assert other.is_alive()
    other.join(10)
    assert len(second) == 1, second
    assert [r["id"] for r in cloud.get(cloud.admin_token, "/api/v1/rectifications").json()] == [first["id"]]
