
from fwsupport import T_STATUS, FakeBroker, TestBoard, command, exists, read_json, retained_status, run_for
from sebiao_station import config, secrets
from sebiao_station.app import Station

OLD_WIFI = ("old-ap", "old-pass-1")
NEW_WIFI = ("new-ap", "new-pass-2")


class PasswordBroker(FakeBroker):
    """Refuses a CONNECT whose password is not in `passwords` (CONNACK 5, not authorised)."""

    def __init__(self, clock):
        FakeBroker.__init__(self, clock)
        self.passwords = ["old-pw"]

    def _packet(self, sock, ptype, flags, body):
        FakeBroker._packet(self, sock, ptype, flags, body)
        if ptype == 1 and sock.connect_info["password"] not in self.passwords:
            sock.inbox[-4:] = b"\x20\x02\x00\x05"


class WifiBoard(TestBoard):
    """Wi-Fi networks that take their own password; joining one leaves the other."""

    __test__ = False

    def __init__(self, fs_root=None, clock=None):
        TestBoard.__init__(self, fs_root=fs_root, clock=clock)
        self.broker = PasswordBroker(self.clock)
        self.networks = {OLD_WIFI[0]: OLD_WIFI[1]}
        self.joined = None
        self.joins = []
        self.join_ms = {}  # network -> how long joining it takes (association, DHCP)
        self.join_at = 0

    def wifi_connect(self, ssid, password):
        self.joins.append(ssid)
        if self.joined == ssid:
            return  # asked again while joining it: the join goes on (as on the ESP32)
        self.joined = ssid if self.networks.get(ssid) == password else None
        self.join_at = self.clock.ticks_ms()

    def wifi_connected(self):
        if self.joined is None:
            return False
        return self.clock.since(self.join_at) >= self.join_ms.get(self.joined, 0)

    def connect_tcp(self, host, port, timeout_ms):
        if self.joined is None:
            raise OSError(113)
        return self.broker.connect_tcp(host, port, timeout_ms)


def cfg():
    return config.validate({"workshop": "ws-demo", "station": "rack-red-1",
                            "wifi": {"ssid": OLD_WIFI[0], "password": OLD_WIFI[1]},
                            "broker": {"host": "broker.local", "username": "rack-red-1", "password": "old-pw"}})


def started(board=None):
    board = board or WifiBoard()
    st = Station(board, cfg())
    st.start()
    run_for(st, 3000)
    assert st.link.up
    return board, st



def wifi_cmd(version="s1"):
    return {"cmd": "secrets", "version": version, "wifi": {"ssid": NEW_WIFI[0], "password": NEW_WIFI[1]}}


def test_a_new_wifi_that_connects_is_kept():
    board, st = started()
    board.networks[NEW_WIFI[0]] = NEW_WIFI[1]
    command(board, st, wifi_cmd())
    assert retained_status(board)["secrets"] == {"version": "s1", "state": "pending", "fails": 0}
    assert read_json(board.fs_root + "/secrets.json")["wifi"]["ssid"] == "new-ap"
    run_for(st, secrets.RETRY_MS + secrets.TURN_MS)
    assert board.joined == "new-ap" and st.link.up
    assert retained_status(board)["secrets"] == {"version": "s1", "state": "applied", "fails": 0}
    saved = read_json(board.fs_root + "/config.json")
    assert saved["wifi"] == {"ssid": "new-ap", "password": "new-pass-2"} and saved["broker"]["password"] == "old-pw"
    assert not exists(board.fs_root + "/secrets.json")
    assert "new-pass-2" not in board.broker.retained[T_STATUS].decode()  # the values never go back out


def test_a_new_wifi_slow_to_join_gets_its_time():
    board, st = started()
    board.networks[NEW_WIFI[0]] = NEW_WIFI[1]
    board.join_ms[NEW_WIFI[0]] = 9000  # a far access point: 9 s to join
    command(board, st, wifi_cmd())
    run_for(st, secrets.RETRY_MS + secrets.TURN_MS + 5000)
    assert retained_status(board)["secrets"] == {"version": "s1", "state": "applied", "fails": 0}
    assert board.joined == "new-ap" and st.link.up


