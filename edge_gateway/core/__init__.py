"""The single writer: the pipeline thread (batches, transactions, acknowledgements
after commit), the engine (the in-memory picture, applying the model), the facts
it hands to each sink's projection (``projection.py``), what the gateway and
``/healthz`` know of a sink worker (``sink_status.py``) and of the store
(``store_health.py``: a commit that fails), how long today every reader was
online (``coverage.py``), the second judgement under the last accepted rules
(``baseline.py``: what a relaxed requirement silenced), the owner's day (``owner_day.py``: the opening
check, the closing roll call and the day's summary), and the metrics.

It may import ``model``, ``store``, ``errors`` and ``sebiao_common``; never a
sink, the intake, the broker or the web: they depend on it, not it on them.
"""
