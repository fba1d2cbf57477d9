"""InfluxDB, as both sides write it: the line format (``lines``), the connection
settings (``settings``) and the writer over the v1 and v2 write APIs (``writer``).

Imports only the standard library, third-party libraries and ``sebiao_common``.
"""
