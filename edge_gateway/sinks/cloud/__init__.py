"""The cloud sink: the ``cloud:`` section, batch items, the ``cloud_outbox`` table,
the HTTP client and the push worker (which also asks for the last accepted
setup's rules), the setup versions queued at start (``setups.py``), the staff training records queued at each tick
(``training.py``) (``docs/cloud-ingest.md``); and the other
way, the grade the regulator published, fetched and verified (``grade``: ``cloud.public_key``)."""
