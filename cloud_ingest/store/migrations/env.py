"""Alembic environment of the cloud database.

Run through ``cloud_ingest.store.migrate.upgrade`` (``sebiao cloud migrate``), which
passes an open connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from cloud_ingest.store import outage_tables  # noqa: F401 - its tables in the metadata
from cloud_ingest.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the cloud migrations with `sebiao cloud migrate --config FILE`")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
