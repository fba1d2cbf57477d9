"""The central InfluxDB: the points of a batch, the outbox table they wait in, the drain worker.

``points`` (line protocol from a batch, pure), ``outbox`` (rows added in the
ingest transaction, claimed by the workers; the /healthz figures) and
``drain`` (the worker thread writing the outbox to InfluxDB).

influx/ imports ``wire``, ``store``, ``cloud_ingest.config`` and
``cloud_ingest.errors`` (and ``sebiao_common``); never ingest, access, review,
reports, api or web.
"""
