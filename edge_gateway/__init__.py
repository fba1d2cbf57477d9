"""sebiao edge gateway: MQTT in, tool tracking and rules, alarms, local store, sinks out.

Data walks one way: ``intake`` (MQTT) → ``core`` (the single writer: pipeline
and engine, applying the pure ``model``) → ``store`` (SQLite, committed before
the broker's acknowledgement) → ``sinks`` (the InfluxDB and cloud outboxes,
drained by their workers). ``gateway.py`` is the composition root that builds
and wires them; ``web`` serves the API, display and console; ``broker`` the
embedded MQTT broker and Mosquitto's config; ``tooling`` the firmware, stations
and labels; ``vstation`` and ``demo`` run stations and a working day on the
host; ``commands`` are the ``sebiao`` subcommands. The map and the import rules
are ``docs/architecture.md``; ``tests/docs/test_architecture.py`` keeps them.

It may import ``sebiao_common``, never ``cloud_ingest`` or ``dashboards``.
"""

__version__ = "0.1.0"
