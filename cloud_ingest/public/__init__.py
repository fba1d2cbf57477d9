"""The workshops' public pages (透明作坊 on the cloud): ``/p/{slug}``, without a login.

``summary`` (what the page says, read in one short read; ``all_online`` the
pure coverage figure), ``page`` (the one small HTML document, inline CSS, no
script), ``cache`` (the page cache and the per-address brake, both bounded)
and ``routes`` (the route: brake, cache, conditional answers). The slugs
themselves are ``access.public_slugs``'s. docs/public-page.md says what the
page shows and why.

public/ may import ``web`` (its HTML builder), ``access``, ``store``,
``cloud_ingest.config`` and ``cloud_ingest.errors``; never ``api``, ``ingest``,
``wire``, ``influx``, ``review`` or ``reports``.
"""
