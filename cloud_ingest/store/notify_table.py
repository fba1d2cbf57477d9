"""The ``notify_outbox`` table (cloud_ingest/notify; docs/notify.md, "监管部门双推送"), on ``schema``'s metadata.

Kept beside ``schema`` (which is at its size limit) and registered with it by the package's ``__init__``, so that
whoever imports the storage has the whole schema (the migrations are checked against it).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from cloud_ingest.store.schema import metadata

notify_outbox = Table(  # one message to one channel: written with the alarm (ingest) or the day's digest
    "notify_outbox", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("district_id", String(32), nullable=False),
    Column("channel", String(40), nullable=False),  # the channel's name in notify.districts.<id>.channels
    Column("key", String(96), nullable=False),  # alarm:{workshop}:{gateway alarm id}:{seq} | digest:{YYYY-MM-DD}
    Column("kind", String(8), nullable=False),  # alarm | digest
    Column("workshop_id", String(32), nullable=True),
    Column("alarm_id", Integer, nullable=True),  # the cloud's alarm id
    Column("severity", String(16), nullable=True),  # quiet hours hold what is not listed
    Column("notice", Text, nullable=False),  # the webhook's JSON (docs/notify.md), rendered for the robots
    Column("created", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_try", BigInteger, nullable=False),
    Column("sent_at", BigInteger, nullable=True),
    Column("given_up_at", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("district_id", "channel", "key", name="uq_notify_outbox_message"),
    Index("ix_notify_outbox_waiting", "sent_at", "given_up_at", "next_try"),
)
