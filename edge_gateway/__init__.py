"""sebiao edge gateway: MQTT in, tool tracking and rules, alarms, local store."""

__version__ = "0.1.0"
