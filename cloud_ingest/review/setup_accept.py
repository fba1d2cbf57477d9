"""The district inspector's acceptance (备案) of a setup version's relaxations.

An inspector (or an admin) whose scope holds the workshop accepts one version
with a note; the acceptance is a row of ``setup_acceptances`` and an entry of
the evidence chain (``setup_accept``: the row, and the relaxations it
accepted). From then on the alarms silenced by that version's exceptions no
longer count (``reports/setups.py``), and later versions are judged against
it. A version accepted once stays accepted (409 the second time); a version
that relaxes nothing needs no acceptance (409 too: there is nothing to file).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from cloud_ingest.access.auth import Principal
from cloud_ingest.errors import BadRequest, Conflict, NotFound
from cloud_ingest.reports.setups import version_json, workshop_setup
from cloud_ingest.store import coverage, evidence
from cloud_ingest.store.schema import setup_acceptances

MAX_NOTE = 2000


def accept(conn: Connection, who: Principal, workshop_id: str, version: int, body: Any, now: int) -> dict[str, Any]:
    who.require("admin", "inspector")
    note = body.get("note") if isinstance(body, dict) else None
    if not isinstance(note, str) or not note.strip() or len(note) > MAX_NOTE or "\0" in note:
        raise BadRequest("note", f"备案需要说明（1 到 {MAX_NOTE} 字符）",
                         f"an acceptance needs a note (1 to {MAX_NOTE} characters)")
    found = workshop_setup(conn, who, workshop_id, now)
    target = next((v for v in found.versions if v.version == version), None)
    if target is None:
        raise NotFound("配置版本不存在", f"setup version {version} of workshop {workshop_id} does not exist")
    if target.accepted is not None:
        raise Conflict("该版本已备案", f"setup version {version} was already accepted")
    if not target.relaxations:
        raise Conflict("该版本没有需要备案的放宽", f"setup version {version} relaxes nothing: there is nothing to accept")
    row = {"workshop_id": workshop_id, "version": version, "user_id": who.user_id, "at": now, "note": note.strip()}
    row["id"] = conn.execute(setup_acceptances.insert().values(**row).returning(setup_acceptances.c.id)).scalar_one()
    fact = coverage.fact(setup_acceptances, row)
    evidence.append(conn, now, "setup_accept", workshop_id, None, {
        "row": fact, "relaxations": version_json(target)["relaxations"]})
    return {"workshop": workshop_id, "version": version,
            "accepted": {"by": who.username, "at": now, "note": row["note"]}}
