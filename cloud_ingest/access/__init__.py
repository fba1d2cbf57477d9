"""Access: who is calling and what they may see and do.

``auth`` (bearer tokens and the ``Principal`` a request acts as), ``scope``
(the districts and workshops a principal may read), ``tokens`` (token
secrets and digests), ``passwords`` (Argon2 hashes), ``login`` (the password
check and its brake, shared by the JSON login and the pages) and ``admin``
(districts, workshops, users and tokens created and revoked by an admin) and ``public_slugs``
(the random address of each workshop's public page, made and rotated).

access/ imports ``store``, ``cloud_ingest.config`` and ``cloud_ingest.errors``
(and ``sebiao_common``, the standard and third-party libraries); never ingest,
influx, review, reports, api or web.
"""
