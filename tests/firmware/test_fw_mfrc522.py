import fwsupport  # noqa: F401
from sebiao_sim.iso14443 import Card, crc_a
from sebiao_sim.mfrc522_sim import RFCFG, STATUS2, TXCONTROL, MFRC522Sim
from sebiao_station import ntag, provision
from sebiao_station.presence import MISS, NOISE, SEEN
from sebiao_station.readers import ReaderError
from sebiao_station.readers.mfrc522 import MFRC522


def rig(version=0x92, gain=4):
    sim = MFRC522Sim(version=version)
    spi, cs, rst = sim.bus()
    reader = MFRC522(spi, cs, rst, gain=gain)
    assert reader.init()
    return sim, reader


def test_crc_a_from_the_coprocessor_matches_iso_vectors():
    sim, r = rig()
    # ISO/IEC 14443-3 annex B: CRC_A of 00 00 is A0 1E; of 12 34 is 26 CF
    assert r.crc(b"\x00\x00") == b"\xa0\x1e"
    assert r.crc(b"\x12\x34") == b"\x26\xcf"
    assert r.crc(b"\x30\x04") == bytes((crc_a(b"\x30\x04") & 0xFF, crc_a(b"\x30\x04") >> 8))


def test_uids_of_every_length_through_the_cascade():
    for uid in ("5A3C9E01", "04A224E2C65E80", "0102030405060708090A", "88000000"):
        sim, r = rig()
        if uid == "88000000":
            continue  # a 4-byte UID never starts with the cascade tag
        card = sim.field.place(Card(uid))
        assert r.poll() == (SEEN, uid)
        assert r.poll() == (SEEN, uid)  # HLTA + WUPA: a resting tag answers every poll
        sim.field.remove(card)
        assert r.poll() == (MISS, None)


def test_two_tags_collide_and_one_is_selected_consistently():
    pairs = (("04A224E2C65E80", "04A224E2C75E81"),  # differ only at cascade level 2
             ("5A3C9E01", "5B3C9E01"),  # differ in the first byte
             ("0102030405060708090A", "0102030405060708090B"))  # differ at level 3
    for a, b in pairs:
        sim, r = rig()
        sim.field.place(Card(a))
        sim.field.place(Card(b))
        first = r.poll()
        assert first[0] == SEEN and first[1] in (a, b)
        assert r.poll() == first
        assert r.poll() == first
        # take the chosen one away: the other is found
        for c in list(sim.field.cards):
            if c.hex() == first[1]:
                sim.field.remove(c)
        assert r.poll() == (SEEN, b if first[1] == a else a)


def test_noise_is_noise_not_a_miss():
    sim, r = rig()
    sim.field.place(Card("04A224E2C65E80"))
    sim.field.noise = 1
    assert r.poll() == (NOISE, None)
    sim.field.crc_noise = 1  # the SAK's CRC comes back wrong
    kinds = [r.poll()[0] for _ in range(3)]
    assert NOISE in kinds and kinds[-1] == SEEN
    assert r.stats["rf_errors"] >= 2


def test_timeout_is_bounded_by_the_chip_timer():
    sim, r = rig()
    start = sim.now_us
    assert r.poll() == (MISS, None)
    spent = sim.now_us - start
    assert 1000 < spent < 3000, spent  # the 1 ms WUPA timer, not the poll guard
    assert r.inventory() == ([], True)
    assert r.select() == (1, None, None)  # nothing READY: anticollision times out at 5 ms


# ---- multi-tag inventory

SETS = (
    ("two NTAGs differing at cascade level 2", ("04A224E2C65E80", "04A224E2C75E81")),
    ("4-byte UIDs differing in the first byte", ("5A3C9E01", "5B3C9E01")),
    ("10-byte UIDs differing at level 3", ("0102030405060708090A", "0102030405060708090B")),
    ("mixed lengths: ATQAs collide", ("5A3C9E01", "04A224E2C65E80", "0102030405060708090A")),
    ("four NTAGs of one maker (same UID0-2)",
     ("04A224E2C65E80", "04A224E2C65E81", "04A22412C65E80", "04A224E2C6DE80")),
)


def test_inventory_finds_every_tag_every_cycle():
    for name, uids in SETS:
        sim, r = rig()
        for u in uids:
            sim.field.place(Card(u))
        for cycle in range(3):
            got, clean = r.inventory()
            assert clean and sorted(got) == sorted(uids), (name, cycle, got)
        # every card was HALTed at the end of the cycle
        assert all(c.state == 3 for c in sim.field.cards), name


def test_inventory_calls_visit_while_each_tag_is_selected():
    sim, r = rig()
    for u, tool in (("04A224E2C65E80", "KN-R-01"), ("04A224E2C65E81", "CL-R-01")):
        card = sim.field.place(Card(u))
        r.poll()
        provision.write_label(r, tool, "knife", "red")
        sim.field.remove(card)
        sim.field.place(card)
    seen = {}
    got, clean = r.inventory(lambda uid: seen.__setitem__(uid, ntag.read_label(r)["tool"]))
    assert clean and seen == {"04A224E2C65E80": "KN-R-01", "04A224E2C65E81": "CL-R-01"}


