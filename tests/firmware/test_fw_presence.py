import fwsupport  # noqa: F401
from sebiao_station.presence import Inventory

A = "04A224E2C65E80"
B = "5A3C9E01"
C = "0102030405060708090A"


def cyc(t, *uids):
    return (t, list(uids), True)


def noisy(t, *uids):
    return (t, list(uids), False)


# (name, [(time ms, uids read, clean)], events expected [(time, action, uid)])
CASES = (
    ("placed at once", [cyc(0, A)], [(0, "placed", A)]),
    ("steady tag: one event", [cyc(0, A), cyc(200, A), cyc(400, A)], [(0, "placed", A)]),
    ("removed after 3 misses and 600 ms",
     [cyc(0, A), cyc(200), cyc(400), cyc(600), cyc(800)],
     [(0, "placed", A), (600, "removed", A)]),
    ("two misses are not a removal",
     [cyc(0, A), cyc(200), cyc(400), cyc(600, A), cyc(800)],
     [(0, "placed", A)]),
    ("errors mean still there",
     [cyc(0, A), cyc(200), noisy(400), cyc(600), cyc(800), noisy(1000), cyc(1200)],
     [(0, "placed", A)]),
    ("3 fast misses wait for 600 ms",
     [cyc(0, A), cyc(50), cyc(100), cyc(150), cyc(550), cyc(650)],
     [(0, "placed", A), (650, "removed", A)]),
    ("noise alone places nothing", [noisy(0), cyc(200)], []),
    ("flapping edge tag stays placed",
     [cyc(t * 200, A) if t % 3 == 0 else cyc(t * 200) for t in range(30)],
     [(0, "placed", A)]),
    # several tags on one reader
    ("two tags, two placements, in the order read", [cyc(0, B, A), cyc(200, A, B)],
     [(0, "placed", B), (0, "placed", A)]),
    ("one of three leaves; the others stay quiet",
     [cyc(0, A, B, C), cyc(200, A, C), cyc(400, C, A), cyc(600, A, C), cyc(800, A, C)],
     [(0, "placed", A), (0, "placed", B), (0, "placed", C), (600, "removed", B)]),
    ("a second tag arriving does not remove the first",
     [cyc(0, A), cyc(200, A, B), cyc(400, B, A), cyc(600, A, B), cyc(800, A, B)],
     [(0, "placed", A), (200, "placed", B)]),
    ("a swap: the new one placed at once, the old one removed after the debounce",
     [cyc(0, A), cyc(200, B), cyc(400, B), cyc(600, B), cyc(800, B)],
     [(0, "placed", A), (200, "placed", B), (600, "removed", A)]),
    ("a noisy cycle with some tags read is no miss for the others",
     [cyc(0, A, B), noisy(200, A), noisy(400, A), noisy(600, A), noisy(800, A), cyc(1000, A, B)],
     [(0, "placed", A), (0, "placed", B)]),
    ("a noisy cycle places what it read",
     [cyc(0, A), noisy(200, A, B), cyc(400, A, B)],
     [(0, "placed", A), (200, "placed", B)]),
    ("a noisy cycle breaks the miss streak",
     [cyc(0, A, B), cyc(200, A), cyc(400, A), noisy(600, A), cyc(800, A), cyc(1000, A), cyc(1200, A)],
     [(0, "placed", A), (0, "placed", B), (1200, "removed", B)]),
    ("all leave together: removed together",
     [cyc(0, A, B), cyc(200), cyc(400), cyc(600)],
     [(0, "placed", A), (0, "placed", B), (600, "removed", A), (600, "removed", B)]),
    ("back before the debounce: no events",
     [cyc(0, A, B), cyc(200, A), cyc(400, A), cyc(500, A, B), cyc(700, A), cyc(900, A)],
     [(0, "placed", A), (0, "placed", B)]),
)


def test_presence_table():
    for name, cycles, expected in CASES:
        p = Inventory(3, 600)
        got = []
        for t, uids, clean in cycles:
            for action, tag in p.update(t, uids, clean):
                got.append((t, action, tag))
        assert got == list(expected), (name, got)


def test_present_lists_the_tags_followed():
    p = Inventory(3, 600)
    p.update(0, [A, B])
    assert sorted(p.present()) == sorted([A, B])
    for t in (200, 400, 600):
        p.update(t, [B])
    assert p.present() == [B]


def test_configurable_thresholds():
    p = Inventory(misses=1, absent_ms=0)
    assert p.update(0, [A]) == [("placed", A)]
    assert p.update(10, []) == [("removed", A)]


def test_wrapping_ticks_use_the_given_diff():
    wrap = 1 << 30

    def diff(a, b):
        return ((a - b + wrap // 2) & (wrap - 1)) - wrap // 2

    p = Inventory(3, 600)
    t0 = wrap - 100
    p.update(t0, [A, B], True, diff)
    out = []
    for i in range(1, 5):
        out += p.update((t0 + i * 200) % wrap, [B], True, diff)
    assert out == [("removed", A)]
