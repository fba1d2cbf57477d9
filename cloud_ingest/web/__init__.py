"""The cloud's web pages for inspectors, admins and workshop owners (server-rendered HTML, no script).

``routes.page_routes`` gives the routes that ``cloud_ingest.app.build_app``
serves beside the JSON API: login and logout, workshops, the alarm queue, one
alarm with its evidence timeline and review forms (``routes``),
rectification (``rectification_pages``), reports (``report_pages``) and the
regulator's grades (``grade_pages``: the public district and workshop pages,
served without a login, and the inspector's form), and the setups with their
acceptance and the deadline's progress (``setup_pages``), the workshop's own page: its record
(登记信息) with the form that edits it, and its staff training records (``workshop_pages``), the issue ledger
(``ledger_pages``: 挂账销号, the owner's answer with photos) and the improvement
plans (``plan_pages``: 一坊一策 and its PDF), the district report and the summary shown above a
workshop's report (``district_pages``), and the alarm queue as the inspector's triage with its bulk
actions, CSV export and the reader's language switch (``queue_pages``).
On-site inspections (``inspection_pages``: the phone form, the visit, its PDF) and the spot checks
(``spot_check_pages``: the draw and its tracking).
For admins, the district alarm channels' state on the workshops page (``notify_section``).
Each page module builds on the public ``frame.Frame`` (session, layout,
read-only page, POST form), never on ``routes``. Sessions are signed cookies
(``session``); the pages call the same functions as the API with the session
user's ``Principal``. ``views``, ``html`` and ``labels`` render; ``data``
holds the pages' own small queries; ``static/`` the stylesheet; ``freshness_views`` renders 最后上报 /
数据中断 (freshness first on the workshop list, the workshop's page and the alarm queue); ``overview_pages``
the district overview (辖区总览, ``/overview``); ``map_pages`` the map of the workshops (作坊地图, ``/map``:
an inline SVG, no tiles, no script).

web/ may import ``review``, ``reports``, ``notify``, ``access``, ``store``,
``cloud_ingest.config`` and ``cloud_ingest.errors``; never ``api``, ``ingest``,
``wire`` or ``influx``.
"""
