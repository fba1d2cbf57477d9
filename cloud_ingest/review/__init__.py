"""Remote review: the alarm queue with acknowledge and clear (``review``), remote rectification
(整改, ``rectification``: its state machine, steps and scope), the regulator's grades (分级定榜,
``grades``: setting one, its public history and district list, the statement the gateway fetches), and the
acceptance (备案) of a setup version's relaxations (``setup_accept``); the regulator's desk: a workshop's
record (登记信息, ``workshop_records``) and its staff training records (``trainings``), the issue ledger (挂账销号,
``ledger``: every finding of a workshop, an alarm's being its rectification; ``photos``: the answers'
photos checked by their bytes, a stored one read within scope) and the improvement plans (一坊一策, ``plans``); the inspector's triage
queue with tools and stations by name, the navigation's counts and the bulk comment (``triage``).
On-site inspections (现场检查, ``inspections``: a signed visit over a versioned ``checklist``, its 不符合 opened
on the ledger) and the 5% spot checks of newly registered workshops (抽查, ``spot_checks``).
数据中断 as a finding (``silence``: the periodic job that opens a ledger item once per outage of a silent
gateway and notes its end); the district overview (辖区总览, ``overview``: per workshop grade, progress,
ledger, alarm rates, freshness). Where a workshop is (``locations``: its record's latitude and longitude,
WGS-84) and the map of the workshops in scope (作坊地图, ``workshop_map``: the overview's figures placed by
location).
What the records with steps share (``steps``): the machine of states, steps and roles (rectification's, the
ledger's), a text field of a body checked, and the refusal of a field a body may not have.

Both take the caller's ``access.auth.Principal`` and write each step with its
evidence entry in the caller's transaction.

review/ imports ``reports`` (the workshop figures of the list), ``access``, Pillow (``photos``),
``store``, ``cloud_ingest.config`` and ``cloud_ingest.errors``; never ingest,
influx, api or web.
"""
