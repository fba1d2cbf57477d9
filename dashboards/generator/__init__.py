"""Grafana dashboards as code, built with Grafana's grafana-foundation-sdk.

    catalog.py       the dashboards and their file names
    workshop.py, zones.py, alarms.py, stations.py, district.py   one dashboard each
    panels.py        datasource, district/workshop variables, panel helpers
    influxql.py      the InfluxQL query target (the SDK has no InfluxDB builder)
    vocabulary.py    zones with names and shape symbols, alarm types, severities
    provisioning.py  Grafana file provisioning (datasource, dashboard provider)
    render.py        build the JSON and YAML, write them (``sebiao dashboards build``)
    push.py          upload through grafana-client (``sebiao dashboards push``)
    command.py       the ``sebiao dashboards`` subcommand

Beside this package, ``dashboards/json/`` and ``dashboards/provisioning/`` hold the built output, committed as
the reference (a test rebuilds it and compares).
"""
