"""The tables of 数据中断 (migration 0017, ``review/silence.py``), in ``schema.metadata`` beside the others.

Kept apart from ``schema`` only for its length; ``roles`` and the migrations' ``env`` import this module,
so ``schema.metadata`` always holds these tables where the grants or the schema are compared.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table, UniqueConstraint

from cloud_ingest.store.schema import metadata

data_outages = Table(  # 数据中断: a workshop's gateway silent too long, one row per outage
    "data_outages", metadata,
    Column("id", Integer, primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id"), nullable=False),
    Column("started_at", BigInteger, nullable=False),  # the last batch received before the silence (cloud clock)
    Column("detected_at", BigInteger, nullable=False),  # when a worker found it (and opened its ledger item)
    Column("silent_after_minutes", Integer, nullable=False),  # the configured limit it was found under
    UniqueConstraint("workshop_id", "started_at", name="uq_data_outages_key"),  # once per outage, whoever finds it
)

data_outage_ends = Table(  # when the data came back: the first batch received after the outage's start
    "data_outage_ends", metadata,
    Column("id", Integer, primary_key=True),
    Column("outage_id", Integer, ForeignKey("data_outages.id"), nullable=False, unique=True),
    Column("ended_at", BigInteger, nullable=False),
    Column("noted_at", BigInteger, nullable=False),
)
