"""The gateway's SQLite store: the single writer's connection (``writer.py``:
WAL, ``synchronous=FULL``, the schema, the checkpointer), the read-only
connections of the web pages (``reads.py``) and the sink workers' own
connection (``worker_db.py``).

It may import ``model``, ``errors`` and ``sebiao_common``.
"""
