"""sebiao_common: the vocabulary the workshop gateway and the cloud share.

What lives here is what both sides must say the same way: the seed's domain
(colour classes, tool kinds: ``domain``), alarm types and severities and their
words (``alarms``), ids and tag normalisation (``ids``), the base of the
exception tree (``errors``), strict YAML loading (``yamlfile``), strict JSON
reading and writing (``strict_json``), the bounds of a station status' health
(``station_health``), request bodies read within their bound (``http_body``),
the sink settings both config files take (``sink_settings``), HTTP answers
and back-off (``http_answers``), the InfluxDB line format, settings and writer
(``influx/``), the clock (``clock``), listen addresses (``net``), the browser
origin check (``origin``), the brake on password guessing (``login_brake``),
the reverse proxies trusted to name the client (``proxies``), path ids that fit
a row id or a slug (``row_ids``), a gateway's signature on a pushed batch
(``batch_signature``), the CJK font for PDFs (``fonts``), the grade
statement the cloud signs and the gateway verifies (``grade_statement``),
the zone shapes drawn in PDFs (``shapes``), and the alarm messages to WeCom
and DingTalk robots and webhooks that the gateway and the cloud both send:
channel settings, markdown, signing, the HTTP send and its answers (``notify/``).

It may import the standard library and third-party libraries only: never
``edge_gateway``, ``cloud_ingest``, ``dashboards`` or ``sebiao``
(``tests/docs/test_architecture.py`` checks it).
"""
