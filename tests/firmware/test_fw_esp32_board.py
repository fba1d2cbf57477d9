"""The real ESP32 board module, run against fake machine/network/socket modules."""

import sys

import fake_machine
import fake_network
import fake_socket
import fwsupport
from sebiao_station import sntp

NAMES = ("machine", "network", "socket")


def _import_board():
    saved = {}
    for n in NAMES:
        saved[n] = sys.modules.get(n)
    sys.modules["machine"] = fake_machine
    sys.modules["network"] = fake_network
    sys.modules["socket"] = fake_socket
    sys.modules.pop("sebiao_station.esp32_board", None)
    try:
        from sebiao_station import esp32_board
        return esp32_board
    finally:
        for n in NAMES:
            if saved[n] is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = saved[n]


def _ntp_reply(unix_s, frac=0):
    pkt = bytearray(48)
    pkt[0] = 0x24  # version 4, mode 4 (server)
    pkt[1] = 2  # stratum
    pkt[40:44] = (unix_s + sntp.NTP_TO_UNIX_S).to_bytes(4, "big")
    pkt[44:48] = frac.to_bytes(4, "big")
    return bytes(pkt)


def test_sntp_parse():
    assert sntp.parse(_ntp_reply(1764142800, 1 << 31)) == 1764142800500
    kod = bytearray(_ntp_reply(1764142800))
    kod[1] = 0
    assert sntp.parse(bytes(kod)) == 0
    assert sntp.parse(b"\x1c" + bytes(10)) == 0


def _answer(nonce, **change):
    pkt = bytearray(_ntp_reply(1764142800))
    pkt[24:32] = nonce
    for index, value in change.items():
        pkt[int(index[1:])] = value
    return bytes(pkt)


def test_sntp_uses_only_a_synchronised_answer_to_its_own_request():
    nonce = bytes(range(1, 9))
    assert sntp.request(nonce)[40:48] == nonce and sntp.request(nonce)[0] & 7 == 3
    assert sntp.parse(_answer(nonce), nonce) == 1764142800000
    assert sntp.parse(_answer(bytes(8)), nonce) == 0  # someone else's answer (or a forged one)
    assert sntp.parse(_answer(nonce, b0=0xE4), nonce) == 0  # leap indicator 3: the server's clock is not set
    assert sntp.parse(_answer(nonce, b1=16), nonce) == 0  # stratum 16: unsynchronised
    assert sntp.parse(_answer(nonce, b0=0x23), nonce) == 0  # mode 3: a client's packet, not an answer


def test_sntp_asks_an_ip_without_a_lookup_and_a_name_with_one():
    calls = []

    class Sock:
        def __init__(self, *a):
            pass

        def settimeout(self, t):
            pass

        def sendto(self, data, addr):
            calls.append(addr)
            self.nonce = data[40:48]

        def recv(self, n):
            return _answer(self.nonce)

        def close(self):
            pass

    class Mod:
        AF_INET, SOCK_DGRAM = 2, 2
        socket = Sock

        @staticmethod
        def getaddrinfo(host, port):
            calls.append(("lookup", host))
            return [(2, 2, 0, "", ("10.9.9.9", port))]

    assert sntp.query(Mod, "192.168.1.10", 1000, 1123) == 1764142800000
    assert calls == [("192.168.1.10", 1123)]
    assert sntp.query(Mod, "pool.ntp.org", 1000) == 1764142800000
    assert calls[1:] == [("lookup", "pool.ntp.org"), ("10.9.9.9", 123)]


def test_board_wires_the_default_pins_and_runs_the_station():
    mod = _import_board()
    from sebiao_station.app import Station
    clock = fwsupport.FakeClock(1000)
    broker = fwsupport.FakeBroker(clock)
    fake_socket.BROKER[0] = broker
    fake_socket.NTP_REPLY[0] = _ntp_reply(1764142800)
    fake_network.STATE["connected"] = False
    del fake_machine.LOG[:]
    board = mod.Esp32Board()
    board.clock = clock
    board.fs_root = fwsupport.tempdir()
    if not fwsupport.MICROPYTHON:
        board.free_heap = lambda: 81234  # CPython's gc has no mem_free
    cfg = fwsupport.station_config()
    st = Station(board, cfg)
    st.start()
    assert ("spi", 2, 1000000, 18, 23, 19) in fake_machine.LOG
    pins = [e[1] for e in fake_machine.LOG if e[0] == "pin"]
    for n in (5, 22, 25, 26, 27):
        assert n in pins
    assert ("wdt", 30000) in fake_machine.LOG
    assert st.reset_cause == "watchdog"
    fwsupport.run_for(st, 500)
    assert fake_network.STATE["joins"] and not broker.connects  # joining Wi-Fi first
    fake_network.STATE["connected"] = True
    fwsupport.run_for(st, 3000)
    assert broker.connects and st.clock.epoch_ms() >= 1764142800000
    assert '"rssi":-61' in broker.retained["sebiao/ws-demo/rack-red-1/status"].decode()
    assert st.wdt.fed > 10
    fwsupport.rmtree(board.fs_root)


def test_joining_another_network_leaves_the_one_being_joined_first():
    mod = _import_board()
    board = mod.Esp32Board()
    fake_network.STATE["joins"] = []
    board.wifi_connect("shop", "old-pass-1")
    board.wifi_connect("shop", "old-pass-1")  # asked again while joining: no leave, the join goes on
    board.wifi_connect("shop-5g", "new-pass-2")  # a new Wi-Fi on trial (secrets.py)
    assert fake_network.STATE["joins"] == ["shop", "shop", None, "shop-5g"]

