"""Storage: the database tables, connections and transactions, the Alembic migrations, the evidence log.

``db`` (engines, read/write transactions), ``schema`` (the SQLAlchemy Core
tables), ``migrate`` with the ``migrations/`` folder beside it (Alembic, run
from code; ``migrations/append_only.py`` is the append-only guard they share), ``evidence`` (the append-only, hash-chained log), ``canonical``
(the canonical JSON both the log and the batch digests hash), ``coverage``
(which facts the log holds, and the check of the tables against it),
``cycle_chain`` (the disinfection cycles in the log, and their check),
``ledger_chain`` (the issue ledger's items and the plans against the log),
``notify_table`` (the district offices' notify outbox, on ``schema``'s metadata),
``anchor`` (the chain's head signed outside the database), ``signed`` (the
check of the batches against their gateways' signatures), ``audit``
(``sebiao cloud verify``) and ``roles`` (PostgreSQL grants of the workers'
role);
``inspection_tables`` (migration 0015's tables, defined on ``schema.metadata`` by ``schema``) and
``inspection_chain`` (the inspection visits and the spot checks' draws against the log).
``row_entries`` is the walk those two and ``ledger_chain`` share: a table's rows against the entries that hold
them, one a row.
``outage_tables`` holds the outages of silent gateways (``data_outages``, ``data_outage_ends``), in
``schema``'s metadata.
``station_statuses`` reads what a workshop's stations said over a span (for the reports' uptime and the public
page's coverage).
``sequencer`` stages the ingest's evidence entries (``evidence_pending``, in ``schema``'s metadata) and
chains many batches' at once under one lock.
``worker_loop`` is the loop of the background worker threads (the influx drain, the notify worker): rounds until
stopped, the database's absence reported and tried again.

store/ imports only ``cloud_ingest.config``, ``cloud_ingest.errors``,
``sebiao_common`` and the standard and third-party libraries: it is the
bottom of ``cloud_ingest``.
"""

from cloud_ingest.store import notify_table, sequencer  # noqa: F401,E402 - their tables join schema.metadata
