"""Firmware figures, meant to run under MicroPython (wasm): heap used by the
application after start-up, logic cost per poll, events per 100 KiB of buffer.
Prints one JSON object. Run through benchmarks/firmware_figures.py."""

import gc
import json
import sys
import time

import fwsupport

MICRO = sys.implementation.name == "micropython"


def _alloc():
    gc.collect()
    return gc.mem_alloc() if MICRO else 0


def _us():
    return time.ticks_us() if MICRO else int(time.perf_counter() * 1e6)


def _dus(a, b):
    return time.ticks_diff(a, b) if MICRO else a - b


TAGS = ["04A224E2C65E80", "04A224E2C65E81", "5A3C9E01", "0102030405060708090A"]


class StubReader:
    """Tags that are always there: measures the application, not the SPI."""
    healthy = True

    def __init__(self, n=1):
        self.uids = TAGS[:n]

    def inventory(self, visit=None, max_tags=8):
        return self.uids, True

    def init(self):
        return True

    def recover(self):
        return True

    def poll(self):
        return 0, TAGS[0]

    def health(self):
        return {"ok": True}


# The wasm port's gc.collect() only frees garbage made by earlier runPython()
# calls, so the runner calls each stage, then mark(), as separate calls.
STATE = {}
MARKS = {}
RESULT = {}


def mark(name):
    MARKS[name] = _alloc()


def stage_setup():
    board = fwsupport.TestBoard()
    STATE["board"] = board
    STATE["cfg"] = fwsupport.station_config()
    import sebiao_sim.iso14443  # noqa: F401  (the simulator is not the application)


def stage_import():
    from sebiao_station.app import Station  # every module the station runs
    STATE["Station"] = Station


def stage_start():
    from sebiao_sim.iso14443 import Card
    board = STATE["board"]
    st = STATE["Station"](board, STATE["cfg"])
    st.start()
    board.field.place(Card("04A224E2C65E80"))
    fwsupport.run_for(st, 3000)
    # the fake broker's records are not the station's
    board.broker.published = []
    board.broker.connects = []
    STATE["st"] = st
    RESULT["events_sent"] = len(st.events)


def stage_rest():
    RESULT.update(poll_figures(STATE["st"], STATE["board"]))
    RESULT.update(buffer_figures())


def report():
    r = {"runtime": "%s %s" % (sys.implementation.name, ".".join(str(x) for x in sys.implementation.version[:3]))}
    if MICRO:
        r["heap_code_bytes"] = MARKS["imported"] - MARKS["base"]
        r["heap_objects_bytes"] = MARKS["started"] - MARKS["imported"]
        r["heap_app_bytes"] = MARKS["started"] - MARKS["base"]
    r.update(RESULT)
    print("FIGURES " + json.dumps(r))


STAGES = (("setup", "base"), ("import", "imported"), ("start", "started"), ("rest", None))


def poll_figures(st, board):
    from sebiao_sim.iso14443 import Card
    from sebiao_station.presence import Inventory
    out = {}
    chip = board.chip
    for n in (1, 4):
        # one MFRC522 inventory cycle with n tags resting on the reader (simulated SPI time)
        for c in list(board.field.cards):
            board.field.remove(c)
        for u in TAGS[:n]:
            board.field.place(Card(u))
        st.reader.inventory()
        before = chip.now_us
        n0 = chip.transceives
        for _ in range(10):
            got, clean = st.reader.inventory()
            assert len(got) == n and clean
        out["mfrc522_bus_time_us_per_cycle_%d_tags" % n] = (chip.now_us - before) // 10
        out["mfrc522_transceives_per_cycle_%d_tags" % n] = (chip.transceives - n0) / 10
    out["mfrc522_field_reset_wait_ms"] = 10  # FIELD_OFF_MS + FIELD_ON_MS, a sleep, not CPU
    reader = st.reader
    for n in (1, 4):
        # the application's own work per pass (stub reader: no SPI)
        st.reader = StubReader(n)
        st.presence.update(st.clock.ticks_ms(), TAGS[:n])
        count = 200
        t0 = _us()
        for _ in range(count):
            st.last_poll = st.clock.ticks_ms() - st.poll_ms
            st.step()
            st.clock.advance(200)
        out["logic_us_per_poll_%d_tags" % n] = round(_dus(_us(), t0) / count, 1)
        p = Inventory()
        uids = TAGS[:n]
        t0 = _us()
        for i in range(1000):
            p.update(i * 200, uids)
        out["presence_us_per_update_%d_tags" % n] = round(_dus(_us(), t0) / 1000, 2)
    st.reader = reader
    return out


def buffer_figures():
    from sebiao_station.buffer import Buffer
    out = {}
    for name, label in (("events_per_100kib", None),
                        ("events_per_100kib_with_label", {"tool": "KN-R-01", "kind": "knife", "color": "red"})):
        d = fwsupport.tempdir()
        buf = Buffer(d + "/buf", b"\x1a\x2b\x3c\x4d", 102400, 8192)
        n = 0
        t0 = _us()
        while buf.drops == 0:
            buf.append(n, 1764142800123, "04A224E2C65E80", "placed" if n % 2 else "removed", label)
            n += 1
        out[name] = buf.depth
        if label is None:
            out["buffer_append_us"] = round(_dus(_us(), t0) / n, 1)
        fwsupport.rmtree(d)
    return out


def main():
    for stage, name in STAGES:
        globals()["stage_" + stage]()
        if name:
            mark(name)
    report()


if __name__ == "__main__":
    main()
