import json

from fwsupport import TestBoard, run_for, station_config
from sebiao_sim.iso14443 import Card
from sebiao_station import provision
from sebiao_station.app import Station

TAG = "04A224E2C65E80"
T_EVENT = "sebiao/ws-demo/rack-red-1/event"
T_STATUS = "sebiao/ws-demo/rack-red-1/status"
T_CMD = "sebiao/ws-demo/rack-red-1/cmd"


def started(reader="mfrc522", **timing):
    board = TestBoard(reader)
    st = Station(board, station_config(reader, **timing))
    st.start()
    return board, st


def test_connect_subscribe_will_and_retained_status():
    board, st = started()
    run_for(st, 500)
    c = board.broker.connects[0]
    assert c["client_id"] == "sebiao-ws-demo-rack-red-1" and c["keepalive"] == 60
    assert c["will"] == (T_STATUS, b'{"v":1,"online":false}', True)
    assert board.broker.subscriptions == [(T_CMD, 1)]
    status = json.loads(board.broker.retained[T_STATUS])
    assert status["online"] is True and status["reader_ok"] is True
    assert status["reset_cause"] == "power_on" and status["buffer_depth"] == 0


def test_place_and_remove_make_protocol_events():
    for reader in ("mfrc522", "pn532"):
        board, st = started(reader)
        board.ntp = 1764142800000
        card = board.field.place(Card(TAG))
        run_for(st, 1000)
        board.field.remove(card)
        run_for(st, 2000)
        ev = board.broker.events()
        assert [(e["action"], e["tag"], e["seq"]) for e in ev] == [("placed", TAG, 0), ("removed", TAG, 1)], ev
        assert ev[0]["boot"] == st.boot and len(st.boot) == 8
        # the first poll came before NTP answered: its time is back-filled from ticks
        assert ev[0]["ts"] > 1764142800000 - 1000 and ev[1]["ts"] - ev[0]["ts"] >= 1000
        pubs = [p for p in board.broker.published if p["topic"] == T_EVENT]
        assert all(p["qos"] == 1 and not p["retain"] for p in pubs)
        assert st.buffer.depth == 0


def test_label_is_reported_with_the_uid():
    board, st = started()
    card = Card(TAG)
    board.field.place(card)
    run_for(st, 300)
    assert st.reader.poll()[0] == 0  # select it (the inventory leaves every tag HALTed)
    provision.write_label(st.reader, "KN-R-01", "knife", "red")
    board.field.remove(card)
    run_for(st, 2000)
    board.field.place(card)
    run_for(st, 1000)
    last = board.broker.events()[-1]
    assert last["action"] == "placed" and last["label"] == {"tool": "KN-R-01", "kind": "knife", "color": "red"}


def test_events_survive_a_broker_outage_in_order():
    board, st = started(backoff_min_ms=500, backoff_max_ms=4000)
    run_for(st, 500)
    board.broker.go_down()
    cards = [Card("04A224E2C65E%02X" % i) for i in range(5)]
    for c in cards:
        board.field.place(c)
        run_for(st, 600)
        board.field.remove(c)
        run_for(st, 1500)
    assert st.buffer.depth == 10 and not board.broker.events()
    board.broker.up = True
    run_for(st, 10000)
    ev = board.broker.events()
    assert [e["seq"] for e in ev] == list(range(10))
    assert st.buffer.depth == 0
    # replay at the limited rate (10/s by default)
    at = [p["at"] for p in board.broker.published if p["topic"] == T_EVENT]
    assert all(b - a >= 100 for a, b in zip(at, at[1:]))


def test_missing_puback_means_reconnect_and_resend_with_dup():
    board, st = started(puback_timeout_ms=1000, backoff_min_ms=200)
    run_for(st, 300)
    board.broker.ack_publish = False
    board.field.place(Card(TAG))
    run_for(st, 1500)
    board.broker.ack_publish = True
    run_for(st, 3000)
    pubs = [p for p in board.broker.published if p["topic"] == T_EVENT]
    assert len(pubs) >= 2 and not pubs[0]["dup"] and all(p["dup"] for p in pubs[1:])
    assert all(p["payload"] == pubs[0]["payload"] for p in pubs)
    assert len(board.broker.connects) == len(pubs) and st.buffer.depth == 0


def test_backoff_is_exponential_and_capped():
    board, st = started(backoff_min_ms=1000, backoff_max_ms=8000)
    board.broker.up = False
    tries = []
    real = board.broker.connect_tcp

    def counting(host, port, timeout_ms):
        tries.append(board.clock.ticks_ms())
        return real(host, port, timeout_ms)
    board.broker.connect_tcp = counting
    run_for(st, 60000)
    gaps = [b - a for a, b in zip(tries, tries[1:])]
    assert 1000 <= gaps[0] < 1400 and 2000 <= gaps[1] < 2700 and 4000 <= gaps[2] < 5300
    assert all(8000 <= g < 10100 for g in gaps[3:]), gaps


