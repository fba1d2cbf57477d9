"""Storage: the database tables, connections and transactions, the Alembic migrations, the evidence log.

``db`` (engines, read/write transactions), ``schema`` (the SQLAlchemy Core
tables), ``migrate`` with the ``migrations/`` folder beside it (Alembic, run
from code), ``evidence`` (the append-only, hash-chained log) and ``canonical``
(the canonical JSON both the log and the batch digests hash).

store/ imports only ``cloud_ingest.errors``, ``sebiao_common`` and the
standard and third-party libraries: it is the bottom of ``cloud_ingest``.
"""
