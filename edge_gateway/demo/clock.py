"""The demo's day clock: wall time of a working day that runs ``speed`` times
faster than real time, shared by the gateway and every virtual station so that
events, alarms and the gateway's rules all see the same, realistic times.

Piecewise linear in real (monotonic) time: ``set_speed`` starts a new piece,
so the day can slow down around a mistake and speed up again.
"""

from __future__ import annotations

import bisect
import threading
import time
from typing import Callable


class DayClock:
    def __init__(self, start_epoch_ms: int, speed: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.monotonic = monotonic
        self.speed = speed
        self._lock = threading.Lock()
        self._reals: list[float] = [monotonic()]
        self._pieces: list[tuple[float, float, float]] = [(self._reals[0], float(start_epoch_ms), speed)]

    def at(self, real_s: float) -> int:
        """Virtual epoch ms at a real monotonic time (the piece in force then)."""
        with self._lock:
            i = max(0, bisect.bisect_right(self._reals, real_s) - 1)
            real0, virt0, speed = self._pieces[i]
        return int(virt0 + (real_s - real0) * 1000 * speed)

    def now_ms(self) -> int:
        return self.at(self.monotonic())

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        now = self.monotonic()
        virt = float(self.at(now))
        with self._lock:
            self._reals.append(now)
            self._pieces.append((now, virt, speed))
            self.speed = speed

    def real_seconds_until(self, epoch_ms: int) -> float:
        """Real seconds until the virtual clock reaches ``epoch_ms`` at the current speed (0 if past)."""
        return max(0.0, (epoch_ms - self.now_ms()) / 1000 / self.speed)


def station_clock(day: DayClock) -> object:
    """A firmware ``Clock`` whose ticks are real milliseconds and whose wall time is the day's
    (for ``VirtualStation``, which hands it to the firmware as it is)."""
    from edge_gateway.tooling.firmware_files import use_firmware

    use_firmware()
    from sebiao_station.clock import Clock

    origin = day.monotonic()

    def ticks_ms() -> int:
        return int((day.monotonic() - origin) * 1000)

    class VirtualDayClock(Clock):
        def __init__(self) -> None:
            Clock.__init__(self, ticks_ms, lambda a, b: a - b, lambda ms: time.sleep(ms / 1000))
            self._base_epoch = 1  # synced from the start: the day clock is the station's NTP

        def set_epoch_ms(self, epoch_ms: int) -> None:
            pass  # the host's NTP answer is real time; the day clock wins

        def epoch_ms(self) -> int:
            return day.now_ms()

        def epoch_at(self, tick: int) -> int:
            return day.at(origin + tick / 1000)

    return VirtualDayClock()
