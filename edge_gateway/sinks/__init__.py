"""Where the gateway's record goes after the store: one folder per sink, the same shape each
(``config`` its config section, the rows it makes of the engine's facts —
``lines``/``items`` and ``projection`` —, its ``outbox`` table, its worker:
``drain``/``push``), and what they share: the worker base (``worker.py``) and
back-off with the ``sink_refused`` alarm (``health.py``).

A sink may import ``core`` (the projection interface, metrics), ``store``,
``model``, ``errors``, ``sebiao_common`` and the shared modules here; never
another sink's folder.
"""
