"""The snapshots' JSON, as the pages receive it (``docs/display.md``): the public
display's (``display_data``) and the owner's console's (``console_data``).

Both are sent with ``generated_at`` taken out of the change comparison
(``live.py``); everything else is compared, so a snapshot holds only what the
page shows.
"""

from __future__ import annotations

from typing import TypedDict

from edge_gateway.model.alarms import AlarmJson


class Words(TypedDict):
    zh: str
    en: str


# -- the console (private) --------------------------------------------------------


class WorkshopJson(TypedDict):
    id: str
    name: str
    district: str


class StationRefJson(TypedDict):
    """A station as an alarm's evidence names it (None beyond its id for a station not in the config)."""

    station: str
    station_name: str | None
    station_kind: str | None
    zone: str | None


class NoteText(TypedDict):
    zh: str
    en: str


class Evidence(StationRefJson):
    ts: int
    received_at: int
    action: str
    late: bool
    note: str | None  # as stored
    note_text: NoteText | None  # the note in the owner's words (a reader's missed step with the station's name)
    trigger: bool  # the event that raised the alarm (its latest occurrence)


class HistoryJson(TypedDict):
    at: int
    action: str
    state: str
    acked: bool
    by: str
    comment: str | None


class ToolRef(TypedDict):
    id: str
    kind: str
    kind_zh: str
    kind_en: str
    color: str
    home: str
    tag: str | None  # None: no NFC tag fitted yet (not tracked)


class ConsoleAlarm(AlarmJson):
    evidence: list[Evidence]  # the tool's (or tag's) latest events; a station's own alarm: the station's
    evidence_of: str  # tool | tag | station | none: whose events ``evidence`` holds
    station_info: StationRefJson | None  # the alarm's station, named
    last_heard: int | None  # when the alarm's station was last heard from (any message), ms
    stations_involved: list[StationRefJson]
    history: list[HistoryJson]
    tool_info: ToolRef | None
    label: dict[str, str | None] | None  # an unknown tag's smart label (tool, kind, color) as last read, if any


class HandledJson(AlarmJson):
    """A cleared alarm under 今日已处理: who cleared it (``system``: it ended by itself), when, and why."""

    cleared_at: int
    cleared_by: str | None
    comment: str | None
    acked_by: str | None


class ConsoleTool(ToolRef):
    state: str
    station: str | None
    station_name: str | None
    station_zone: str | None
    since: int | None
    washed: bool
    last_seen: int | None
    away_from_home: bool


class StationHealth(TypedDict):
    id: str
    name: str | None
    kind: str
    zone: str
    online: bool
    last_seen: int | None
    buffer_depth: int | None
    heap_free: int | float | None
    rssi: int | float | None
    reader_ok: bool | None
    reader_errors: int | None
    buffer_dropped: int | float | None
    fw: str | None
    uptime_s: int | float | None
    reset_cause: str | None
    tag_errors: dict[str, int]
    reported: bool
    clock_synced: bool | None  # the station's clock was set (by SNTP) this boot; None: not reported
    boot: str | None  # the boot id of its newest status
    settings: str | None  # the version of its remote settings it reports (docs/fleet.md)
    settings_error: str | None  # why it refused the last settings, when it did: "<version>: <error>"
    update: StationUpdate | None  # its last update attempt (docs/fleet.md, status ``update``); None: none
    resets_24h: dict[str, int]  # boots the gateway saw in the last 24 h, by reset cause


class StationUpdate(TypedDict):
    version: str | None
    state: str | None  # refused | downloading | switching | trial | confirmed | rolled_back | failed
    error: str | None
    done: int | None
    of: int | None


class StaleLabel(TypedDict):
    tool: str
    id: str
    tag: str
    kind: str
    kind_zh: str
    kind_en: str
    color: str
    last_seen: int | None
    days: int | None


class TagErrors(TypedDict):
    tag: str
    tool: str | None
    color: str | None
    station: str
    station_name: str | None
    count: int


class LabelHealth(TypedDict):
    stale_days: int
    stale: list[StaleLabel]
    errors: list[TagErrors]
    colors: dict[str, Words]


