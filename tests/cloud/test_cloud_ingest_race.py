"""A gateway token revoked while its batch is on the way never writes after the revocation (SQLite and PostgreSQL).

The token is checked when the request arrives and again, its row held, in the
transaction that stores the batch. Two orders are forced here with hooks on
the real code path: the revocation commits between the first check and the
store (the batch is refused, nothing stored), and the revocation comes while
the batch is being stored (it waits until the batch is committed).
"""

from __future__ import annotations

import threading
import time

from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from cloud_fixtures import batch, event
from gateway_keys import gateway_token
from sqlalchemy import func, select

from cloud_ingest.access import admin
from cloud_ingest.access.tokens import token_digest
from cloud_ingest.api import http_api
from cloud_ingest.ingest import storing as ingest
from cloud_ingest.store import db
from cloud_ingest.store.schema import api_tokens, events, ingest_batches


def _issue(cloud) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    cloud.tenants()
    issued = cloud.as_admin(admin.issue_token, gateway_token("ws-a"), cloud.now)
    return issued["token"], issued["id"]


def _stored(cloud) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with db.read(cloud.engine) as conn:
        return (conn.execute(select(func.count()).select_from(events)).scalar_one(),
                conn.execute(select(func.count()).select_from(ingest_batches)).scalar_one())


def test_a_revocation_between_the_check_and_the_store_refuses_the_batch(cloud, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    token, token_id = _issue(cloud)
    real_parse = http_api.parse_batch

    def revoke_then_parse(raw, limits):  # type: ignore[no-untyped-def]
        # the request passed the first check; the admin's revocation commits now
        cloud.as_admin(admin.revoke_token, token_id, cloud.now)
        return real_parse(raw, limits)

    monkeypatch.setattr(http_api, "parse_batch", revoke_then_parse)
    r = cloud.push(token, batch("ws-a", "b-1", [event(seq=0), event(seq=1)]))
    assert r.status_code == 401, r.text
    assert "revoked" in r.json()["error"]
    assert _stored(cloud) == (0, 0)


def test_a_revocation_during_the_store_waits_for_its_commit(cloud, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    token, token_id = _issue(cloud)
    real_store = ingest._store_items
    seen: dict[str, object] = {}

    def revoke_meanwhile():  # type: ignore[no-untyped-def]
        cloud.as_admin(admin.revoke_token, token_id, cloud.now)
        seen["revoked_at"] = time.monotonic()

    def store_then_revoke(conn, b, now, *signed):  # type: ignore[no-untyped-def]
        out = real_store(conn, b, now, *signed)
        revoker = threading.Thread(target=revoke_meanwhile)
        revoker.start()
        revoker.join(0.5)  # the revocation must not get through while this transaction is open
        seen["blocked"] = revoker.is_alive()
        seen["revoker"], seen["stored_at"] = revoker, time.monotonic()
        return out

    monkeypatch.setattr(ingest, "_store_items", store_then_revoke)
    r = cloud.push(token, batch("ws-a", "b-1", [event(seq=0), event(seq=1)]))
    assert r.status_code == 200, r.text
    seen["revoker"].join(30)  # type: ignore[attr-defined]
    assert seen["blocked"] is True
    assert seen["revoked_at"] > seen["stored_at"]  # type: ignore[operator]
    with db.read(cloud.engine) as conn:
        assert conn.execute(select(api_tokens.c.revoked_at).where(api_tokens.c.id == token_id)).scalar_one()
    assert _stored(cloud) == (2, 1)
    monkeypatch.setattr(ingest, "_store_items", real_store)
    after = cloud.push(token, batch("ws-a", "b-2", [event(seq=2)]))
    assert after.status_code == 401
    assert _stored(cloud) == (2, 1)


def test_a_token_the_gate_remembers_is_still_refused_once_revoked(cloud) -> None:  # type: ignore[no-untyped-def]
    token, token_id = _issue(cloud)
    assert cloud.push(token, batch("ws-a", "b-1", [event(seq=0)])).status_code == 200
    gate = next(r.endpoint.__self__.gate for r in cloud.client.app.routes if getattr(r, "path", "") == "/api/v1/ingest")
    assert token_digest(token) in gate._valid_until  # the first check will not ask the database again
    cloud.as_admin(admin.revoke_token, token_id, cloud.now)
    r = cloud.push(token, batch("ws-a", "b-2", [event(seq=1)]))
    assert r.status_code == 401 and "revoked" in r.json()["error"]
    assert _stored(cloud) == (1, 1)
    assert token_digest(token) not in gate._valid_until  # refused by the storing check: forgotten by the gate
    # strangers and people are not remembered
    assert cloud.push("sbg_unknown", batch("ws-a", "b-3", [event(seq=2)])).status_code == 401
    assert cloud.push(cloud.admin_token, batch("ws-a", "b-3", [event(seq=2)])).status_code == 403
    assert not gate._valid_until  # nor the revoked token, forgotten above
