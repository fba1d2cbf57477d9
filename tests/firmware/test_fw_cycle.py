"""Cycle detection (pure): start at start_c, end below start_c - 2, max_s, gaps, trimming."""

import fwsupport  # noqa: F401
from sebiao_station.cycle import CycleDetector

S = 5000  # the interval in ms


def run(temps, start_c=45, max_s=7200, max_samples=1440):
    """Feed samples every 5 s (None = a failed reading); the cycles as (first i, last i, interval_s, temps)."""
    d = CycleDetector(start_c * 10, S, max_s * 1000, lambda a, b: a - b, max_samples)
    out = []
    for i, t in enumerate(temps):
        c = d.sample(i * S, t)
        if c is not None:
            out.append((c.start_tick // S, c.end_tick // S, c.interval_ms // 1000, c.temps_dc))
    return out, d


TABLE = (
    # (name, samples, expected cycles)
    ("cold all day", [200, 300, 440, 449, 300], []),
    ("one cycle: starts at 45.0, ends with the first sample below 43.0",
     [200, 450, 700, 850, 700, 440, 431, 429, 300], [(1, 7, 5, [450, 700, 850, 700, 440, 431, 429])]),
    ("hysteresis: a dip to 43.0 does not end it", [460, 430, 470, 420],
     [(0, 3, 5, [460, 430, 470, 420])]),
    ("two cycles", [500, 400, 200, 600, 100], [(0, 1, 5, [500, 400]), (3, 4, 5, [600, 100])]),
    ("still running at the end: nothing yet", [500, 600, 700], []),
    ("a failed reading closes it at the last good sample", [500, 600, None, 700, 100],
     [(0, 1, 5, [500, 600]), (3, 4, 5, [700, 100])]),
    ("a failed reading between cycles changes nothing", [200, None, 200], []),
    ("negative and exact thresholds", [-50, 450, 430, 429], [(1, 3, 5, [450, 430, 429])]),
)


def test_cycles_table():
    for name, temps, want in TABLE:
        got, _ = run(temps)
        assert got == want, (name, got, want)


def test_max_s_closes_and_the_next_sample_starts_a_new_cycle():
    got, d = run([900] * 30 + [100], max_s=60)  # 12 samples a cycle
    assert [(a, b) for a, b, _, _ in got] == [(0, 11), (12, 23), (24, 30)], got
    assert all(len(c[3]) == 12 for c in got[:2]) and got[2][3] == [900] * 6 + [100]
    assert not d.running


def test_default_max_s_holds_1440_samples_of_5_s():
    got, d = run([800] * 1441)
    assert len(got) == 1 and got[0][:3] == (0, 1439, 5) and len(got[0][3]) == 1440
    assert d.running  # sample 1440 started the next


def test_more_samples_than_the_limit_keep_every_nth():
    temps = list(range(500, 600)) + [100]  # 101 samples, limit 40
    got, _ = run(temps, max_samples=40)
    (first, last, interval, kept), = got
    assert (first, last) == (0, 100) and interval == 20 and len(kept) <= 40
    # sample i of the kept ones is sample i * 4 of the cycle: start + i * interval is its time
    assert kept == [temps[i] for i in range(0, 101, 4)], kept
