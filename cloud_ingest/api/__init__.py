"""The JSON API (``/api/v1/…`` and ``/healthz``).

``base`` (the public ``ApiBase``: engine, limits, clock, and ``who``,
``read_json``, ``call`` that every route uses), ``http_api`` (``Api``: ingest,
the alarm queue, admin, login, health; it gathers the routes of the
others), ``rectification``, ``grades``, ``reports``, ``setups``, ``workshops`` (the workshop's
record and training records), ``public_page`` (the public pages' addresses for gateways and admins) and
``ledger`` (the issue ledger and the improvement plans), ``inspections`` (on-site inspections and the
spot checks) (their routes, over
``ApiBase`` only: no route module imports ``http_api``), ``freshness`` (最后上报 / 数据中断 and the
outages) and ``overview`` (辖区总览); both served by ``build_app`` with the config's ``freshness``.

api/ may import ``ingest``, ``wire``, ``influx``, ``notify``, ``review``, ``reports``,
``access``, ``store``, ``cloud_ingest.config`` and ``cloud_ingest.errors``;
never ``web``.
"""
