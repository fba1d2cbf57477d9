"""The cloud outbox's items: events, alarm transitions and station status as JSON text.

The format is ``docs/cloud-ingest.md``'s batch item, serialised once when the
fact is committed, so a batch sent again carries byte-identical items. Gateway
health alarms (``sink_refused``, ``outbox_backlog``) are not workshop alarms and
are not sent: ``alarm`` returns None for them. A status item names the
station's kind and zone from the workshop config (``station_kind``, ``zone``):
the cloud reads them instead of guessing from the station's id.

An alarm transition's ``by`` and ``comment`` are held to the limits both sides
share (``sebiao_common.alarms``) when a person acts. A row queued by an older
gateway that allowed more is fitted by :func:`fit_transition` before it is sent
(``CloudOutbox.fit_transitions``): the cloud would refuse it, and the
acknowledgement would never reach the inspectors.
"""

from __future__ import annotations

from collections.abc import Mapping

from edge_gateway.model.alarms import Alarm, AlarmJson, HistoryEntry
from edge_gateway.model.disinfection import Cycle, Verdict
from edge_gateway.model.rules import Raise
from edge_gateway.model.setup import plain
from edge_gateway.model.stations import StationState
from edge_gateway.model.workshop import RuleException, Station
from sebiao_common import strict_json
from sebiao_common.alarms import ALARM_TYPES, MAX_COMMENT_CHARS, MAX_PERSON_CHARS

# Keys of a status item that a station's health fields must not overwrite.
_STATUS_KEYS = ("kind", "station", "station_kind", "zone", "ts", "online", "buffer_depth")


def _dump(item: Mapping[str, object]) -> str:
    return strict_json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def fit_transition(item: str) -> str | None:
    """An alarm item whose transition the cloud would refuse (a name over ``MAX_PERSON_CHARS``, a comment over
    ``MAX_COMMENT_CHARS`` or blank), fitted: the text cut to the limit and ended with "…", a blank comment none.
    None when it fits already. The gateway's own ``alarm_history`` keeps the words as they were."""
    data = strict_json.loads(item)
    transition = data.get("transition") if data.get("kind") == "alarm" else None
    if not isinstance(transition, dict):
        return None
    by, comment = transition.get("by"), transition.get("comment")
    fitted = dict(transition)
    if isinstance(by, str):
        fitted["by"] = _shorten(by, MAX_PERSON_CHARS)
    if isinstance(comment, str):
        fitted["comment"] = _shorten(comment, MAX_COMMENT_CHARS) if comment.strip() else None
    if fitted == transition:
        return None
    return _dump({**data, "transition": fitted})


class CloudItems:
    def __init__(self, workshop: str) -> None:
        self.ws = workshop

    def event(self, station: str, boot: str, seq: int, ts: int, tag: str, action: str, tool: str | None,
              note: str | None) -> str:
        return _dump({"kind": "event", "station": station, "boot": boot, "seq": seq, "ts": ts, "tag": tag,
                      "action": action, "tool": tool, "note": note})

    def alarm(self, alarm: Alarm, entry: HistoryEntry, history_id: int, alarm_json: AlarmJson) -> str | None:
        if alarm.type not in ALARM_TYPES:
            return None
        return _dump({"kind": "alarm", "alarm": alarm_json, "transition": {
            "seq": history_id, "at": entry.at, "action": entry.action, "state": entry.state,
            "acked": entry.acked, "by": entry.by, "comment": entry.comment}})

    def cycle(self, station: Station, cycle: Cycle, verdict: Verdict, tools: tuple[str, ...]) -> str:
        """A disinfection cycle with the gateway's verdict (the samples stay on the gateway)."""
        return _dump({"kind": "cycle", "station": station.id, "station_kind": station.kind.value,
                      "boot": cycle.boot, "seq": cycle.seq, "start": cycle.start, "ts": cycle.ts,
                      "method": verdict.method, "temp_c": verdict.threshold.temp_c,
                      "hold_required_s": verdict.threshold.hold_seconds, "max_temp_dc": verdict.max_temp_dc,
                      "hold_s": verdict.hold_seconds, "passed": verdict.passed, "tools": list(tools)})

    def silenced(self, raised: Raise, exception: RuleException | None, setup_version: int | None,
                 accepted_version: int | None = None) -> str:
        """An alarm the owner's setup stopped at the gateway: with the recorded exception as the setup holds it
        (``model/setup.py``), or, for a relaxed requirement, ``relaxed`` naming the accepted setup version whose
        rules raised it (None: the seed's). The cloud counts it until an inspector accepts (docs/cloud-ingest.md,
        "The setup as evidence (配置备案)")."""
        return _dump({"kind": "silenced", "type": raised.type, "severity": raised.severity,
                      "subject": raised.subject, "tool": raised.tool, "tag": raised.tag, "station": raised.station,
                      "ts": raised.ts, "late": raised.late, "text": {"zh": raised.text_zh, "en": raised.text_en},
                      "exception": plain(exception) if exception is not None else None,
                      **({} if exception is not None else {"relaxed": {"accepted_version": accepted_version}}),
                      "setup_version": setup_version})

    def status(self, station: Station, state: StationState, now: int, health: Mapping[str, object] | None) -> str:
        """``station``: the config's station (its kind and zone); ``state``: its liveness now."""
        extra = {k: v for k, v in (health or {}).items() if k not in _STATUS_KEYS}
        return _dump({"kind": "status", "station": state.id, "station_kind": station.kind.value,
                      "zone": station.zone, "ts": now, "online": state.online,
                      "buffer_depth": state.buffer_depth, **extra})


def setup_item(*, version: int, at: int, digest: str, setup: str) -> str:
    """A ``setup`` item: one version of the workshop's setup (``model/setup.py``); ``setup`` is its canonical
    JSON, ``hash`` that text's SHA-256, which the cloud recomputes."""
    return _dump({"kind": "setup", "version": version, "at": at, "hash": digest, "setup": strict_json.loads(setup)})


def training_item(*, record_id: int, day: str, who: str, topic: str, by: str, recorded_at: int) -> str:
    """A ``training`` item: one staff training record (``sebiao training``), ``id`` its id in this store."""
    return _dump({"kind": "training", "id": record_id, "day": day, "who": who, "topic": topic, "by": by,
                  "recorded_at": recorded_at})
