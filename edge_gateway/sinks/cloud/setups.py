"""The setup versions' way to the cloud: each version not yet queued becomes a ``setup`` item in ``cloud_outbox``.

Run at start, after the config's setup was recorded (``store/setup_versions.py``), in one transaction with
the marks, so a version is queued exactly once. It goes as an alarm does, without lingering: an inspector
should see a change of the rules at once.
"""

from __future__ import annotations

from edge_gateway.sinks.cloud.items import setup_item
from edge_gateway.store import setup_versions
from edge_gateway.store.writer import Store


def queue_setups(store: Store) -> int:
    """Queues the versions not queued yet, oldest first, inside the caller's transaction; returns how many."""
    waiting = setup_versions.unqueued(store.conn)
    for v in waiting:
        store.cloud_add(v.at, setup_item(version=v.version, at=v.at, digest=v.hash, setup=v.setup), alarm=True)
        setup_versions.mark_queued(store.conn, v.version)
    return len(waiting)
