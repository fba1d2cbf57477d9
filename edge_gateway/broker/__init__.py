"""MQTT brokers: the embedded broker (amqtt, with the access policy as plugins),
Mosquitto's generated config (``mosquitto.py``), station credentials, the ACL
and the password-file format.

It may import ``model`` (the workshop, the topics), ``errors`` and ``sebiao_common``.
"""
