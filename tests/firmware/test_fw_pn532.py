import fwsupport  # noqa: F401
from sebiao_sim.iso14443 import Card
from sebiao_sim.pn532_sim import PN532Sim
from sebiao_station import ntag, provision
from sebiao_station.presence import MISS, NOISE, SEEN
from sebiao_station.readers import ReaderError
from sebiao_station.readers.pn532 import PN532, frame, unframe


def rig():
    sim = PN532Sim()
    spi, cs, rst = sim.bus()
    r = PN532(spi, cs, rst)
    assert r.init() and r.version == 0x32
    return sim, r


def test_frames_and_checksums():
    assert frame(b"\xd4\x02") == b"\x00\x00\xff\x02\xfe\xd4\x02\x2a\x00"
    assert unframe(frame(b"\xd5\x03\x32\x01")) == b"\xd5\x03\x32\x01"
    for bad in (b"\x00\x00\xff\x02\xfd\xd4\x02\x2a\x00", b"\x00\x00\xff\x02\xfe\xd4\x02\x2b\x00", b"\x00\x00"):
        try:
            unframe(bad)
        except ReaderError:
            continue
        raise AssertionError(bad)


def test_presence_uids_and_collisions():
    for uids in (("5A3C9E01",), ("04A224E2C65E80",), ("0102030405060708090A",),
                 ("04A224E2C65E80", "04A224E2C75E81")):
        sim, r = rig()
        assert r.poll() == (MISS, None)
        for u in uids:
            sim.field.place(Card(u))
        first = r.poll()
        assert first[0] == SEEN and first[1] in uids
        assert r.poll() == first  # field off/on between polls: the tag answers again


def test_label_through_in_data_exchange():
    sim, r = rig()
    sim.field.place(Card("04A224E2C65E80"))
    assert r.poll()[0] == SEEN
    assert provision.write_label(r, "CB-W-12", "cutting_board", "white")["tool"] == "CB-W-12"
    assert r.poll()[0] == SEEN
    assert ntag.read_label(r) == {"tool": "CB-W-12", "kind": "cutting_board", "color": "white"}


def test_dead_chip_faults_then_hard_reset():
    sim, r = rig()
    sim.silent = True
    assert [r.poll()[0] for _ in range(3)] == [NOISE, NOISE, NOISE]
    assert r.stats["hard_resets"] == 1 and r.healthy
    assert r.poll() == (MISS, None)


def test_noise_in_data_exchange_is_an_error():
    sim, r = rig()
    sim.field.place(Card("04A224E2C65E80"))
    assert r.poll()[0] == SEEN
    sim.field.noise = 1
    try:
        r.read4(4)
    except ReaderError as exc:
        assert "0x03" in str(exc)
    else:
        raise AssertionError("noisy read accepted")



def test_inventory_lists_two_targets_and_reads_each():
    sim, r = rig()
    uids = ("04A224E2C65E80", "04A224E2C75E81")
    cards = []
    for u, tool in zip(uids, ("KN-R-01", "CL-R-01")):
        card = sim.field.place(Card(u))
        r.poll()
        provision.write_label(r, tool, "knife", "red")
        sim.field.remove(card)
        cards.append(card)
    for c in cards:
        sim.field.place(c)
    for _ in range(3):
        seen = {}
        got, clean = r.inventory(lambda uid: seen.__setitem__(uid, ntag.read_label(r)["tool"]))
        assert clean and sorted(got) == sorted(uids)
        assert seen == {uids[0]: "KN-R-01", uids[1]: "CL-R-01"}  # Tg 2 re-selected by the PN532
    assert r.inventory(max_tags=1)[0] in ([uids[0]], [uids[1]])


def test_inventory_a_third_tag_waits_for_a_free_slot():
    sim, r = rig()
    uids = ("5A3C9E01", "04A224E2C65E80", "0102030405060708090A")
    cards = [sim.field.place(Card(u)) for u in uids]
    first = r.inventory()
    assert len(first[0]) == 2 and first[1]
    assert r.inventory() == first  # the same two each cycle: nothing flaps
    gone = [c for c in cards if c.hex() == first[0][0]][0]
    sim.field.remove(gone)
    got, clean = r.inventory()
    assert clean and sorted(got) == sorted(u for u in uids if u != gone.hex())
