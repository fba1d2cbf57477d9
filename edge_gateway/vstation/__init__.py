"""Virtual reader stations: the real firmware (``firmware/sebiao_station``) on the
host, with a simulated reader driven by a script (``sebiao station``, ``sebiao demo``).

It may import ``tooling`` (the firmware, station configs), ``model``, ``errors``
and ``sebiao_common``."""
