import fwsupport  # noqa: F401
from sebiao_station import mqtt_codec as c

LENGTHS = ((0, b"\x00"), (127, b"\x7f"), (128, b"\x80\x01"), (16383, b"\xff\x7f"),
           (16384, b"\x80\x80\x01"), (2097151, b"\xff\xff\x7f"), (268435455, b"\xff\xff\xff\x7f"))


def test_remaining_length_table():
    for n, raw in LENGTHS:
        assert c.encode_len(n) == raw, n
        pkt = b"\x30" + raw + bytes(n if n < 20000 else 0)
        if n < 20000:
            assert c.parse(pkt)[3] == len(pkt)


def test_connect_with_will_and_credentials_bytes():
    got = c.connect("st-1", 60, "rack", "pw", ("s/st", b"{}", True, 1), clean=True)
    # fixed header, "MQTT" level 4, flags: user, password, will retain, will QoS 1, will, clean
    assert got[0] == 0x10
    assert got[2:9] == b"\x00\x04MQTT\x04"
    assert got[9] == 0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02
    assert got[10:12] == b"\x00\x3c"
    assert got[12:] == b"\x00\x04st-1\x00\x04s/st\x00\x02{}\x00\x04rack\x00\x02pw"
    assert got[1] == len(got) - 2


def test_publish_and_small_packets():
    assert c.publish("a/b", b"hi", 1, False, 10) == b"\x32\x09\x00\x03a/b\x00\x0ahi"
    assert c.publish("a/b", b"hi", 1, False, 10, dup=True)[0] == 0x3A
    assert c.publish("a/b", "x", 0, True) == b"\x31\x06\x00\x03a/bx"
    assert c.puback(258) == b"\x40\x02\x01\x02"
    assert c.subscribe(1, "a/#", 1) == b"\x82\x08\x00\x01\x00\x03a/#\x01"
    assert c.pingreq() == b"\xc0\x00" and c.disconnect() == b"\xe0\x00"


def test_parse_waits_for_whole_packets():
    pkt = c.publish("sebiao/ws/st/cmd", b'{"v":1}', 1, False, 7)
    for cut in range(len(pkt)):
        assert c.parse(pkt[:cut]) is None
    ptype, flags, body, used = c.parse(pkt + b"\xd0\x00")
    assert (ptype, used) == (c.PUBLISH, len(pkt))
    assert c.decode_publish(flags, body) == ("sebiao/ws/st/cmd", b'{"v":1}', 1, 7, False)
    try:
        c.parse(b"\x30\xff\xff\xff\xff\x01")
    except c.ProtocolError:
        pass
    else:
        raise AssertionError("accepted a 5-byte remaining length")


def test_connack_codes():
    assert c.decode_connack(b"\x00\x00") is False
    assert c.decode_connack(b"\x01\x00") is True
    for code, text in ((4, "user name"), (5, "not authorised"), (9, "code 9")):
        try:
            c.decode_connack(bytes([0, code]))
        except c.ProtocolError as exc:
            assert text in str(exc)
        else:
            raise AssertionError(code)
