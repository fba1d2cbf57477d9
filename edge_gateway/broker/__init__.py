"""MQTT brokers: the embedded broker (amqtt: ``embedded.py`` runs it, ``embedded_amqtt.py`` makes it
keep what it acknowledges and hands the events to the gateway in-process, ``embedded_plugins.py``
enforces the access policy, ``log_limit.py`` rate-limits its log), Mosquitto's generated config
(``mosquitto.py``), the accounts (``credentials.py``), one station's new password in its files
(``station_password.py``), the ACL and the password-file format.

It may import ``model`` (the workshop, the topics), ``errors`` and ``sebiao_common``.
"""
