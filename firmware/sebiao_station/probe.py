"""The station's temperature probe: a DS18B20 sampled every `probe.interval_s`
without blocking the main loop (CONVERT T, come back 750 ms later, read), its
samples fed to the cycle detector. A bad reading is counted and reported in the
status (`probe_errors`, `probe_error`), never raised to the station.
"""

from . import protocol
from .cycle import CycleDetector
from .ds18b20 import CONVERT_MS, DS18B20, ProbeError


class Probe:
    def __init__(self, ow, clock, cfg):
        """`ow`: the 1-Wire bus (onewire.OneWire shape); `cfg`: the config's "probe" object."""
        self.clock = clock
        self.sensor = DS18B20(ow)
        self.interval_ms = cfg["interval_s"] * 1000
        self.detector = CycleDetector(cfg["start_c"] * 10, self.interval_ms, cfg["max_s"] * 1000, clock.ticks_diff)
        self.next_due = clock.ticks_ms()
        self.converting = None  # tick of the CONVERT T in progress
        self.last_dc = None  # the last good reading (tenths of °C)
        self.ok = None  # None until the first reading
        self.errors = 0
        self.error = ""
        self.cycles = 0
        self.missed = 0  # samples the main loop was too late to take

    def step(self):
        """One bounded pass: start a conversion when due, read it when done.
        Returns a finished cycle.Cycle or None."""
        clock = self.clock
        now = clock.ticks_ms()
        if self.converting is not None:
            if clock.ticks_diff(now, self.converting) < CONVERT_MS:
                return None
            tick = self.converting
            self.converting = None
            try:
                dc = self.sensor.read_dc()
            except (ProbeError, OSError) as exc:
                return self._failed(tick, exc)
            self.last_dc = dc
            self.ok = True
            return self._count(self.detector.sample(tick, dc))
        late = clock.ticks_diff(now, self.next_due)
        if late < 0:
            return None
        done = None
        if late >= self.interval_ms:
            # the loop stalled past a whole interval (the network's timeouts): a sample is
            # missing, so a running cycle ends at its last sample; start again from now
            self.missed += 1
            done = self._count(self.detector.sample(now, None))
            self.next_due = now + self.interval_ms
        else:
            self.next_due += self.interval_ms  # on schedule, not from now: the samples do not drift
        try:
            self.sensor.start()
        except (ProbeError, OSError) as exc:
            failed = self._failed(now, exc)
            return done or failed
        self.converting = now
        return done

    def _failed(self, tick, exc):
        self.errors += 1
        self.ok = False
        self.error = str(exc)[:40] or type(exc).__name__
        return self._count(self.detector.sample(tick, None))

    def _count(self, cycle):
        if cycle is not None:
            self.cycles += 1
        return cycle

    def health(self):
        h = {
            "probe_c": None if self.last_dc is None else self.last_dc / 10,
            "probe_ok": self.ok,
            "probe_errors": self.errors,
            "probe_cycles": self.cycles,
            "probe_in_cycle": self.detector.running,
            "probe_missed": self.missed,
        }
        if self.error:
            h["probe_error"] = self.error
        return h

    def record(self, station, cycle):
        """A finished cycle into the station's buffer, as an event is (evidence: kept until the PUBACK)."""
        interval_s = cycle.interval_ms // 1000
        temps = cycle.temps_dc
        # the gateway takes at most protocol.MAX_PAYLOAD_BYTES: keep every 2nd sample until it fits
        while len(temps) > 1 and len(protocol.cycle_payload(station.boot, station.seq, protocol.WIDEST_MS,
                                                           protocol.WIDEST_MS, interval_s,
                                                           temps)) > protocol.MAX_PAYLOAD_BYTES:
            temps = temps[::2]
            interval_s *= 2
        clock = self.clock
        ts = clock.epoch_at(cycle.end_tick)
        dur = clock.ticks_diff(cycle.end_tick, cycle.start_tick)
        station.buffer.append_cycle(station.seq, ts, dur, interval_s, temps, None if ts else cycle.end_tick)
        station.seq += 1
        if station.on_cycle is not None:
            station.on_cycle(cycle.start_tick, cycle.end_tick, interval_s, temps)
