import fwsupport  # noqa: F401
from sebiao_station import label, provision

ROUND_TRIPS = (
    (("KN-R-01", "knife", "red"), {"tool": "KN-R-01", "kind": "knife", "color": "red"}),
    (("CB-W-12", "cutting_board", "white"), {"tool": "CB-W-12", "kind": "cutting_board", "color": "white"}),
    (("BR-G-02", "", ""), {"tool": "BR-G-02"}),
)


def test_round_trip_and_page_padding():
    for args, expected in ROUND_TRIPS:
        data = provision.encode(*args)
        assert len(data) % 4 == 0
        assert data[0] == 0x03 and data[2] == 0xD4
        assert label.tlv_length(data[:16]) == 2 + data[1]
        assert label.decode(data) == expected


def test_exact_bytes_of_the_documented_format():
    data = provision.encode("KN-R-01", "knife", "red")
    payload = b"1|KN-R-01|knife|red"
    record = bytes([0xD4, 11, len(payload)]) + b"sebiao:tool" + payload
    assert data.rstrip(b"\0") == bytes([0x03, len(record)]) + record + b"\xfe"


def test_lock_control_tlv_and_null_tlvs_are_skipped():
    body = provision.encode("KN-R-01", "knife", "red")
    area = b"\x00\x01\x03\xa0\x0c\x34" + body
    assert label.decode(area) == {"tool": "KN-R-01", "kind": "knife", "color": "red"}


def test_foreign_or_blank_tags_have_no_label():
    uri = bytes([0x03, 0x0B, 0xD1, 0x01, 0x07, 0x55, 0x04]) + b"ab.com" + b"\xfe"
    cases = (
        (b"\x03\x00\xfe\x00" + bytes(12), None),  # empty NDEF message
        (bytes(16), None),  # all NULL TLVs
        (b"\xfe" + bytes(15), None),  # terminator only
        (uri, None),  # a URI record (phone tag)
        (provision.encode("X1").replace(b"1|X1", b"9|X1"), None),  # unknown format version
    )
    for area, expected in cases:
        assert label.decode(area) == expected, area


def test_bad_fields_are_refused():
    for args in (("",), ("A|B",), ("T" * 33,), ("T", "k" * 40)):
        try:
            provision.encode(*args)
        except label.LabelError:
            continue
        raise AssertionError("encoded %r" % (args,))
