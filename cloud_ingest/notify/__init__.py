"""Critical alarms to each district's office as they arrive (双推送: the owner's gateway sends its own), and a
daily digest of the rest, through the district's WeCom, DingTalk or webhook channels (``notify:`` in cloud.yaml,
docs/notify.md).

``outbox`` (the ``notify_outbox`` rows the ingest transaction adds, claimed by the workers; each channel's state
for /healthz and the admin page), ``notices`` (the messages: an alarm's, the district's digest) and ``worker``
(the thread that writes the digests when due and sends what waits, with back-off; one per cloud process, several
processes share the outbox on PostgreSQL with ``FOR UPDATE SKIP LOCKED``). The robots' message, the signing and
the HTTP send are ``sebiao_common.notify``'s, the same as the gateway's.

notify/ imports ``store``, ``cloud_ingest.config`` and ``cloud_ingest.errors`` (and
``sebiao_common``); never ingest, access, review, reports, api or web.
"""
