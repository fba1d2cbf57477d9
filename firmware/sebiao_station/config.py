"""config.json: defaults, validation and atomic replacement.

A station must boot even from a half-written file, so the file is only ever
replaced by writing a temp file and renaming it (LittleFS renames atomically).
Every key the station understands is in DEFAULTS; an unknown key or a wrong
type is an error naming its path, e.g. "timing.poll_ms: must be an integer".
"""

import json

SCHEMA = 1
FILENAME = "config.json"

# The pins are those of firmware/defaults.json (a test compares them).
DEFAULTS = {
    "schema": SCHEMA,
    "workshop": "ws-demo",
    "station": "station-1",
    "wifi": {"ssid": "", "password": ""},
    "broker": {
        "host": "127.0.0.1",
        "port": 1883,
        "username": "",
        "password": "",
        "keepalive_s": 60,
        "client_id": "",  # "" = sebiao-{workshop}-{station}
    },
    "ntp_host": "",  # "" = the broker's host: the gateway is the workshop's time source (by IP)
    "ntp_port": 123,
    "reader": {
        "type": "mfrc522",  # mfrc522 | pn532
        "spi_id": 2,  # VSPI
        "baudrate": 1000000,
        "gain": 4,  # MFRC522 RxGain 0..7; 4 = 33 dB, full 48 dB saturates at contact distance
        "max_tags": 8,  # tags read per poll cycle (MFRC522; the PN532 lists at most 2)
    },
    "pins": {
        "spi_sck": 18,
        "spi_mosi": 23,
        "spi_miso": 19,
        "reader_cs": 5,
        "reader_rst": 22,
        "reader_irq": 21,
        "led_red": 25,
        "led_green": 26,
        "buzzer": 27,
    },
    "timing": {
        "poll_ms": 200,
        "absent_misses": 3,
        "absent_ms": 600,
        "heartbeat_s": 60,
        "socket_timeout_ms": 3000,
        "puback_timeout_ms": 5000,
        "backoff_min_ms": 1000,
        "backoff_max_ms": 60000,
        "replay_per_s": 10,
        "watchdog_ms": 30000,
        "reader_dead_reset_s": 300,
        "ntp_every_s": 3600,
    },
    "buffer": {
        "max_bytes": 102400,
        "segment_bytes": 8192,
    },
    # LED and buzzer (feedback.py): misuse = red latched + beeps; test = red, green, buzzer a step each
    "feedback": {
        "misuse_beeps": 3,
        "misuse_beep_ms": 150,
        "misuse_gap_ms": 150,
        "test_step_ms": 600,
    },
    "settings_version": "",  # the remote settings in force (settings.py); "" = as provisioned
}

# "probe" (a DS18B20 on 1-Wire) is optional: absent = no probe. When given,
# missing keys take these defaults (the pin from firmware/defaults.json).
PROBE_DEFAULTS = {
    "pin": 4,
    "start_c": 45,  # a cycle starts at or above this, ends below start_c - 2
    "interval_s": 5,
    "max_s": 7200,  # a longer cycle is closed and a new one starts
}
PROBE_RANGES = (
    ("pin", 0, 39),
    ("start_c", 30, 120),
    ("interval_s", 1, 600),
    ("max_s", 60, 86400),
)
# GPIOs 34..39 are input only: the 1-Wire line must also be driven low
PROBE_INPUT_ONLY = (34, 35, 36, 37, 38, 39)

READER_TYPES = ("mfrc522", "pn532")

# (path, low, high): integer ranges beyond "is an integer"
RANGES = (
    ("broker.port", 1, 65535),
    ("ntp_port", 1, 65535),
    ("broker.keepalive_s", 10, 3600),
    ("reader.spi_id", 1, 2),
    ("reader.baudrate", 100000, 10000000),
    ("reader.gain", 0, 7),
    ("reader.max_tags", 1, 16),
    ("timing.poll_ms", 20, 5000),
    ("timing.absent_misses", 1, 50),
    ("timing.absent_ms", 0, 60000),
    ("timing.heartbeat_s", 5, 3600),
    ("timing.socket_timeout_ms", 100, 10000),
    ("timing.puback_timeout_ms", 100, 60000),
    ("timing.backoff_min_ms", 100, 600000),
    ("timing.backoff_max_ms", 100, 3600000),
    ("timing.replay_per_s", 1, 1000),
    ("timing.watchdog_ms", 5000, 120000),
    ("timing.reader_dead_reset_s", 10, 86400),
    ("timing.ntp_every_s", 60, 86400),
    ("buffer.max_bytes", 4096, 4 * 1024 * 1024),
    ("buffer.segment_bytes", 512, 65536),
    ("feedback.misuse_beeps", 1, 10),
    ("feedback.misuse_beep_ms", 20, 2000),
    ("feedback.misuse_gap_ms", 20, 2000),
    ("feedback.test_step_ms", 100, 5000),
)


class ConfigError(ValueError):
    pass


