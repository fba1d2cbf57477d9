"""The stations' remote settings: the ``station_settings:`` section, each station's document and its version,
and when to send it (pure: data in, values out). The contract is ``docs/fleet.md`` (Remote settings).

Only what is safe to change from afar is here (``REMOTE``): the station's ``timing`` (without the watchdog),
``reader.gain`` and ``reader.max_tags``, and the LED and buzzer timings (``feedback``). The bounds and defaults
are those of the firmware's ``config.py`` (the station's truth, which checks every set again); a test holds this
table to it. Each station's document holds every key of ``REMOTE``: firmware default, then the section's
``defaults``, then the station's own entry; its version is the first 12 hex digits of the SHA-256 of its
canonical JSON, so the same document has the same version at every gateway and after every restart.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from edge_gateway.model.protocol import encode_command
from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common import strict_json
from sebiao_common.yamlfile import Node

SECTION = "station_settings"
# (section, key, firmware default, low, high): firmware/sebiao_station/config.py DEFAULTS and RANGES
REMOTE: tuple[tuple[str, str, int, int, int], ...] = (
    ("timing", "poll_ms", 200, 20, 5000),
    ("timing", "absent_misses", 3, 1, 50),
    ("timing", "absent_ms", 600, 0, 60000),
    ("timing", "heartbeat_s", 60, 5, 3600),
    ("timing", "socket_timeout_ms", 3000, 100, 10000),
    ("timing", "puback_timeout_ms", 5000, 100, 60000),
    ("timing", "backoff_min_ms", 1000, 100, 600000),
    ("timing", "backoff_max_ms", 60000, 100, 3600000),
    ("timing", "replay_per_s", 10, 1, 1000),
    ("timing", "reader_dead_reset_s", 300, 10, 86400),
    ("timing", "ntp_every_s", 3600, 60, 86400),
    ("reader", "gain", 4, 0, 7),
    ("reader", "max_tags", 8, 1, 16),
    ("feedback", "misuse_beeps", 3, 1, 10),
    ("feedback", "misuse_beep_ms", 150, 20, 2000),
    ("feedback", "misuse_gap_ms", 150, 20, 2000),
    ("feedback", "test_step_ms", 600, 100, 5000),
)
SECTIONS = ("timing", "reader", "feedback")
VERSION_DIGITS = 12  # hex digits of the SHA-256: 48 bits, no two documents of a workshop meet by chance
RESEND_MS = 60_000  # a station still reporting another version gets the document again at most this often


@dataclass(frozen=True, kw_only=True)
class StationSettings:
    """Each station's document (every key of REMOTE) and its version, for the stations of the config."""

    documents: tuple[tuple[str, dict], ...]  # (station id, {"timing": {..}, "reader": {..}, "feedback": {..}})

    def document(self, station_id: str) -> dict | None:
        return dict(self.documents).get(station_id)

    def version(self, station_id: str) -> str | None:
        doc = self.document(station_id)
        return version_of(doc) if doc is not None else None


def version_of(doc: dict) -> str:
    text = strict_json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:VERSION_DIGITS]


def firmware_defaults() -> dict:
    out: dict[str, dict] = {s: {} for s in SECTIONS}
    for section, key, default, _low, _high in REMOTE:
        out[section][key] = default
    return out


def parse_station_settings(config: WorkshopConfig) -> StationSettings | None:
    """The section checked (file, field, reason on any mistake); None without it: the gateway leaves every
    station's settings as provisioned over USB."""
    raw = config.section(SECTION)
    if raw is None:
        return None
    node = Node(config.file, SECTION, raw).mapping(optional=("defaults", "stations"))
    base = firmware_defaults()
    defaults = node.get("defaults")
    if defaults is not None:
        _overlay(base, defaults)
    own = _own(node.get("stations"), {s.id for s in config.stations})
    docs = []
    for station in config.stations:
        doc = {s: dict(base[s]) for s in SECTIONS}
        where = defaults or node
        if station.id in own:
            _overlay(doc, own[station.id], ("id",))
            where = own[station.id]
        _cross_check(doc, where, config.rules.station_offline_after_seconds)
        _check_tags(doc, where, station.id, [t.id for t in config.tools if t.home == station.id])
        docs.append((station.id, doc))
    return StationSettings(documents=tuple(docs))


