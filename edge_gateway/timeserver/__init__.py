"""The workshop's time source: the gateway answers SNTP (RFC 4330) so stations set their clocks without the internet.

- ``settings.py``  the ``time_server:`` section of workshop.yaml
- ``sntp.py``      PURE: the packet (a client request is checked, an answer built) and the stratum/leap policy
- ``own_clock.py`` whether the gateway's own clock is synchronised (the kernel's ``adjtimex``)
- ``server.py``    the UDP server thread: answers well-formed requests, at most a few a second per address

It may import ``model`` and ``errors`` (and ``sebiao_common``); ``gateway.py`` starts it and hands its state to
the web (``/healthz``, ``/metrics``, the console) as plain values.
"""
