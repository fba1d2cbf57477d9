"""Cycle detection for a disinfection cabinet, a boiling pot or a hot-wash sink
(pure: no clock, no hardware; table-tested).

Samples come every `interval_ms`. A cycle starts with the first sample at or
above `start_dc` and ends with the first sample below `start_dc - HYSTERESIS_DC`
(that sample is the cycle's last: it shows the fall), or when the cycle has
run `max_ms` (the sample that would pass it starts the next cycle if it is
still hot). A failed reading (None) closes a running cycle at its last good
sample: inside a cycle every sample is exactly one interval after the one
before, and a hole is never filled with a guess. A longer cycle than
`max_samples` keeps every 2nd sample (then every 4th...), and its interval
doubles each time, so `start + i * interval` stays the time of sample i.
"""

HYSTERESIS_DC = 20
MAX_SAMPLES = 1440


class Cycle:
    """A finished cycle: ticks of its first and last sample, the interval between
    the samples kept (ms) and the temperatures in tenths of °C."""

    def __init__(self, start_tick, end_tick, interval_ms, temps_dc):
        self.start_tick = start_tick
        self.end_tick = end_tick
        self.interval_ms = interval_ms
        self.temps_dc = temps_dc

    def __repr__(self):
        return "Cycle(%r, %r, %r, %r)" % (self.start_tick, self.end_tick, self.interval_ms, self.temps_dc)


class CycleDetector:
    def __init__(self, start_dc, interval_ms, max_ms, ticks_diff, max_samples=MAX_SAMPLES):
        self.start_dc = start_dc
        self.end_dc = start_dc - HYSTERESIS_DC
        self.interval_ms = interval_ms
        self.max_ms = max_ms
        self.ticks_diff = ticks_diff
        self.max_samples = max_samples
        self.temps = None  # type: list | None  # the running cycle's kept samples, or None between cycles
        self.start_tick = 0
        self.last_tick = 0
        self.count = 0  # samples seen in the running cycle (kept or not)
        self.stride = 1  # every stride-th sample is kept

    @property
    def running(self):
        return self.temps is not None

    def sample(self, tick, dc):
        """Feed one sample (dc None = a failed reading); the cycle it finished, or None."""
        done = None
        if self.temps is not None:
            if dc is None:
                return self._close()
            if self.ticks_diff(tick, self.start_tick) >= self.max_ms:
                done = self._close()
            else:
                self._keep(tick, dc)
                if dc < self.end_dc:
                    return self._close()
                return None
        if dc is not None and dc >= self.start_dc:
            self.temps = []
            self.start_tick = tick
            self.count = 0
            self.stride = 1
            self._keep(tick, dc)
        return done

    def _keep(self, tick, dc):
        temps = self.temps
        if temps is not None and self.count % self.stride == 0:
            temps.append(dc)
            if len(temps) > self.max_samples:
                self.temps = temps[::2]
                self.stride *= 2
        self.count += 1
        self.last_tick = tick

    def _close(self):
        cycle = Cycle(self.start_tick, self.last_tick, self.interval_ms * self.stride, self.temps)
        self.temps = None
        return cycle
