"""The training records' way to the cloud: each record of the ``training`` table not yet queued becomes a
``training`` item in ``cloud_outbox``.

A record is written by ``sebiao training add`` (its own process, straight into the store) or by
``POST /api/training`` (through the pipeline), so neither can write the outbox row beside it. Instead the cloud
projection looks at every tick, inside the tick's transaction: the records after the cursor
(``meta.cloud_training_queued``, the highest id queued) are queued and the cursor moved in the same commit, so
each is queued exactly once, those recorded while the gateway was stopped or before the ``cloud:`` section
existed too. From the outbox on they go as every item does: kept across outages, batched, signed.
"""

from __future__ import annotations

from edge_gateway.sinks.cloud.items import training_item
from edge_gateway.store.writer import Store

CURSOR = "cloud_training_queued"
PER_TICK = 200  # a long backlog (the cloud section added to an old store) goes over a few ticks


def queue_trainings(store: Store, now: int, limit: int = PER_TICK) -> int:
    """Queues the records after the cursor, oldest first, inside the caller's transaction; returns how many."""
    after = int(store.meta(CURSOR) or 0)
    rows = store.conn.execute("SELECT id, day, who, topic, trainer, recorded_at FROM training WHERE id > ? "
                              "ORDER BY id LIMIT ?", (after, limit)).fetchall()
    for record_id, day, who, topic, trainer, recorded_at in rows:
        store.cloud_add(now, training_item(record_id=record_id, day=day, who=who, topic=topic, by=trainer,
                                           recorded_at=recorded_at))
    if rows:
        store.set_meta(CURSOR, str(rows[-1][0]))
    return len(rows)
