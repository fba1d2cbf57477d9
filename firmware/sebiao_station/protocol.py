"""Protocol v1 as the station speaks it (see docs/protocol.md and the gateway's
edge_gateway/model/protocol.py). Payloads are built by hand so the bytes are the same
as the gateway's encoder on both CPython and MicroPython (whose json.dumps
spacing differs between versions)."""

import json

VERSION = 1
ROOT = "sebiao"
ACTIONS = ("placed", "removed")
LABEL_FIELDS = ("tool", "kind", "color")
MAX_PAYLOAD_BYTES = 4096  # the gateway refuses longer payloads (edge_gateway/model/protocol.py)
WIDEST_MS = 9999999999999  # a time as wide as any epoch ms, to size a payload before its time is known


def topic(workshop, station, channel):
    return "%s/%s/%s/%s" % (ROOT, workshop, station, channel)


def _s(text):
    return json.dumps(text)


def event_payload(boot, seq, ts, tag, action, label=None):
    """{"v":1,"boot":..,"seq":..,"ts":..,"tag":..,"action":..[,"label":{..}]} as bytes."""
    if action not in ACTIONS:
        raise ValueError("action must be placed or removed")
    parts = ['{"v":1,"boot":', _s(boot), ',"seq":', str(int(seq)), ',"ts":', str(int(ts)),
             ',"tag":', _s(tag), ',"action":', _s(action)]
    if label:
        items = []
        for name in LABEL_FIELDS:
            value = label.get(name)
            if value is not None:
                items.append(_s(name) + ":" + _s(value))
        parts.append(',"label":{' + ",".join(items) + "}")
    parts.append("}")
    return "".join(parts).encode()


def cycle_payload(boot, seq, ts, start, interval_s, temps_dc):
    """A probe's cycle: {"v":1,"boot":..,"seq":..,"ts":<end>,"start":<first sample>,
    "interval_s":..,"temps_dc":[tenths of °C, ...]} as bytes."""
    parts = ['{"v":1,"boot":', _s(boot), ',"seq":', str(int(seq)), ',"ts":', str(int(ts)),
             ',"start":', str(int(start)), ',"interval_s":', str(int(interval_s)),
             ',"temps_dc":[', ",".join([str(int(t)) for t in temps_dc]), "]}"]
    return "".join(parts).encode()


def status_payload(online, health=None):
    """{"v":1,"online":..,health...}; health keys are written in sorted order."""
    parts = ['{"v":1,"online":', "true" if online else "false"]
    if health:
        for key in sorted(health):
            parts.append("," + _s(key) + ":" + _value(health[key]))
    parts.append("}")
    return "".join(parts).encode()


def _value(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # one decimal (a temperature), the same text on both Pythons
        return "%.1f" % value
    if isinstance(value, dict):
        return "{" + ",".join(_s(k) + ":" + _value(value[k]) for k in sorted(value)) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_value(v) for v in value) + "]"
    return _s(value)


WILL = status_payload(False)


def decode_command(payload):
    """A cmd payload as a dict with "cmd", or None when it is not one we can read."""
    try:
        if isinstance(payload, (bytes, bytearray)):
            payload = bytes(payload).decode()
        data = json.loads(payload)
    except (ValueError, TypeError, UnicodeError):
        return None
    if not isinstance(data, dict) or data.get("v") != VERSION:
        return None
    if not isinstance(data.get("cmd"), str):
        return None
    return data