def test_pings_at_half_keepalive_and_dead_broker_detected():
    board, st = started()
    run_for(st, 61000)
    assert board.broker.pings == 2  # at 30 s and 60 s of silence (keepalive 60 s)
    board.broker.answer_ping = False
    run_for(st, 40000)
    assert len(board.broker.connects) >= 2  # no PINGRESP: dropped and reconnected


def test_feedback_commands_drive_the_pins():
    board, st = started()
    run_for(st, 300)
    red, green, buzzer = (board.pins[n] for n in (25, 26, 27))
    assert green.value() == 1 and red.value() == 0
    board.broker.send(T_CMD, b'{"v":1,"cmd":"feedback","pattern":"misuse","alarm":"a-1"}', qos=1)
    run_for(st, 1000)
    assert red.value() == 1 and green.value() == 0 and buzzer.value() == 0
    assert buzzer.history.count(1) == 3  # three beeps
    board.broker.send(T_CMD, b'{"v":1,"cmd":"feedback","pattern":"clear"}')
    run_for(st, 200)
    assert red.value() == 0 and green.value() == 1


def test_a_command_lights_the_led_as_it_arrives_not_after_the_pause():
    board, st = started()
    run_for(st, 300)
    red = board.pins[25]
    st.last_poll = start = st.clock.ticks_ms()  # the reader was just polled: the next poll is 200 ms away
    st.idle(50)  # nothing comes: the whole pause, spent waiting on the socket
    assert st.clock.since(start) == 50 and red.value() == 0
    board.broker.send(T_CMD, b'{"v":1,"cmd":"feedback","pattern":"misuse","alarm":"a-1"}', qos=1)
    start = st.clock.ticks_ms()
    st.idle(50)
    assert red.value() == 1 and st.clock.since(start) < 50  # lit when it came, the pause cut short
    board.broker.sever()
    st.step()  # the connection is gone: the pause is a plain sleep
    st.last_poll = start = st.clock.ticks_ms()
    st.idle(50)
    assert not st.link.up and st.clock.since(start) == 50


def test_the_pause_ends_when_the_next_reader_poll_is_due():
    board, st = started()  # poll_ms 200
    run_for(st, 300)
    st.last_poll = st.clock.ticks_ms() - 180
    start = st.clock.ticks_ms()
    st.idle(50)
    assert st.clock.since(start) == 20  # polled every 200 ms, not at the first pass after that
    st.last_poll = st.clock.ticks_ms() - 260  # a slow pass: no pause at all
    start = st.clock.ticks_ms()
    st.idle(50)
    assert st.clock.since(start) == 0


def _lights(red, green, buzzer):
    return (red.value(), green.value(), buzzer.value())


def test_the_test_pattern_plays_red_green_buzzer_then_restores_and_is_confirmed():
    board, st = started()
    run_for(st, 300)
    red, green, buzzer = (board.pins[n] for n in (25, 26, 27))
    board.broker.send(T_CMD, b'{"v":1,"cmd":"feedback","pattern":"misuse"}')  # a latched red before the test
    run_for(st, 1000)
    assert _lights(red, green, buzzer) == (1, 0, 0)
    assert "played" not in json.loads(board.broker.retained[T_STATUS])  # a command without seq: nothing to confirm
    board.broker.send(T_CMD, b'{"v":1,"cmd":"feedback","pattern":"test","seq":41}', qos=1)
    seen, early = [], False
    for i in range(45):  # 2.25 s in 50 ms passes
        run_for(st, 50)
        seen.append(_lights(red, green, buzzer))
        early = early or (i < 38 and "played" in json.loads(board.broker.retained[T_STATUS]))
    assert (1, 0, 0) in seen[:10] and (0, 1, 0) in seen[12:22] and (0, 0, 1) in seen[25:34]  # in turn
    assert not early  # confirmed once played to its end, not when it began
    assert seen[-1] == (1, 0, 0)  # back to the latched red, buzzer off
    run_for(st, 200)
    status = json.loads(board.broker.retained[T_STATUS])
    assert status["played"]["pattern"] == "test" and status["played"]["seq"] == 41
    assert status["played"]["sent_at"] == 0  # this station's clock is not set
    board.broker.send(T_CMD, b'{"v":1,"cmd":"feedback","pattern":"clear"}')
    board.broker.send(T_CMD, b'{"v":1,"cmd":"feedback","pattern":"test","seq":42}')
    run_for(st, 2500)
    assert _lights(red, green, buzzer) == (0, 1, 0)  # back to green
    assert json.loads(board.broker.retained[T_STATUS])["played"]["seq"] == 42


def test_an_unknown_pattern_is_not_confirmed():
    board, st = started()
    run_for(st, 300)
    board.broker.send(T_CMD, b'{"v":1,"cmd":"feedback","pattern":"disco","seq":7}')
    run_for(st, 2500)
    assert "played" not in json.loads(board.broker.retained[T_STATUS])


