"""The InfluxDB sink: the ``influx:`` section, line protocol, the ``outbox`` table,
the drain worker, ``sebiao influx check`` and the InfluxQL reads it uses."""
