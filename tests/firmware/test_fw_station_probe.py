"""A disinfection station: its probe, its cycles through the buffer to .../cycle, its health."""

import json

import fwsupport
from fwsupport import TestBoard, run_for, station_config
from sebiao_sim.iso14443 import Card
from sebiao_station import config, protocol
from sebiao_station.app import Station
from sebiao_station.buffer import Buffer, decode_record, encode_cycle

T_CYCLE = "sebiao/ws-demo/rack-red-1/cycle"
TAG = "04A224E2C65E80"
NTP = 1764142800000


def started(probe=None, **timing):
    board = TestBoard()
    st = Station(board, station_config(probe={} if probe is None else probe, **timing))
    st.start()
    return board, st


def heat(board, st, profile):
    """(°C, seconds) steps: the probe reads each temperature for that long."""
    for c, seconds in profile:
        board.probe.temp_c = c
        run_for(st, seconds * 1000)


def cycles(board):
    return board.broker.events("/cycle")


def test_cycle_payload_bytes():
    assert protocol.cycle_payload("1a2b3c4d", 7, 1764142860000, 1764142800000, 5, [450, 825, -5]) == (
        b'{"v":1,"boot":"1a2b3c4d","seq":7,"ts":1764142860000,"start":1764142800000,'
        b'"interval_s":5,"temps_dc":[450,825,-5]}')
    assert protocol.topic("ws-demo", "cab-1", "cycle") == "sebiao/ws-demo/cab-1/cycle"
    assert json.loads(protocol.status_payload(True, {"probe_c": 82.5, "t": 0.1})) == {
        "v": 1, "online": True, "probe_c": 82.5, "t": 0.1}


def test_cycle_records_round_trip_and_share_the_stream_with_events():
    for seq, ts, ticks, dur, interval, temps in ((3, 1764142800123, None, 60000, 5, [450, 1250, -550, 0]),
                                                 (2 ** 20, 0, 123456, 0, 10, [500]),
                                                 (0, 0, None, 7195000, 5, list(range(300, 1740)))):
        raw = encode_cycle(seq, ts, dur, interval, temps, ticks)
        assert raw[0] == 1 and (raw[1] << 8 | raw[2]) == len(raw) - 3
        rec = decode_record(raw[3:])
        assert (rec["seq"], rec["ts"], rec["ticks"]) == (seq, ts, ticks)
        assert rec["cycle"] == {"dur_ms": dur, "interval_s": interval, "temps_dc": temps}
    d = fwsupport.tempdir()
    buf = Buffer(d + "/buf", b"\x1a\x2b\x3c\x4d", 102400, 1024)  # a long cycle outgrows a segment
    buf.append(0, 5, TAG, "placed")
    buf.append_cycle(1, 6, 1000, 5, list(range(1440)))
    buf.append(2, 7, TAG, "removed")
    with open(buf._path(buf.segments[-1]), "ab") as f:
        f.write(b"\x01\x0b\xb8\x14\x01")  # a long record torn by a power cut
    again = Buffer(d + "/buf", b"\xde\xad\xbe\xef", 102400, 1024)
    assert again.depth == 3
    got = []
    while again.peek() is not None:
        got.append(again.peek())
        again.ack()
    assert [r["seq"] for r in got] == [0, 1, 2] and got[1]["cycle"]["temps_dc"] == list(range(1440))
    fwsupport.rmtree(d)


def test_a_cycle_is_published_once_with_qos_1_and_the_event_seq():
    board, st = started()
    board.ntp = NTP
    run_for(st, 1000)
    board.field.place(Card(TAG))  # the tool goes in: seq 0
    heat(board, st, ((20.0, 10), (70.0, 30), (85.5, 60), (60.0, 20), (30.0, 20)))
    board.field.remove(board.field.cards[0])
    run_for(st, 3000)
    got = cycles(board)
    assert len(got) == 1, got
    c = got[0]
    assert c["v"] == 1 and c["boot"] == st.boot and c["seq"] == 1 and c["interval_s"] == 5
    assert [e["seq"] for e in board.broker.events()] == [0, 2]
    temps = c["temps_dc"]
    assert temps[0] == 700 and temps[-1] == 300 and 855 in temps and set(temps) == {700, 855, 600, 300}
    assert abs(c["ts"] - c["start"] - (len(temps) - 1) * 5000) < 100  # one sample every 5 s, none missing
    assert 22 <= len(temps) <= 24  # 70 °C for 30 s, 85.5 °C for 60 s, 60 °C for 20 s, then 30 °C
    pubs = [p for p in board.broker.published if p["topic"] == T_CYCLE]
    assert len(pubs) == 1 and pubs[0]["qos"] == 1 and not pubs[0]["retain"]
    assert pubs[0]["payload"] == protocol.cycle_payload(st.boot, 1, c["ts"], c["start"], 5, temps)
    assert st.buffer.depth == 0


def test_a_cycle_waits_out_a_broker_outage_and_a_reboot():
    board, st = started(backoff_min_ms=500, backoff_max_ms=2000)
    board.ntp = NTP
    run_for(st, 1000)
    board.broker.go_down()
    heat(board, st, ((90.0, 30), (20.0, 10)))
    assert st.buffer.depth == 1 and not cycles(board)
    # power cut: the cycle waits on the flash, the next boot sends it
    board2 = TestBoard(fs_root=board.fs_root, clock=board.clock)
    board2.broker.up = True
    st2 = Station(board2, station_config(probe={}))
    st2.start()
    run_for(st2, 5000)
    (c,) = cycles(board2)
    assert c["boot"] == st.boot and c["seq"] == 0 and c["temps_dc"][0] == 900 and c["temps_dc"][-1] == 200
    assert c["ts"] > NTP and abs(c["ts"] - c["start"] - (len(c["temps_dc"]) - 1) * 5000) < 100


