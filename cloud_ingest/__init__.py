"""sebiao cloud ingest: many workshops, inspectors' remote review.

The package is grouped by concern. At the top level: ``app`` (the ASGI app),
``asgi`` (the worker factory), ``cli`` (``sebiao cloud``), ``gauges`` (the
district overview's figures queued for the central InfluxDB), ``config`` and
``errors``. Below them, one subpackage per concern; each may import only the
ones its row names (and ``sebiao_common``, the standard and third-party
libraries; never ``edge_gateway``). ``config`` and ``errors`` import nothing
of ``cloud_ingest``, and every subpackage may import them. The graph has no
cycle: each row imports only rows below it.

=============  ===========================================================  ===============================
package        what lives there                                             may import
=============  ===========================================================  ===============================
app/asgi/cli   the app, the worker factory, ``sebiao cloud``, the gauges     all of the below
api/           the JSON API: ``base.ApiBase`` and its route modules         ingest, wire, influx, notify,
                                                                            review, reports, access, store
public/        the workshops' public pages ``/p/{slug}``: summary, cache,   web, access, store
               brake
web/           the pages: ``frame.Frame`` and the page modules              review, reports, notify, access,
                                                                            store
ingest/        a batch's signature checked, the batch stored (``storing``)  wire, influx, notify, access,
                                                                            store
influx/        the central InfluxDB: points, outbox, drain worker           wire, store
notify/        critical alarms and a daily digest to the district offices   store
review/        the alarm queue (ack, clear), remote rectification,          reports, access, store
               the regulator's grades (分级定榜), the issue ledger (挂账销号),
               the improvement plans (一坊一策), on-site inspections
               and spot checks (现场检查, 抽查)
reports/       reports, figures, district compliance, PDF, report query     access, store
access/        tokens, principals, scope, passwords, login, admin           store
wire/          the pushed batch format: inflate, parse, item types          store
store/         tables, connections, migrations, evidence log                no other subpackage
config/errors  the config file; the exception tree                          (nothing of cloud_ingest)
=============  ===========================================================  ===============================
"""
