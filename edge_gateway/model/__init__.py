"""The pure model: the workshop config, the MQTT protocol's messages, each tool's
state machine, the rules, disinfection cycles, the setup as evidence (``setup.py``),
station liveness, the alarm lifecycle and its texts, the owner's day (``day.py``: opening check, roll call),
and enrolment (``enrolment.py``: the tools new tags make, the config text with them added),
the stations' remote settings (``station_settings.py``) and a station's new Wi-Fi or broker password
(``station_secrets.py``).

No I/O, no clock, no threads: every function takes ``now`` from its caller and
returns frozen values, so the rules are table-tested. It may import
``edge_gateway.errors`` and ``sebiao_common`` only.

Station health (``station_health.py``: a station that keeps resetting, a reader that fails; its bounds,
``rules.station_health``, in ``health_rules.py``).
"""
