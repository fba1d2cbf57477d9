"""The batch format the gateways push (``POST /api/v1/ingest``): the body inflated, parsed and checked.

``batch`` turns a request body into a ``Batch`` of event, alarm and status
items, or a ``BatchError`` naming the item and field; it stores nothing.
It is a package of its own, below both ``ingest`` (which stores a batch) and
``influx`` (which turns a batch into points), so neither imports the other's
way round.

wire/ imports ``store`` (only ``canonical``), ``cloud_ingest.config`` and
``cloud_ingest.errors`` (and ``sebiao_common``, the standard and third-party
libraries).
"""
