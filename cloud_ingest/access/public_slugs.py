"""The random address of each workshop's public page (``/p/{slug}``), made, read and rotated.

A slug is 15 random bytes (120 bits) written in lowercase base32: 24 letters
and digits, short enough for a QR code a phone reads from across a counter,
and far beyond guessing: with a million workshops, a guess finds one with a
chance of 1 in 10^30. The workshop's id is never in the address, so nobody
can walk the workshops by trying ids (the ids are short words an admin
chose: ``ws-a``, ``lz-liangpi``).

Rotating gives the workshop a new slug; the old address then answers 404
exactly as an address that never existed (the printed QR codes of a
gateway that has not asked again stop working until it asks: the gateway
asks every five minutes). Only an admin reaching the workshop's district may
rotate; anyone else is answered as for a workshop that does not exist.
"""

from __future__ import annotations

import base64
import re
import secrets

from sqlalchemy import Connection, delete, select

from cloud_ingest.access.auth import Principal
from cloud_ingest.access.scope import workshop_clause
from cloud_ingest.errors import NotFound
from cloud_ingest.store.schema import public_pages, workshops

SLUG_FORM = re.compile(r"[a-z2-7]{24}")


def new_slug() -> str:
    return base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()


def is_slug(text: str) -> bool:
    """Whether ``text`` has a slug's form (anything else is not looked up at all)."""
    return SLUG_FORM.fullmatch(text) is not None


def ensure(conn: Connection, workshop_id: str, now: int) -> str:
    """The workshop's slug, made now when it has none (a workshop created before its first request)."""
    found = conn.execute(select(public_pages.c.slug).where(public_pages.c.workshop_id == workshop_id)).first()
    if found is not None:
        return found.slug
    slug = new_slug()
    conn.execute(public_pages.insert().values(workshop_id=workshop_id, slug=slug, created_at=now))
    return slug


def workshop_of(conn: Connection, slug: str) -> str | None:
    """The workshop whose page ``slug`` is, or None (also for anything without a slug's form)."""
    if not is_slug(slug):
        return None
    return conn.execute(select(public_pages.c.workshop_id).where(public_pages.c.slug == slug)).scalar()


def _managed(conn: Connection, who: Principal, workshop_id: str) -> None:
    who.require("admin")
    if conn.execute(select(workshops.c.id).where(workshops.c.id == workshop_id, workshop_clause(who))).first() \
            is None:
        raise NotFound("没有这个作坊", f"no workshop {workshop_id[:32]!r}")


def current(conn: Connection, who: Principal, workshop_id: str, now: int) -> dict:
    """An admin's view of the workshop's public address: ``{"workshop", "slug", "created_at"}``."""
    _managed(conn, who, workshop_id)
    slug = ensure(conn, workshop_id, now)
    created = conn.execute(select(public_pages.c.created_at).where(public_pages.c.slug == slug)).scalar_one()
    return {"workshop": workshop_id, "slug": slug, "created_at": created}


def rotate(conn: Connection, who: Principal, workshop_id: str, now: int) -> dict:
    """A new slug for the workshop; the old one is gone at once."""
    _managed(conn, who, workshop_id)
    conn.execute(delete(public_pages).where(public_pages.c.workshop_id == workshop_id))
    slug = new_slug()
    conn.execute(public_pages.insert().values(workshop_id=workshop_id, slug=slug, created_at=now))
    return {"workshop": workshop_id, "slug": slug, "created_at": now}
