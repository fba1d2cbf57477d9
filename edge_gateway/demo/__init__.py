"""``sebiao demo``: an embedded broker, the gateway and a workshop of virtual
stations playing a working day, compressed in time."""
