"""Remote review: the alarm queue with acknowledge and clear (``review``), and remote rectification
(整改, ``rectification``: its state machine, steps and scope).

Both take the caller's ``access.auth.Principal`` and write each step with its
evidence entry in the caller's transaction.

review/ imports ``reports`` (the workshop figures of the list), ``access``,
``store``, ``cloud_ingest.config`` and ``cloud_ingest.errors``; never ingest,
influx, api or web.
"""
