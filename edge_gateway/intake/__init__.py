"""MQTT intake: the link to the broker (paho, TCP_NODELAY, the acknowledgement
after commit), the buffered paho client it runs on, each station's rate and the
shutting out of a flooding one (``guard.py``, ``rates.py``), and the ``intake:``
config section (``settings.py``).

It may import ``core`` (the pipeline's inbound message, the metrics), ``model``,
``errors`` and ``sebiao_common``.
"""