class CycleJson(TypedDict):
    """A disinfection cycle as the console lists it."""

    station: StationRefJson
    start: int
    ts: int
    method: str
    temp_c: float  # the threshold it was judged by
    hold_required_s: int
    max_temp_c: float
    hold_s: int
    passed: bool
    tools: list[str]


class TodayJson(TypedDict):
    """What the display claims, as the owner sees it too."""

    washes: int
    disinfection: "Disinfection"
    coverage: "Coverage"


class ConsoleSnapshot(TypedDict):
    v: int
    generated_at: int
    workshop: WorkshopJson
    grade: "DisplayGrade"  # the regulator's grade as the display shows it, with when the cloud last confirmed it
    alarms: list[ConsoleAlarm]
    handled_today: list[HandledJson]  # alarms cleared since local midnight, newest first
    day_start: int  # local midnight of the gateway's clock, ms
    tools: list[ConsoleTool]
    stations: list[StationHealth]
    labels: LabelHealth
    today: TodayJson
    cycles: list[CycleJson]  # the latest day's, newest first
    clock: GatewayClockJson
    day: dict[str, object] | None  # the newest day's opening check and roll call (core/owner_day.py), or None
    training: list[dict[str, object]]  # the newest training records: day, who, topic, by


class GatewayClockJson(TypedDict):
    """The gateway's own clock and whether its SNTP answers set the stations' clocks (the console's clock line)."""

    synchronised: bool | None  # None: not known (no time server wired, e.g. in a test host)
    offset_ms: float | None
    serving: bool  # the SNTP server answers
    usable: bool  # its answers set a station's clock (synchronised, or local_stratum)
    stratum: int | None
    error: str | None  # why it does not answer


# -- the display (public) ---------------------------------------------------------


class DisplayGrade(TypedDict):
    grade: str | None  # gold | silver | bronze | orange, as the cloud signed it; None: none verified yet
    grade_zh: str
    grade_en: str
    grade_effective: str | None  # YYYY-MM-DD, the date the regulator's grade took effect
    grade_state: str  # verified | none (no statement verified) | unconfirmed (not confirmed by the cloud lately)
    grade_confirmed_at: int | None  # ms: when the cloud last signed the statement shown (or not shown: too old)


class DisplayWorkshop(DisplayGrade):
    name: str
    district: str
    title_zh: str
    title_en: str


class KindCount(TypedDict):
    kind: str
    zh: str
    en: str
    n: int


class ZoneJson(TypedDict):
    key: str
    zh: str
    en: str
    name_zh: str
    name_en: str
    hex: str
    shape: str
    symbol: str
    shape_zh: str
    purpose_zh: str
    purpose_en: str
    raw: bool
    used: bool
    tools: dict[str, int]  # on_rack, out, at_sink, unknown, untagged (no tag fitted: no reader sees it)
    total: int
    washes_today: int
    kinds: list[KindCount]


class Incident(TypedDict):
    days: int | None
    since: int | None
    none_recorded: bool
    records_since: int | None


class Misuse(TypedDict):
    today: int
    week: int
    week_handled: int


class StationCount(TypedDict):
    total: int
    online: int


class Disinfection(TypedDict):
    monitored: bool  # some station (a disinfect station, a probed sink) sends cycles that can prove one
    passed: int  # cycles today that held their method's temperature long enough
    total: int  # all cycles today


class Coverage(TypedDict):
    tools_tagged: int  # tools with an NFC tag fitted
    tools_total: int  # tools in the config
    stations_today: int  # stations heard from today (or online now)
    stations_total: int
    covered_ms: int  # time today during which every station was online
    day_ms: int  # time since local midnight


class Activity(TypedDict):
    ts: int
    kind: str
    color: str
    action: str


class DisplayQr(TypedDict):
    source: str  # cloud (the workshop's public page on the cloud) | configured (display.public_url) | lan
    url: str | None  # the address the QR code carries; None with lan: the address the screen itself used


class DisplaySnapshot(TypedDict):
    v: int
    generated_at: int
    day_start: int
    workshop: DisplayWorkshop
    zones: list[ZoneJson]
    washes_today: int
    incident: Incident
    misuse: Misuse | None
    stations: StationCount
    disinfection: Disinfection
    coverage: Coverage
    activity: list[Activity]
    qr: DisplayQr
