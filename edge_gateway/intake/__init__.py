"""MQTT intake: the link to the broker (paho, TCP_NODELAY, the acknowledgement
after commit) and the buffered paho client it runs on.

It may import ``core`` (the pipeline's inbound message), ``model``, ``errors``
and ``sebiao_common``.
"""
