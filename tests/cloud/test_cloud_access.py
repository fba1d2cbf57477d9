"""Roles and tenancy, endpoint by endpoint, on SQLite and PostgreSQL.

Districts d1 (ws-a, ws-b) and d2 (ws-c); insp1 inspects d1, insp2 d2; owner-a
owns ws-a. An alarm of ws-a (in d1) is the object under test: whoever may not
see it gets 404 (its existence does not leak), whoever may see it but not
change it gets 403.
"""

from __future__ import annotations

import pytest
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import alarm, batch
from gateway_keys import gateway_token

WHO = ("anonymous", "admin", "insp1", "insp2", "owner-a", "owner-c", "gw-ws-a")

# The expected status for each of WHO, in order, by rule:
# lists (and district figures): every person, each seeing only their scope; a gateway token reads nothing
SIGNED_IN_READ = (401, 200, 200, 200, 200, 200, 403)
# ws-a's alarm, rectification and report: admin, d1's inspector and ws-a's owner; outside the scope 404
SCOPED_READ = (401, 200, 200, 404, 200, 404, 403)
# the review: admin and d1's inspector; d2's inspector does not see it (404), an owner may not (403)
INSPECTOR_ACTS = (401, 200, 200, 404, 403, 403, 403)
ADMIN_CREATES = (401, 201, 403, 403, 403, 403, 403)
ADMIN_READS = (401, 200, 403, 403, 403, 403, 403)

# endpoint -> expected status for each of WHO. Remote rectification: {r} is a fresh rectification of the
# alarm, in the state the step needs.
TABLE = {
    **dict.fromkeys([("GET", "/api/v1/workshops"), ("GET", "/api/v1/alarms"), ("GET", "/api/v1/districts"),
                     ("GET", "/api/v1/rectifications"), ("GET", "/api/v1/setups")], SIGNED_IN_READ),
    ("GET", "/api/v1/workshops/ws-a/setup"): SCOPED_READ,
    ("GET", "/api/v1/gateway/accepted-setup"): (401, 403, 403, 403, 403, 403, 200),  # a gateway's own only
    **dict.fromkeys([("GET", "/api/v1/alarms/{a}"), ("GET", "/api/v1/rectifications/{r}"),
                     ("GET", "/api/v1/workshops/ws-a/report?from=2025-11-26&to=2025-11-26&format=csv")],
                    SCOPED_READ),
    **dict.fromkeys([("POST", "/api/v1/alarms/{a}/ack"), ("POST", "/api/v1/alarms/{a}/clear"),
                     ("POST", "/api/v1/rectifications/{r}/accept"), ("POST", "/api/v1/rectifications/{r}/return")],
                    INSPECTOR_ACTS),
    ("POST", "/api/v1/alarms/{a}/rectifications"): (401, 201, 201, 404, 403, 403, 403),
    ("POST", "/api/v1/rectifications/{r}/answer"): (401, 403, 403, 403, 200, 404, 403),  # ws-a's owner only
    **dict.fromkeys([("POST", "/api/v1/admin/districts"), ("POST", "/api/v1/admin/workshops"),
                     ("POST", "/api/v1/admin/users"), ("POST", "/api/v1/admin/tokens")], ADMIN_CREATES),
    ("POST", "/api/v1/admin/tokens/{t}/revoke"): (401, 200, 403, 403, 403, 403, 403),
    # the workshop's record: read in scope, saved by the district's inspectors and admins; its staff training
    # records: names are personal data, read by the district's inspectors and admins only
    ("GET", "/api/v1/workshops/ws-a/record"): SCOPED_READ,
    # (the scope before the role: another workshop's owner learns nothing, 404)
    ("POST", "/api/v1/workshops/ws-a/record"): (401, 200, 200, 404, 403, 404, 403),
    ("GET", "/api/v1/workshops/ws-a/training"): (401, 200, 200, 404, 403, 404, 403),
    **dict.fromkeys([("GET", "/api/v1/admin/users"), ("GET", "/api/v1/admin/tokens")], ADMIN_READS),
}

BODIES = {
    "/api/v1/alarms/{a}/clear": {"note": "现场核实：已整改"},
    "/api/v1/admin/districts": {"id": "d9", "name": "九原区"},
    "/api/v1/admin/workshops": {"id": "ws-new", "name": "新作坊", "district": "d1"},
    "/api/v1/admin/users": {"username": "someone", "password": "long-enough-password", "role": "inspector",
                            "districts": ["d1"]},
    "/api/v1/admin/tokens": gateway_token("ws-b"),
    "/api/v1/alarms/{a}/rectifications": {"note": "请说明整改措施"},
    "/api/v1/rectifications/{r}/answer": {"action": "刀具已消毒放回红色架"},
    "/api/v1/rectifications/{r}/return": {"note": "请附消毒记录"},
    "/api/v1/workshops/ws-a/record": {"address": "包头市昆都仑区钢铁大街 21 号"},
}


@pytest.fixture
def world(cloud):  # type: ignore[no-untyped-def]
    tokens = cloud.tenants()
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-1", [alarm()])).status_code == 200
    alarm_id = cloud.get(tokens["admin"], "/api/v1/alarms").json()[0]["id"]
    return cloud, tokens, alarm_id