def test_an_unset_clock_sends_zero_times_or_backfills_them():
    board, st = started(backoff_min_ms=500, backoff_max_ms=2000)
    board.broker.go_down()
    heat(board, st, ((90.0, 20), (20.0, 10)))
    board.ntp = NTP
    st.last_ntp = None
    board.broker.up = True
    run_for(st, 5000)
    (c,) = cycles(board)
    assert NTP - 40000 < c["start"] < c["ts"] < NTP - 5000  # back-filled from the ticks of this boot


def test_probe_faults_are_counted_never_raised():
    board, st = started()
    board.probe.temp_c = 21.5
    run_for(st, 6000)
    h = st.health()
    assert h["probe_c"] == 21.5 and h["probe_ok"] is True and h["probe_errors"] == 0
    board.probe.present = False
    run_for(st, 10000)
    h = st.health()
    assert h["probe_ok"] is False and h["probe_errors"] == 2 and h["probe_error"] == "no presence"
    board.probe.present = True
    board.probe.crc_error = True
    run_for(st, 5000)
    assert st.health()["probe_error"] == "crc" and st.health()["probe_errors"] == 3
    board.probe.crc_error = False
    run_for(st, 5000)
    h = st.health()
    assert h["probe_ok"] is True and h["probe_errors"] == 3 and h["probe_c"] == 21.5
    assert st.step()  # the station is healthy: the watchdog is fed
    status = json.loads(board.broker.retained["sebiao/ws-demo/rack-red-1/status"])
    assert "probe_c" in status and "probe_errors" in status


def test_a_fault_mid_cycle_splits_it_rather_than_guessing():
    board, st = started()
    board.ntp = NTP
    heat(board, st, ((80.0, 20),))
    board.probe.stuck_85 = True
    board.probe.raw = 0x0550  # browned out: 85 °C from here on
    run_for(st, 10000)
    board.probe.stuck_85 = False
    heat(board, st, ((80.0, 20), (20.0, 10)))
    got = cycles(board)
    assert len(got) == 2 and all(set(c["temps_dc"]) <= {800, 200} for c in got), got
    assert st.health()["probe_error"] == "85 power-on value"


def test_a_stalled_loop_misses_a_sample_and_ends_the_cycle_there():
    board, st = started()
    board.ntp = NTP
    heat(board, st, ((80.0, 20),))
    board.clock.advance(12000)  # the loop stalls 12 s (the network's timeouts): a sample slot passes
    heat(board, st, ((80.0, 20), (20.0, 10)))
    got = cycles(board)
    assert len(got) == 2, got
    for c in got:  # each of them evenly sampled
        assert abs(c["ts"] - c["start"] - (len(c["temps_dc"]) - 1) * 5000) < 100, c
    assert got[1]["start"] - got[0]["ts"] > 10000
    h = st.health()
    assert h["probe_missed"] == 1 and h["probe_errors"] == 0


def test_a_long_fine_cycle_is_trimmed_to_fit_the_gateways_payload_limit():
    board, st = started({"interval_s": 1, "max_s": 7200})
    board.ntp = NTP
    heat(board, st, ((100.5, 1500), (20.0, 3)))
    (c,) = cycles(board)
    pub = [p for p in board.broker.published if p["topic"] == T_CYCLE][0]
    assert len(pub["payload"]) <= protocol.MAX_PAYLOAD_BYTES and len(c["temps_dc"]) <= 1440
    assert c["interval_s"] in (2, 4) and c["temps_dc"][0] == 1005
    assert c["ts"] - c["start"] >= (len(c["temps_dc"]) - 1) * c["interval_s"] * 1000


def test_no_probe_no_probe_fields():
    board = TestBoard()
    st = Station(board, station_config())
    assert st.probe is None and board.probe_pins == []
    assert not [k for k in st.health() if k.startswith("probe")]


PROBE_BAD = (
    ({"probe": 5}, "probe: must be an object"),
    ({"probe": {"pin": 36}}, "probe.pin: GPIO 36 is input only"),
    ({"probe": {"pin": 5}}, "probe.pin: GPIO 5 is already pins.reader_cs"),
    ({"probe": {"pin": 40}}, "probe.pin: 40 is outside 0..39"),
    ({"probe": {"start_c": "45"}}, "probe.start_c: must be an integer"),
    ({"probe": {"start_c": 200}}, "probe.start_c: 200 is outside 30..120"),
    ({"probe": {"interval_s": 0}}, "probe.interval_s: 0 is outside 1..600"),
    ({"probe": {"max_s": 10}}, "probe.max_s: 10 is outside 60..86400"),
    ({"probe": {"offset": 1}}, "probe.offset: unknown key"),
)


def test_probe_config_defaults_and_errors():
    assert "probe" not in config.validate({})
    assert config.validate({"probe": {}})["probe"] == {"pin": 4, "start_c": 45, "interval_s": 5, "max_s": 7200}
    assert config.validate({"probe": {"pin": 32, "start_c": 80}})["probe"]["start_c"] == 80
    assert fwsupport.read_json(fwsupport.FIRMWARE + "/defaults.json")["probe"]["pin"] == config.PROBE_DEFAULTS["pin"]
    fwsupport.refuses_each(PROBE_BAD)
    d = fwsupport.tempdir()
    cfg = config.validate({"probe": {"start_c": 70}})
    config.save(cfg, d + "/config.json")
    assert config.load(d + "/config.json")["probe"]["start_c"] == 70
    fwsupport.rmtree(d)