def test_one_tag_leaving_leaves_the_others_found():
    uids = ("04A224E2C65E80", "04A224E2C65E81", "5A3C9E01", "04A22412C65E80")
    sim, r = rig()
    cards = [sim.field.place(Card(u)) for u in uids]
    assert sorted(r.inventory()[0]) == sorted(uids)
    sim.field.remove(cards[1])
    for _ in range(3):
        got, clean = r.inventory()
        assert clean and sorted(got) == sorted(uids[:1] + uids[2:])
    sim.field.place(cards[1])  # back: found again (it powers up IDLE)
    assert sorted(r.inventory()[0]) == sorted(uids)


def test_halted_tags_stay_silent_to_reqa_and_wake_to_wupa():
    sim, r = rig()
    for u in ("04A224E2C65E80", "5A3C9E01"):
        sim.field.place(Card(u))
    r.inventory()
    assert r.reqa()[0] == 1  # TIMEOUT: both HALTed
    assert r.wupa()[0] in (0, 2)  # OK or COLLISION: both woke
    r._active = True
    assert sorted(r.inventory()[0]) == ["04A224E2C65E80", "5A3C9E01"]


def test_max_tags_per_cycle_makes_the_cycle_unclean():
    uids = ["04A224E2C65E%02X" % i for i in range(4)]
    sim, r = rig()
    for u in uids:
        sim.field.place(Card(u))
    got, clean = r.inventory(max_tags=3)
    assert len(got) == 3 and not clean and r.stats["truncated"] == 1
    got, clean = r.inventory(max_tags=4)  # exactly the max: the last REQA is silent
    assert sorted(got) == uids and clean


def test_noisy_cycles_are_unclean_and_recover():
    uids = ("04A224E2C65E80", "5A3C9E01")
    sim, r = rig()
    for u in uids:
        sim.field.place(Card(u))
    sim.field.noise = 1  # the ATQA comes back with a parity error
    assert r.inventory() == ([], False)
    assert sorted(r.inventory()[0]) == sorted(uids)  # cards left READY are put to rest first
    unclean = 0
    for k in range(1, 7):  # k answers with a bit flipped: unclean, never a wrong UID
        sim.field.crc_noise = k
        got, clean = r.inventory()
        sim.field.crc_noise = 0
        assert set(got) <= set(uids) and (not clean or sorted(got) == sorted(uids)), got
        unclean += not clean
    # a flip after a collision is discarded with the rest of that answer (ValuesAfterColl=0);
    # the others break a BCC or a CRC
    assert unclean >= 3 and r.stats["rf_errors"] >= 3, (unclean, r.stats)
    sim.field.crc_noise = 0
    got, clean = r.inventory()
    assert sorted(got) == sorted(uids) and clean


def test_ntag_read_write_and_label():
    sim, r = rig()
    card = sim.field.place(Card("04A224E2C65E80"))
    assert r.poll()[0] == SEEN
    page0 = r.read4(0)
    assert page0[0:3] == bytes((0x04, 0xA2, 0x24)) and page0[12:16] == b"\xe1\x10\x12\x00"
    assert ntag.read_label(r) is None
    got = provision.write_label(r, "KN-R-01", "knife", "red")
    assert got == {"tool": "KN-R-01", "kind": "knife", "color": "red"}
    assert r.poll()[0] == SEEN
    assert ntag.read_label(r) == got
    try:
        r.write_page(2, b"\0\0\0\0")  # lock bytes: the tag NAKs
    except ReaderError:
        pass
    else:
        raise AssertionError("wrote page 2")
    assert card.writes >= 3


def test_tag_leaving_during_a_read_raises():
    sim, r = rig()
    card = sim.field.place(Card("04A224E2C65E80"))
    assert r.poll()[0] == SEEN
    sim.field.remove(card)
    try:
        r.read4(4)
    except ReaderError:
        pass
    else:
        raise AssertionError("read from a tag that left")


def test_gain_is_configurable():
    for gain in (0, 4, 7):
        sim, r = rig(gain=gain)
        assert (sim.regs[RFCFG] >> 4) & 7 == gain


def test_health_check_repairs_antenna_and_crypto_bits():
    sim, r = rig()
    sim.regs[TXCONTROL] &= 0xFC
    sim.regs[STATUS2] |= 0x08
    assert r.check()
    assert sim.regs[TXCONTROL] & 3 == 3 and not sim.regs[STATUS2] & 0x08


def test_unknown_version_is_unhealthy():
    sim, r = MFRC522Sim(version=0x00), None
    spi, cs, rst = sim.bus()
    r = MFRC522(spi, cs, rst)
    assert not r.init()
    assert r.health()["ok"] is False


def test_wedged_chip_is_hard_reset_through_rst():
    sim, r = rig()
    sim.field.place(Card("04A224E2C65E80"))
    assert r.poll()[0] == SEEN
    sim.wedged = True  # MISO stuck high until RST
    kinds = [r.poll()[0] for _ in range(4)]
    assert kinds[:3] == [NOISE, NOISE, NOISE]
    assert r.stats["hard_resets"] == 1 and r.healthy
    assert kinds[3] == SEEN
