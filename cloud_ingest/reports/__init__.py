"""Reports (报告) and the district figures: read-only sums over the stored facts.

``figures`` (the figures as pure functions: rows in, figures out),
``reports`` (one workshop's report over a period: JSON, CSV rows),
``disinfection`` (the washes that were washes, by their dwell, and the
disinfection cycles),
``compliance`` (the districts in scope with their workshops' figures added
up), ``text`` (the report's words in both languages), ``pdf`` (the report
as a PDF), ``query`` (a report's request: from, to, format, tz; shared by
the JSON API and the pages), ``setup_rules`` (a setup read as the
regulator reads it: changes, relaxations, the deadline's progress; pure),
``setups`` (each workshop's setup versions, acceptances, silenced alarms
counted, progress), ``plan_pdf`` (一坊一策 printed, from the plan's dict), ``document`` (what the printed records share: styles,
grid, signature lines, numbered pages),
``ledger_view`` (the alarms of a period with their rectification's ledger
item, each workshop's open and overdue items: the ledger as reports read it),
``district`` (a district's workshops ranked by grade and figures: JSON, CSV;
the six figures a summary compares), ``district_pdf`` (that report printed),
``summary`` (a workshop's figures beside the previous period's, the trend in
words, the district's quartiles), ``inspection_pdf`` (an on-site inspection visit printed, from the
visit's dict),
``freshness`` (最后上报 / 数据中断: each workshop's last data received and its state).

reports/ imports ``access``, ``store``, ``cloud_ingest.config`` and
``cloud_ingest.errors`` (and ``sebiao_common``); never ingest, influx,
review, api or web.
"""