def test_a_new_wifi_that_never_connects_is_dropped_and_the_old_one_stays():
    board, st = started()
    command(board, st, wifi_cmd())
    run_for(st, (secrets.RETRY_MS + secrets.TURN_MS + 30000) * secrets.DROP_AFTER)
    assert board.joined == "old-ap" and st.link.up
    assert "new-ap" in board.joins
    assert retained_status(board)["secrets"] == {"version": "s1", "state": "dropped", "fails": secrets.DROP_AFTER}
    assert not exists(board.fs_root + "/secrets.json")
    assert st.link.trial is None and st.link.wifi == OLD_WIFI


def test_a_new_broker_password_is_kept_once_the_broker_takes_it():
    board, st = started()
    command(board, st, {"cmd": "secrets", "version": "p1", "broker": {"password": "new-pw"}})
    assert retained_status(board)["secrets"]["state"] == "pending"
    board.broker.passwords = ["new-pw"]  # the gateway switched the station's password in the broker
    run_for(st, secrets.RETRY_MS + secrets.TURN_MS)
    assert st.link.up and board.broker.connects[-1]["password"] == "new-pw"
    assert retained_status(board)["secrets"] == {"version": "p1", "state": "applied", "fails": 0}
    assert read_json(board.fs_root + "/config.json")["broker"]["password"] == "new-pw"


def test_a_power_cut_with_a_pending_set_keeps_both_and_the_trial_goes_on():
    board, st = started()
    board.networks[NEW_WIFI[0]] = NEW_WIFI[1]
    command(board, st, wifi_cmd())
    assert exists(board.fs_root + "/secrets.json")
    # power cut: a new station boots from the same flash with the old config
    board2 = WifiBoard(fs_root=board.fs_root, clock=board.clock)
    board2.networks = board.networks
    st2 = Station(board2, cfg())
    assert st2.link.trial is not None and st2.link.wifi == NEW_WIFI  # the new set first
    st2.start()
    run_for(st2, secrets.TURN_MS + 10000)
    assert board2.joined == "new-ap" and st2.link.up
    assert retained_status(board2)["secrets"]["state"] == "applied"
    assert not exists(board.fs_root + "/secrets.json")


def test_a_power_cut_with_a_new_set_that_does_not_work_falls_back():
    board, st = started()
    command(board, st, {"cmd": "secrets", "version": "p2", "broker": {"password": "wrong"}})
    board2 = WifiBoard(fs_root=board.fs_root, clock=board.clock)
    st2 = Station(board2, cfg())
    st2.start()
    run_for(st2, secrets.TURN_MS + 10000)
    assert st2.link.up and board2.broker.connects[-1]["password"] == "old-pw"
    assert retained_status(board2)["secrets"] == {"version": "p2", "state": "pending",
                                                                       "fails": 1}
    assert read_json(board.fs_root + "/secrets.json")["fails"] == 1


def test_an_unreadable_pending_file_leaves_the_old_set():
    board = WifiBoard()
    config.write_atomic(board.fs_root + "/secrets.json", "{not json")
    board, st = started(board)
    assert st.link.trial is None and not exists(board.fs_root + "/secrets.json")


def test_a_bad_secrets_command_is_refused_and_nothing_is_written():
    board, st = started()
    cases = (
        ({"wifi": {"ssid": "x", "password": "short"}}, "wifi.password: WPA2 needs 8..63"),
        ({"wifi": {"ssid": "", "password": "long-enough"}}, "wifi.ssid: must be a string of 1..32"),
        ({"wifi": {"ssid": "x"}}, "wifi: must be"),
        ({"broker": {"password": ""}}, "broker.password: must be a string of 1..64"),
        ({"broker": {"password": "x", "username": "y"}}, "broker: must be"),
        ({}, "wifi, broker: give at least one"),
    )
    for given, reason in cases:
        cmd = {"cmd": "secrets", "version": "r1"}
        cmd.update(given)
        command(board, st, cmd)
        report = retained_status(board)["secrets"]
        assert report["state"] == "refused" and reason in report["error"], (reason, report)
    assert not exists(board.fs_root + "/secrets.json") and st.link.trial is None
