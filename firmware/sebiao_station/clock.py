"""Monotonic milliseconds and the wall clock, the same on MicroPython and CPython.

MicroPython's time.ticks_ms() wraps (at 2**30 on ESP32), so differences always
go through ticks_diff. The wall clock is unknown until NTP answers: epoch_ms()
is 0 until then, which is what protocol v1 sends for "clock not set".
"""

REBASE_MS = 3600000  # re-anchor the wall clock every hour, long before ticks wrap


class Clock:
    def __init__(self, ticks_ms, ticks_diff, sleep_ms):
        self.ticks_ms = ticks_ms
        self.ticks_diff = ticks_diff
        self.sleep_ms = sleep_ms
        self._base_tick = 0
        self._base_epoch = 0  # 0 = not synced

    def since(self, t0):
        """ms elapsed since the tick t0."""
        return self.ticks_diff(self.ticks_ms(), t0)

    @property
    def synced(self):
        return self._base_epoch != 0

    def set_epoch_ms(self, epoch_ms):
        self._base_tick = self.ticks_ms()
        self._base_epoch = int(epoch_ms)

    def epoch_ms(self):
        if not self._base_epoch:
            return 0
        now = self.ticks_ms()
        elapsed = self.ticks_diff(now, self._base_tick)
        if elapsed > REBASE_MS:
            self._base_epoch += elapsed
            self._base_tick = now
            elapsed = 0
        return self._base_epoch + elapsed

    def epoch_at(self, tick):
        """Wall time of an earlier tick of this boot, or 0 if the clock is not set."""
        now = self.epoch_ms()
        if not now:
            return 0
        return now - self.ticks_diff(self.ticks_ms(), tick)


def system_clock():
    import time
    if hasattr(time, "ticks_ms"):
        return Clock(time.ticks_ms, time.ticks_diff, time.sleep_ms)
    # CPython only (the MicroPython stubs rightly have no time.monotonic)
    monotonic = getattr(time, "monotonic")
    start = monotonic()

    def ticks_ms():
        return int((monotonic() - start) * 1000)

    def sleep_ms(ms):
        time.sleep(ms / 1000)

    return Clock(ticks_ms, lambda a, b: a - b, sleep_ms)


class FakeClock(Clock):
    """Manual time for tests and simulations: sleeping advances it."""

    def __init__(self, start_ms=0):
        self.now = start_ms
        Clock.__init__(self, self._ticks, lambda a, b: a - b, self.advance)

    def _ticks(self):
        return self.now

    def advance(self, ms):
        self.now += int(ms)