def _is_slug(text):
    if not text or len(text) > 32 or text[0] == "-" or text[-1] == "-" or "--" in text:
        return False
    for ch in text:
        if not ("a" <= ch <= "z" or "0" <= ch <= "9" or ch == "-"):
            return False
    return True


def _merge(defaults, given, path, errors):
    out = {}
    for key in given:
        if key not in defaults and not key.startswith("_"):
            errors.append("%s%s: unknown key" % (path, key))
    for key in defaults:
        default = defaults[key]
        where = path + key
        if key not in given:
            out[key] = _copy(default)
            continue
        value = given[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                errors.append("%s: must be an object" % where)
                out[key] = _copy(default)
            else:
                out[key] = _merge(default, value, where + ".", errors)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                errors.append("%s: must be true or false" % where)
            out[key] = value
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int):
                errors.append("%s: must be an integer" % where)
            out[key] = value
        elif isinstance(default, str):
            if not isinstance(value, str):
                errors.append("%s: must be a string" % where)
            out[key] = value
        else:
            out[key] = value
    return out


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(value[k]) for k in value}
    return value


def get(cfg, path):
    for part in path.split("."):
        cfg = cfg[part]
    return cfg


def validate(given):
    """The full config (defaults filled in) or ConfigError listing every problem."""
    if not isinstance(given, dict):
        raise ConfigError("the config must be a JSON object")
    errors = []  # type: list
    probe = given.get("probe")
    cfg = _merge(DEFAULTS, {k: given[k] for k in given if k != "probe"}, "", errors)
    if "probe" in given:
        cfg["probe"] = _probe(probe, cfg, errors)
    if not errors:
        if cfg["schema"] != SCHEMA:
            errors.append("schema: version %r, this firmware reads %d" % (cfg["schema"], SCHEMA))
        for name in ("workshop", "station"):
            if not _is_slug(cfg[name]):
                errors.append("%s: %r: use lowercase letters, digits and '-'" % (name, cfg[name]))
        if cfg["reader"]["type"] not in READER_TYPES:
            errors.append("reader.type: %r is not one of %s" % (cfg["reader"]["type"], ", ".join(READER_TYPES)))
        for path, low, high in RANGES:
            value = get(cfg, path)
            if not low <= value <= high:
                errors.append("%s: %d is outside %d..%d" % (path, value, low, high))
        for name in cfg["pins"]:
            if not 0 <= cfg["pins"][name] <= 39:
                errors.append("pins.%s: %d is not an ESP32 GPIO" % (name, cfg["pins"][name]))
        t = cfg["timing"]
        if t["backoff_max_ms"] < t["backoff_min_ms"]:
            errors.append("timing.backoff_max_ms: smaller than timing.backoff_min_ms")
        if t["socket_timeout_ms"] * 3 > t["watchdog_ms"]:
            errors.append("timing.watchdog_ms: must be at least 3 x timing.socket_timeout_ms")
        if cfg["buffer"]["segment_bytes"] * 4 > cfg["buffer"]["max_bytes"]:
            errors.append("buffer.max_bytes: must hold at least 4 segments")
    if errors:
        raise ConfigError("; ".join(errors))
    if not cfg["broker"]["client_id"]:
        cfg["broker"]["client_id"] = "sebiao-%s-%s" % (cfg["workshop"], cfg["station"])
    return cfg


def _probe(given, cfg, errors):
    if not isinstance(given, dict):
        errors.append("probe: must be an object (leave it out for a station without a probe)")
        return _copy(PROBE_DEFAULTS)
    n = len(errors)
    probe = _merge(PROBE_DEFAULTS, given, "probe.", errors)
    if len(errors) > n:
        return probe
    for key, low, high in PROBE_RANGES:
        if not low <= probe[key] <= high:
            errors.append("probe.%s: %d is outside %d..%d" % (key, probe[key], low, high))
    pin = probe["pin"]
    if pin in PROBE_INPUT_ONLY:
        errors.append("probe.pin: GPIO %d is input only; 1-Wire needs a pin that can drive the line" % pin)
    for name in cfg["pins"]:
        if cfg["pins"][name] == pin:
            errors.append("probe.pin: GPIO %d is already pins.%s" % (pin, name))
    return probe


def load(path=FILENAME):
    """Read and validate; a missing file gives the defaults, a broken one raises."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return validate({})
    try:
        given = json.loads(text)
    except ValueError:
        raise ConfigError("%s: not valid JSON" % path)
    try:
        return validate(given)
    except ConfigError as exc:
        raise ConfigError("%s: %s" % (path, exc.args[0]))


def save(cfg, path=FILENAME):
    """Validate, then replace the file atomically (write temp, rename over)."""
    validate(cfg)
    write_atomic(path, json.dumps(cfg))


def write_atomic(path, data):
    import os
    tmp = path + ".tmp"
    with open(tmp, "wb" if isinstance(data, (bytes, bytearray)) else "w") as f:
        f.write(data)
    os.rename(tmp, path)  # POSIX and LittleFS replace the target in one step
