import fwsupport
from sebiao_station.buffer import Buffer, decode_record, encode_record

BOOT = b"\x1a\x2b\x3c\x4d"
BOOT2 = b"\xde\xad\xbe\xef"


def _drain(buf):
    out = []
    while True:
        rec = buf.peek()
        if rec is None:
            return out
        out.append(rec)
        buf.ack()


RECORDS = (
    (0, 1764142800123, "04A224E2C65E80", "placed", None, None),
    (300, 0, "5A3C9E01", "removed", None, 123456),
    (2 ** 40, 1764142800123, "0102030405060708090A", "placed", {"tool": "KN-R-01", "kind": "knife", "color": "red"}, None),
    (5, 0, "5A3C9E01", "removed", {"tool": "BR-G-02"}, None),
)


def test_record_codec_round_trip():
    for seq, ts, tag, action, lab, ticks in RECORDS:
        raw = encode_record(seq, ts, tag, action, lab, ticks)
        rec = decode_record(raw[1:])
        assert raw[0] == len(raw)
        assert (rec["seq"], rec["ts"], rec["tag"], rec["action"], rec["label"], rec["ticks"]) == (
            seq, ts, tag, action, lab, ticks), rec


def test_compact_enough_for_1000_events_per_100_kib():
    raw = encode_record(123456, 1764142800123, "04A224E2C65E80", "placed")
    assert len(raw) <= 20
    assert 102400 // len(raw) >= 1000


def test_fifo_and_cursor_survive_a_restart():
    d = fwsupport.tempdir()
    buf = Buffer(d + "/buf", BOOT, 8192, 1024)
    for i in range(5):
        buf.append(i, 0, "5A3C9E01", "placed")
    assert buf.peek()["seq"] == 0
    buf.ack()
    assert buf.peek()["seq"] == 1  # peeked, not acked: must come again after restart
    again = Buffer(d + "/buf", BOOT2, 8192, 1024)
    assert again.depth == 4
    got = _drain(again)
    assert [r["seq"] for r in got] == [1, 2, 3, 4]
    assert got[0]["boot"] == "1a2b3c4d"
    assert again.depth == 0 and again.peek() is None
    again.append(0, 0, "5A3C9E01", "removed")
    assert again.peek()["boot"] == "deadbeef"
    fwsupport.rmtree(d)


def test_segments_roll_and_are_deleted_once_read():
    d = fwsupport.tempdir()
    buf = Buffer(d + "/buf", BOOT, 64 * 1024, 512)
    for i in range(200):
        buf.append(i, 1764142800123, "04A224E2C65E80", "placed")
    assert len(buf.segments) > 5
    assert [r["seq"] for r in _drain(buf)] == list(range(200))
    assert len(buf.segments) == 1
    import os
    assert sorted(n for n in os.listdir(d + "/buf") if n.endswith(".seg")) == ["%08d.seg" % buf.segments[0]]
    fwsupport.rmtree(d)


def test_cap_drops_oldest_first_and_counts():
    d = fwsupport.tempdir()
    buf = Buffer(d + "/buf", BOOT, 4096, 1024)
    for i in range(1000):
        buf.append(i, 1764142800123, "04A224E2C65E80", "placed")
    assert buf.total_bytes() <= 4096
    got = [r["seq"] for r in _drain(buf)]
    assert got == list(range(1000 - len(got), 1000))  # the newest survive, in order
    assert buf.drops == 1000 - len(got) and buf.drops > 0
    assert Buffer(d + "/buf", BOOT2, 4096, 1024).drops == buf.drops  # persisted
    fwsupport.rmtree(d)


def test_torn_tail_is_skipped():
    d = fwsupport.tempdir()
    buf = Buffer(d + "/buf", BOOT, 8192, 1024)
    buf.append(0, 0, "5A3C9E01", "placed")
    path = buf._path(buf.segments[-1])
    with open(path, "ab") as f:
        f.write(b"\x12\x01\x05")  # power cut in the middle of a record
    again = Buffer(d + "/buf", BOOT2, 8192, 1024)
    again.append(1, 0, "5A3C9E01", "removed")
    assert [(r["boot"], r["seq"]) for r in _drain(again)] == [("1a2b3c4d", 0), ("deadbeef", 1)]
    fwsupport.rmtree(d)


def test_events_per_100_kib_of_flash():
    d = fwsupport.tempdir()
    buf = Buffer(d + "/buf", BOOT, 102400, 8192)
    n = 0
    while buf.drops == 0:
        buf.append(n, 1764142800123, "04A224E2C65E80", "placed" if n % 2 else "removed")
        n += 1
    assert buf.depth >= 1000 * 4
    fwsupport.rmtree(d)