def test_provisioning_writes_a_label_and_reports_it():
    board, st = started()
    run_for(st, 300)
    board.broker.send(T_CMD, b'{"v":1,"cmd":"provision","tool":"SC-B-03","kind":"scissors","color":"blue"}')
    run_for(st, 300)
    card = board.field.place(Card(TAG))
    run_for(st, 1000)
    assert st.provision_result == {"tag": TAG, "tool": "SC-B-03", "ok": True}
    status = json.loads(board.broker.retained[T_STATUS])
    assert status["provision"]["ok"] is True
    assert board.broker.events()[0]["label"]["tool"] == "SC-B-03"
    assert bytes(card.memory[16:20])[0] == 0x03


def test_watchdog_is_fed_only_while_healthy():
    board, st = started(reader_dead_reset_s=10)
    run_for(st, 1000)
    fed = board.fed
    assert fed >= 19
    board.chip.wedged = True
    st.reader.rst = None  # and no RST line to pull
    run_for(st, 9000)
    assert board.fed > fed  # still within reader_dead_reset_s
    run_for(st, 3000)
    stuck = board.fed
    run_for(st, 5000)
    assert board.fed == stuck  # starved: the watchdog will reset the board


def test_unsynced_clock_sends_zero_or_backfilled_time():
    board, st = started()
    board.broker.go_down()
    board.field.place(Card(TAG))
    run_for(st, 1000)
    board.ntp = 1764142800000  # NTP answers later in the same boot
    st.last_ntp = None
    board.broker.up = True
    run_for(st, 5000)
    ev = board.broker.events()
    assert ev and 1764142800000 - 5000 < ev[0]["ts"] < 1764142800000


def test_the_clock_is_asked_of_the_gateway_unless_a_server_is_named():
    board, st = started()
    run_for(st, 1000)
    assert board.ntp_asked == ("broker.local", 123)  # the broker's host: the gateway answers SNTP
    from sebiao_station import config
    cfg = station_config()
    cfg["ntp_host"], cfg["ntp_port"] = "192.168.1.2", 1123
    board2 = TestBoard("mfrc522")
    st2 = Station(board2, config.validate(cfg))
    st2.start()
    run_for(st2, 1000)
    assert board2.ntp_asked == ("192.168.1.2", 1123)


def _labelled(uid, tool):
    card = Card(uid)
    data = provision.encode(tool, "knife", "red")
    card.memory[16:16 + len(data)] = data
    return card


def test_a_rack_reports_every_tool_on_it():
    for reader, n in (("mfrc522", 4), ("pn532", 2)):
        board, st = started(reader)
        uids = ["04A224E2C65E8%d" % i for i in range(n)]
        cards = [board.field.place(_labelled(u, "KN-R-0%d" % i)) for i, u in enumerate(uids)]
        run_for(st, 1000)
        ev = board.broker.events()
        assert sorted((e["action"], e["tag"], e["label"]["tool"]) for e in ev) == \
            [("placed", u, "KN-R-0%d" % i) for i, u in enumerate(uids)], (reader, ev)
        # one leaves: exactly one removal, the others undisturbed
        board.field.remove(cards[1])
        run_for(st, 3000)
        ev = board.broker.events()
        assert [(e["action"], e["tag"]) for e in ev[n:]] == [("removed", uids[1])], (reader, ev)
        assert sorted(st.presence.present()) == sorted(uids[:1] + uids[2:])
        # it comes back: placed again, with its label read again
        board.field.place(cards[1])
        run_for(st, 1000)
        last = board.broker.events()[-1]
        assert (last["action"], last["tag"], last["label"]["tool"]) == ("placed", uids[1], "KN-R-01")
        assert len(board.broker.events()) == n + 2


def test_noisy_cycles_make_no_false_removals():
    board, st = started()
    uids = ["04A224E2C65E80", "5A3C9E01", "0102030405060708090A"]
    for u in uids:
        board.field.place(Card(u))
    run_for(st, 600)
    for _ in range(40):  # 8 s of a noisy kitchen: an ATQA parity error every other cycle
        board.field.noise = 1
        run_for(st, 200)
    assert [e["action"] for e in board.broker.events()] == ["placed"] * 3
    assert st.reader.stats["rf_errors"] >= 20


def test_more_tags_than_max_tags_are_not_misses():
    board = TestBoard()
    cfg = station_config()
    cfg["reader"]["max_tags"] = 2
    st = Station(board, cfg)
    st.start()
    for i in range(3):
        board.field.place(Card("04A224E2C65E8%d" % i))
    run_for(st, 3000)
    ev = board.broker.events()
    assert len(ev) == 2 and all(e["action"] == "placed" for e in ev)  # two followed, none flapping
    assert st.reader.stats["truncated"] >= 10
