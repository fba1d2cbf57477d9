import fwsupport  # noqa: F401
from sebiao_station.presence import Presence, SEEN, MISS, NOISE

A = "04A224E2C65E80"
B = "5A3C9E01"

# (name, [(time ms, kind, uid)], events expected [(time, action, uid)])
CASES = (
    ("placed at once", [(0, SEEN, A)], [(0, "placed", A)]),
    ("steady tag: one event", [(0, SEEN, A), (200, SEEN, A), (400, SEEN, A)], [(0, "placed", A)]),
    ("removed after 3 misses and 600 ms",
     [(0, SEEN, A), (200, MISS, None), (400, MISS, None), (600, MISS, None), (800, MISS, None)],
     [(0, "placed", A), (600, "removed", A)]),
    ("two misses are not a removal",
     [(0, SEEN, A), (200, MISS, None), (400, MISS, None), (600, SEEN, A), (800, MISS, None)],
     [(0, "placed", A)]),
    ("errors mean still there",
     [(0, SEEN, A), (200, MISS, None), (400, NOISE, None), (600, MISS, None), (800, MISS, None),
      (1000, NOISE, None), (1200, MISS, None)],
     [(0, "placed", A)]),
    ("3 fast misses wait for 600 ms",
     [(0, SEEN, A), (50, MISS, None), (100, MISS, None), (150, MISS, None), (550, MISS, None), (650, MISS, None)],
     [(0, "placed", A), (650, "removed", A)]),
    ("swap between polls", [(0, SEEN, A), (200, SEEN, B)],
     [(0, "placed", A), (200, "removed", A), (200, "placed", B)]),
    ("noise alone places nothing", [(0, NOISE, None), (200, MISS, None)], []),
    ("flapping edge tag stays placed",
     [(t * 200, SEEN if t % 3 == 0 else MISS, A if t % 3 == 0 else None) for t in range(30)],
     [(0, "placed", A)]),
)


def test_presence_table():
    for name, polls, expected in CASES:
        p = Presence(3, 600)
        got = []
        for t, kind, uid in polls:
            for action, tag in p.update(t, kind, uid):
                got.append((t, action, tag))
        assert got == list(expected), (name, got)


def test_configurable_thresholds():
    p = Presence(misses=1, absent_ms=0)
    assert p.update(0, SEEN, A) == [("placed", A)]
    assert p.update(10, MISS) == [("removed", A)]


def test_wrapping_ticks_use_the_given_diff():
    wrap = 1 << 30

    def diff(a, b):
        return ((a - b + wrap // 2) & (wrap - 1)) - wrap // 2

    p = Presence(3, 600)
    t0 = wrap - 100
    p.update(t0, SEEN, A, diff)
    out = []
    for i in range(1, 5):
        out += p.update((t0 + i * 200) % wrap, MISS, None, diff)
    assert out == [("removed", A)]