def _own(node: Node | None, stations: set[str]) -> dict[str, Node]:
    """``stations``: a list of ``{id, timing, reader, feedback}``, each id a station of the config, once."""
    if node is None:
        return {}
    out: dict[str, Node] = {}
    for item in node.items():
        item.mapping(required=("id",), optional=SECTIONS)
        sid = item.child("id").string()
        if sid not in stations:
            raise item.child("id").fail(f"station '{sid}' is not defined", f"没有定义读卡站 '{sid}'")
        if sid in out:
            raise item.child("id").fail(f"station '{sid}' is given twice (first at {out[sid].path})",
                                        f"读卡站 '{sid}' 重复（首次出现在 {out[sid].path}）")
        out[sid] = item
    return out


def _overlay(doc: dict, node: Node, required: tuple[str, ...] = ()) -> None:
    node.mapping(required=required, optional=SECTIONS)
    for section in SECTIONS:
        part = node.get(section)
        if part is None:
            continue
        keys = tuple(k for s, k, *_ in REMOTE if s == section)
        part.mapping(optional=keys)
        for s, key, _default, low, high in REMOTE:
            if s == section and key in part.value:
                doc[section][key] = part.child(key).integer(low, high)


def _cross_check(doc: dict, node: Node, offline_after_s: int) -> None:
    """The firmware's checks between keys (config.py validate), which the station makes again; and the
    heartbeat against the gateway's silence limit (a quiet station would be called offline between two)."""
    t = doc["timing"]
    if t["heartbeat_s"] >= offline_after_s:
        raise node.fail(f"timing.heartbeat_s ({t['heartbeat_s']}) must be less than "
                        f"rules.station_offline_after_seconds ({offline_after_s}): a quiet station would be "
                        "called offline between two statuses",
                        f"timing.heartbeat_s（{t['heartbeat_s']}）必须小于 rules.station_offline_after_seconds"
                        f"（{offline_after_s}），否则没有事件的读卡站会在两次状态之间被判为离线")
    if t["backoff_max_ms"] < t["backoff_min_ms"]:
        raise node.fail(f"timing.backoff_max_ms ({t['backoff_max_ms']}) is smaller than timing.backoff_min_ms "
                        f"({t['backoff_min_ms']})",
                        f"timing.backoff_max_ms（{t['backoff_max_ms']}）小于 timing.backoff_min_ms"
                        f"（{t['backoff_min_ms']}）")


def _check_tags(doc: dict, node: Node, station_id: str, homed: list[str]) -> None:
    """A reader that reads fewer tags a cycle than its rack homes tools would never see the others."""
    most = doc["reader"]["max_tags"]
    if len(homed) > most:
        raise node.fail(f"reader.max_tags {most} for '{station_id}' is fewer than the {len(homed)} tools that call it "
                        f"home ({', '.join(homed)}): the reader would never see some of them",
                        f"'{station_id}' 的 reader.max_tags 为 {most}，少于以它为存放架的 {len(homed)} 件器具，"
                        "有的器具将永远读不到")


def settings_command(doc: dict) -> bytes:
    """``{"v":1,"cmd":"settings","version":"..","settings":{..}}``."""
    return encode_command("settings", version=version_of(doc), settings=doc)


def reported(health: object) -> tuple[str | None, str | None]:
    """(the version a status says the station runs, the version it refused last), each None when not said.
    A status without ``settings`` is a firmware that has no remote settings: it is never sent any."""
    if not isinstance(health, dict):
        return None, None
    running = health.get("settings")
    error = health.get("settings_error")
    refused = error.get("version") if isinstance(error, dict) else None
    return (running if isinstance(running, str) else None), (refused if isinstance(refused, str) else None)


def due(*, desired: str | None, running: str | None, refused: str | None, online: bool,
        last_sent: int | None, now: int, resend_ms: int = RESEND_MS) -> bool:
    """Whether to send the station its document now: it is online, runs remote-settings firmware (its status
    says a version), runs another version, has not refused this one, and was not sent it in the last
    ``resend_ms`` (a station that missed the command, or was offline, gets it again: convergent)."""
    if desired is None or running is None or not online:
        return False
    if running == desired or refused == desired:
        return False
    return last_sent is None or now - last_sent >= resend_ms
