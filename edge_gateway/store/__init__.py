"""The gateway's SQLite store: the single writer's connection (``writer.py``:
WAL, ``synchronous=FULL``) and its tables (``schema.py``), its WAL checkpointer (``checkpoint.py``), the read-only
connections of the web pages (``reads.py``), the sink workers' own
connection (``worker_db.py``), the owner console's logins (``console_sessions.py``),
the gateway's signing key for its cloud batches (``signing_key.py``),
the workshop's setup versions (``setup_versions.py``), the owner's day checks and training records
(``days.py``),
and the data dir it lives in (``data_dir.py``: private, locked, checked at start).

It may import ``model``, ``errors`` and ``sebiao_common``.
"""
