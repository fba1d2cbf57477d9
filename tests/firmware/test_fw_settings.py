import sys

from fwsupport import TestBoard, command, exists, read_json, retained_status, run_for, station_config
from sebiao_station import config, feedback
from sebiao_station.app import Station

GOOD = {"timing": {"heartbeat_s": 30, "poll_ms": 100, "absent_misses": 5},
        "reader": {"gain": 6, "max_tags": 4},
        "feedback": {"misuse_beeps": 2, "misuse_beep_ms": 300, "test_step_ms": 400}}


def started():
    board = TestBoard()
    st = Station(board, station_config())
    st.start()
    run_for(st, 300)
    return board, st



def test_the_default_feedback_is_the_patterns_stations_always_played():
    fb = config.DEFAULTS["feedback"]
    pats = {name: feedback.pattern(name, fb)[0] for name in feedback.NAMES}
    test_ms = feedback.pattern("test", fb)[1]
    assert pats["misuse"] == ((0, "green", 0), (0, "red", 1), (0, "buzzer", 1), (150, "buzzer", 0),
                              (300, "buzzer", 1), (450, "buzzer", 0), (600, "buzzer", 1), (750, "buzzer", 0))
    assert pats["test"] == ((0, "green", 0), (0, "buzzer", 0), (0, "red", 1), (600, "red", 0), (600, "green", 1),
                            (1200, "green", 0), (1200, "buzzer", 1), (1800, "buzzer", 0))
    assert pats["clear"] == ((0, "red", 0), (0, "buzzer", 0), (0, "green", 1)) and test_ms == 2000


def test_status_reports_the_settings_version_empty_as_provisioned():
    board, st = started()
    assert retained_status(board)["settings"] == ""
    assert "settings_error" not in retained_status(board)


def test_the_settings_code_loads_only_when_a_settings_command_arrives():
    import sebiao_station
    for name in ("settings", "secrets"):  # as after a reset: neither imported
        sys.modules.pop("sebiao_station." + name, None)
        if name in sebiao_station.__dict__:
            delattr(sebiao_station, name)
    board, st = started()
    assert "sebiao_station.settings" not in sys.modules and "sebiao_station.secrets" not in sys.modules
    command(board, st, {"cmd": "settings", "version": "a1", "settings": {"timing": {"heartbeat_s": 30}}})
    assert "sebiao_station.settings" in sys.modules
    assert "sebiao_station.secrets" not in sys.modules


def test_a_good_set_is_applied_at_once_kept_on_flash_and_reported():
    board, st = started()
    command(board, st, {"cmd": "settings", "version": "abc123", "settings": GOOD})
    assert retained_status(board)["settings"] == "abc123"
    assert st.poll_ms == 100 and st.link.heartbeat_ms == 30000 and st.presence.need_misses == 5
    assert st.max_tags == 4 and st.reader.gain == 6
    saved = read_json(board.fs_root + "/config.json")
    assert saved["settings_version"] == "abc123" and saved["timing"]["heartbeat_s"] == 30
    assert saved["reader"]["gain"] == 6 and saved["feedback"]["misuse_beeps"] == 2
    assert not exists(board.fs_root + "/config.json.tmp")
    buzzer = board.pins[27]
    before = buzzer.history.count(1)
    command(board, st, {"cmd": "feedback", "pattern": "misuse"})
    run_for(st, 1500)
    assert buzzer.history.count(1) - before == 2  # two beeps now
    # the same version again changes nothing and is answered by a status
    sent = len(board.broker.published)
    command(board, st, {"cmd": "settings", "version": "abc123", "settings": GOOD})
    assert len(board.broker.published) > sent and retained_status(board)["settings"] == "abc123"


def test_a_bad_set_is_refused_with_its_field_and_the_old_set_stays():
    board, st = started()
    command(board, st, {"cmd": "settings", "version": "good1", "settings": GOOD})
    before = read_json(board.fs_root + "/config.json")
    cases = (
        ({"timing": {"poll_ms": 10}}, "timing.poll_ms: 10 is outside 20..5000"),
        ({"pins": {"led_red": 4}}, "pins.led_red: not a remote setting"),
        ({"timing": {"watchdog_ms": 60000}}, "timing.watchdog_ms: not a remote setting"),
        ({"buffer": {"max_bytes": 8192}}, "buffer.max_bytes: not a remote setting"),
        ({"timing": {"heartbeat_s": "30"}}, "timing.heartbeat_s: must be an integer"),
        ({"timing": {"backoff_min_ms": 5000, "backoff_max_ms": 2000}}, "timing.backoff_max_ms: smaller than"),
        ({"feedback": {"misuse_beeps": 11}}, "feedback.misuse_beeps: 11 is outside 1..10"),
        ({"timing": 5}, "timing: must be an object"),
        ("nope", "settings: must be an object"),
    )
    for n, (given, reason) in enumerate(cases):
        command(board, st, {"cmd": "settings", "version": "bad%d" % n, "settings": given})
        report = retained_status(board)
        assert report["settings"] == "good1", report
        assert report["settings_error"]["version"] == "bad%d" % n
        assert reason in report["settings_error"]["error"], (reason, report["settings_error"])
        assert st.poll_ms == 100 and st.link.heartbeat_ms == 30000
    command(board, st, {"cmd": "settings", "version": "Not-A-Hash", "settings": GOOD})
    assert "version:" in retained_status(board)["settings_error"]["error"]
    assert read_json(board.fs_root + "/config.json") == before
    # a good set afterwards clears the error
    command(board, st, {"cmd": "settings", "version": "good2", "settings": {"timing": {"heartbeat_s": 45}}})
    assert retained_status(board)["settings"] == "good2" and "settings_error" not in retained_status(board)


def test_the_last_good_set_is_what_the_station_boots_with():
    board, st = started()
    command(board, st, {"cmd": "settings", "version": "abc123", "settings": GOOD})
    cfg = config.load(board.fs_root + "/config.json")
    board2 = TestBoard(fs_root=board.fs_root, clock=board.clock)
    st2 = Station(board2, cfg)
    st2.start()
    run_for(st2, 300)
    assert retained_status(board2)["settings"] == "abc123"
    assert st2.poll_ms == 100 and st2.link.heartbeat_ms == 30000
