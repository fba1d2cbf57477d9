import fwsupport
from sebiao_station import config


def test_pin_defaults_are_those_of_defaults_json():
    pins = fwsupport.read_json(fwsupport.FIRMWARE + "/defaults.json")["pins"]
    assert config.DEFAULTS["pins"] == pins
    assert config.validate({})["pins"] == pins


def test_defaults_fill_in_and_client_id_is_derived():
    cfg = config.validate({"workshop": "ws-a", "station": "sink-white-1", "timing": {"poll_ms": 100}})
    assert cfg["timing"]["poll_ms"] == 100
    assert cfg["timing"]["absent_misses"] == 3 and cfg["timing"]["absent_ms"] == 600
    assert cfg["reader"]["gain"] == 4
    assert cfg["broker"]["client_id"] == "sebiao-ws-a-sink-white-1"


BAD = (
    ({"colour": 1}, "colour: unknown key"),
    ({"timing": {"poll_ms": "200"}}, "timing.poll_ms: must be an integer"),
    ({"timing": {"poll_ms": True}}, "timing.poll_ms: must be an integer"),
    ({"timing": {"poll_ms": 1}}, "timing.poll_ms: 1 is outside"),
    ({"reader": {"type": "rc522"}}, "reader.type: 'rc522'"),
    ({"reader": {"gain": 9}}, "reader.gain: 9 is outside"),
    ({"wifi": "x"}, "wifi: must be an object"),
    ({"station": "Rack_1"}, "station: 'Rack_1'"),
    ({"schema": 2}, "schema: version 2"),
    ({"pins": {"led_red": 48}}, "pins.led_red: 48"),
    ({"pins": {"led_blue": 4}}, "pins.led_blue: unknown key"),
    ({"timing": {"backoff_min_ms": 5000, "backoff_max_ms": 1000}}, "backoff_max_ms: smaller"),
    ({"timing": {"socket_timeout_ms": 5000, "watchdog_ms": 10000}}, "timing.watchdog_ms: must be at least"),
)


def test_bad_configs_name_the_field():
    fwsupport.refuses_each(BAD)


def test_save_is_atomic_and_load_round_trips():
    d = fwsupport.tempdir()
    path = d + "/config.json"
    cfg = config.validate({"station": "rack-blue-2"})
    config.save(cfg, path)
    assert not fwsupport.exists(path + ".tmp")
    assert config.load(path)["station"] == "rack-blue-2"
    cfg["station"] = "rack-blue-3"
    config.save(cfg, path)
    assert config.load(path)["station"] == "rack-blue-3"
    fwsupport.rmtree(d)


def test_invalid_config_is_not_written():
    d = fwsupport.tempdir()
    path = d + "/config.json"
    config.save(config.validate({}), path)
    try:
        config.save({"reader": {"gain": 12}}, path)
    except config.ConfigError:
        pass
    else:
        raise AssertionError("saved an invalid config")
    assert config.load(path)["reader"]["gain"] == 4
    fwsupport.rmtree(d)


def test_load_missing_gives_defaults_and_broken_raises():
    d = fwsupport.tempdir()
    assert config.load(d + "/none.json")["station"] == "station-1"
    with open(d + "/bad.json", "w") as f:
        f.write("{not json")
    try:
        config.load(d + "/bad.json")
    except config.ConfigError as exc:
        assert "not valid JSON" in exc.args[0]
    else:
        raise AssertionError("loaded broken JSON")
    fwsupport.rmtree(d)
