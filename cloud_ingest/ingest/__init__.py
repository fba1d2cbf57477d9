"""Ingest: storing one parsed batch, whole or not at all, never twice, only while its token is valid.

``storing.store_batch`` writes a ``wire.batch.Batch``'s facts, its evidence
entries and its central-InfluxDB outbox rows in one transaction, after
``signature.check`` found the gateway's signature good; ``signature.keep``
keeps the signed batch for ``sebiao cloud verify``; the district office's
critical alarms are queued in ``notify``'s outbox in the same transaction.

ingest/ imports ``wire``, ``influx``, ``notify``, ``access``, ``store``,
``cloud_ingest.config`` and ``cloud_ingest.errors``; never review, reports,
api or web.
"""
