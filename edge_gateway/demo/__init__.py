"""``sebiao demo``: an embedded broker, the gateway and a workshop of virtual
stations playing a working day, compressed in time.

It may import anything in ``edge_gateway`` but ``commands``: it wires a gateway
and stations as ``gateway.py`` and ``vstation`` do."""