def test_role_by_endpoint(world) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, alarm_id = world
    failures = []
    for (method, template), expected in TABLE.items():
        for who, status in zip(WHO, expected):
            # a fresh target for changes, so one caller's success does not turn the next into a 409
            token_id = cloud.post(tokens["admin"], "/api/v1/admin/tokens",
                                  gateway_token("ws-c")).json()["id"]
            rect_id = _fresh_rectification(cloud, tokens, alarm_id, template) if "rectification" in template else 0
            path = template.format(a=alarm_id, t=token_id, r=rect_id)
            body = dict(BODIES.get(template, {}))
            if template == "/api/v1/admin/districts":
                body["id"] = f"d-{who.replace('-', '')}"
            if template == "/api/v1/admin/workshops":
                body["id"] = f"ws-{who.replace('-', '')}"
            if template == "/api/v1/admin/users":
                body["username"] = f"u-{who}"
            if template.startswith("/api/v1/alarms/{a}/"):
                _reset_review(cloud, alarm_id)
            token = None if who == "anonymous" else tokens[who]
            r = cloud.get(token, path) if method == "GET" else cloud.post(token, path, body)
            if r.status_code != status:
                failures.append(f"{who} {method} {path}: {r.status_code} (expected {status}) {r.text[:120]}")
    assert not failures, "\n".join(failures)


def _fresh_rectification(cloud, tokens, alarm_id: int, template: str) -> int:  # type: ignore[no-untyped-def]
    """Closes the alarm's open rectification, then opens one and answers it when the step needs that."""
    from sqlalchemy import update

    from cloud_ingest.store import db
    from cloud_ingest.store.schema import rectifications
    with db.write(cloud.engine) as conn:
        conn.execute(update(rectifications).where(rectifications.c.open_alarm_id == alarm_id)
                     .values(state="accepted", open_alarm_id=None))
    if template == "/api/v1/alarms/{a}/rectifications":
        return 0
    r = cloud.post(tokens["admin"], f"/api/v1/alarms/{alarm_id}/rectifications", {"note": "请整改"})
    rect_id = r.json()["id"]
    if template.endswith(("/accept", "/return")):
        assert cloud.post(tokens["owner-a"], f"/api/v1/rectifications/{rect_id}/answer",
                          {"action": "已整改"}).status_code == 200
    return rect_id


def _reset_review(cloud, alarm_id: int) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from cloud_ingest.store import db
    from cloud_ingest.store.schema import alarms
    with db.write(cloud.engine) as conn:
        conn.execute(update(alarms).where(alarms.c.id == alarm_id).values(review="open"))


def test_lists_are_scoped(world) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, _ = world
    ids = {who: [w["id"] for w in cloud.get(tokens[who], "/api/v1/workshops").json()]
           for who in ("admin", "insp1", "insp2", "owner-a", "owner-c")}
    assert ids == {"admin": ["ws-a", "ws-b", "ws-c"], "insp1": ["ws-a", "ws-b"], "insp2": ["ws-c"],
                   "owner-a": ["ws-a"], "owner-c": ["ws-c"]}
    seen = {who: len(cloud.get(tokens[who], "/api/v1/alarms").json()) for who in ("insp1", "insp2", "owner-c")}
    assert seen == {"insp1": 1, "insp2": 0, "owner-c": 0}
    # a filter on another district does not widen the scope
    assert cloud.get(tokens["insp2"], "/api/v1/alarms", district="d1").json() == []


def test_filters_and_review_kept_apart_from_workshop_actions(world) -> None:  # type: ignore[no-untyped-def]
    cloud, tokens, alarm_id = world
    insp = tokens["insp1"]
    assert len(cloud.get(insp, "/api/v1/alarms", severity="critical", type="cross_zone", state="active")
               .json()) == 1
    assert cloud.get(insp, "/api/v1/alarms", severity="minor").json() == []
    bad = cloud.get(insp, "/api/v1/alarms", severity="huge")
    assert bad.status_code == 400 and bad.json()["path"] == "severity"
    assert cloud.post(insp, f"/api/v1/alarms/{alarm_id}/clear", {}).status_code == 422  # a clear needs a note
    assert cloud.post(insp, f"/api/v1/alarms/{alarm_id}/ack", {"note": "已电话联系作坊"}).status_code == 200
    assert cloud.post(insp, f"/api/v1/alarms/{alarm_id}/ack", {}).status_code == 409
    gw_clear = alarm(seq=2, action="cleared", state="cleared", at=1_764_142_900_000, comment="刀具已消毒放回红色架")
    assert cloud.push(tokens["gw-ws-a"], batch("ws-a", "b-2", [gw_clear])).status_code == 200
    detail = cloud.get(insp, f"/api/v1/alarms/{alarm_id}").json()
    assert detail["state"] == "cleared" and detail["review"]["state"] == "acknowledged"
    assert [a["comment"] for a in detail["workshop_actions"]] == [None, "刀具已消毒放回红色架"]
    assert [(n["action"], n["note"], n["by"]) for n in detail["inspector_notes"]] == [("ack", "已电话联系作坊", "insp1")]
