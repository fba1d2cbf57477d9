"""Remote settings: the gateway's {"v":1,"cmd":"settings","version":"..","settings":{..}}.

Loaded only when such a command arrives (a station that never gets one pays no
RAM for this code). Only the keys in REMOTE may come over the network: timing,
the reader's gain and tag count, the LED and buzzer timings. Pins, the reader
chip, the broker, the watchdog and the offline buffer stay as provisioned over
USB (a wrong pin or broker cannot be undone from afar; a smaller buffer would
delete unsent evidence; the ESP32's watchdog is set once per boot).

The set is merged into the running config and checked with config.validate
(the same bounds as a config.json on flash); a refused set changes nothing and
is reported as "settings_error": {"version", "error": "<field>: <reason>"}.
A good one replaces config.json atomically (with its version, so the last
good set survives a power cut), is applied at once to the running station (no
restart: a restart would re-announce every tag on the reader and start a new
boot), and the status reports its version in "settings".
"""

from . import config

# The same keys and bounds as the gateway's edge_gateway/model/station_settings.py (a test compares them)
REMOTE = (
    "timing.poll_ms", "timing.absent_misses", "timing.absent_ms", "timing.heartbeat_s",
    "timing.socket_timeout_ms", "timing.puback_timeout_ms", "timing.backoff_min_ms", "timing.backoff_max_ms",
    "timing.replay_per_s", "timing.reader_dead_reset_s", "timing.ntp_every_s",
    "reader.gain", "reader.max_tags",
    "feedback.misuse_beeps", "feedback.misuse_beep_ms", "feedback.misuse_gap_ms", "feedback.test_step_ms",
)
VERSION_MAX = 16


def flash_path(board, name):
    root = board.fs_root.rstrip("/")
    return root + "/" + name if root else name


def check_version(version):
    if not isinstance(version, str) or not 1 <= len(version) <= VERSION_MAX:
        raise config.ConfigError("version: must be a string of 1..%d characters" % VERSION_MAX)
    for ch in version:
        if not ("a" <= ch <= "z" or "0" <= ch <= "9"):
            raise config.ConfigError("version: use lowercase letters and digits")


def merged(cfg, version, given):
    """The running config with `given` ({"timing": {..}, ..}) in it, validated; or ConfigError."""
    check_version(version)
    if not isinstance(given, dict):
        raise config.ConfigError("settings: must be an object")
    new = config._copy(cfg)
    errors = []
    for section in given:
        part = given[section]
        if not isinstance(part, dict):
            errors.append("%s: must be an object" % section)
            continue
        for key in part:
            path = section + "." + key
            if path in REMOTE:
                new[section][key] = part[key]
            else:
                errors.append("%s: not a remote setting" % path)
    if errors:
        raise config.ConfigError("; ".join(errors))
    new["settings_version"] = version
    return config.validate(new)


def command(station, cmd):
    version = cmd.get("version")
    report = station.remote
    station.link.status_due = True  # the answer is the next status
    if version == station.cfg["settings_version"]:
        report.pop("settings_error", None)
        return
    try:
        cfg = merged(station.cfg, version, cmd.get("settings"))
    except config.ConfigError as exc:
        report["settings_error"] = {"version": version if isinstance(version, str) else "",
                                    "error": str(exc.args[0])[:160]}
        return
    import json
    config.write_atomic(flash_path(station.board, "config.json"), json.dumps(cfg))
    apply(station, cfg)
    report.pop("settings_error", None)


def apply(station, cfg):
    """The running station takes `cfg` (validated): every REMOTE key is read again."""
    t = cfg["timing"]
    station.cfg = cfg  # reader_dead_reset_s and ntp_every_s are read from it each pass
    station.poll_ms = t["poll_ms"]
    station.presence.need_misses = t["absent_misses"]
    station.presence.absent_ms = t["absent_ms"]
    station.max_tags = cfg["reader"]["max_tags"]
    try:
        station.reader.set_gain(cfg["reader"]["gain"])
    except Exception:  # a reader failing now: its next re-init (readers/) writes self.gain
        station.reader.gain = cfg["reader"]["gain"]
    station.feedback.fb = cfg["feedback"]
    link = station.link
    link.cfg = cfg
    link.puback_ms = t["puback_timeout_ms"]
    link.gap_ms = 1000 // t["replay_per_s"]
    link.heartbeat_ms = t["heartbeat_s"] * 1000
    link.backoff_min = t["backoff_min_ms"]
    link.backoff_max = t["backoff_max_ms"]
    link.client.timeout_ms = t["socket_timeout_ms"]
