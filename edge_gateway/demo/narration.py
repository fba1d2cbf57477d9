"""What the demo prints: one line per thing that happens, with the day's time and
a progress bar; Chinese first, English second; zones by symbol and name, never
by colour alone."""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from typing import TextIO

from edge_gateway.demo.day import DayStep, Phase
from edge_gateway.model.protocol import alarm_topic
from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.vstation.texts import PATTERNS, label_text
from sebiao_common import strict_json
from sebiao_common.alarms import ALARM_TYPE_NAMES, SEVERITY_NAMES
from sebiao_common.domain import COLORS

SEVERITY = {k: f"{symbol} {zh} {en}" for k, (zh, en, symbol) in SEVERITY_NAMES.items()}
ALARM_NAMES = ALARM_TYPE_NAMES
ACTIONS = {"placed": ("放上", "placed"), "removed": ("取走", "removed")}
BAR = 12


class Narrator:
    def __init__(self, config: WorkshopConfig, day_start_ms: int, day_end_ms: int, now_ms,
                 out: TextIO = sys.stdout) -> None:
        self.config = config
        self.start, self.end = day_start_ms, day_end_ms
        self.now_ms = now_ms
        self.out = out
        self._lock = threading.Lock()
        self.alarms: dict[int, dict] = {}  # alarm id -> its latest JSON

    # -- lines ----------------------------------------------------------------

    def _stamp(self, ts: int | None = None) -> str:
        ts = self.now_ms() if ts is None else ts
        done = min(1.0, max(0.0, (ts - self.start) / (self.end - self.start)))
        filled = int(done * BAR)
        clock = datetime.fromtimestamp(ts / 1000).strftime("%H:%M")
        return f"{clock} ▕{'█' * filled}{'░' * (BAR - filled)}▏{done * 100:3.0f}%"

    def say(self, text: str, ts: int | None = None) -> None:
        with self._lock:
            print(f"{self._stamp(ts)}  {text}", file=self.out, flush=True)

    def plain(self, text: str = "") -> None:
        with self._lock:
            print(text, file=self.out, flush=True)

    def station_name(self, station_id: str) -> str:
        station = self.config.station(station_id)
        if station is None:
            return station_id
        zone = COLORS[station.zone]
        return f"{zone.symbol} {station_id} {station.name or ''}".rstrip()

    def phase(self, phase: Phase) -> None:
        self.plain(f"── {phase.at} {phase.zh} / {phase.en} ──")

    def narrate(self, step: DayStep) -> None:
        if step.mistake:
            self.say(f"  ✗ 错误 / mistake: {step.zh} / {step.en}")
        elif step.zh:
            self.say(f"  » {step.zh} / {step.en}")

    def event(self, station: str, action: str, tag: str, label: dict | None) -> None:
        zh, en = ACTIONS.get(action, (action, action))
        tool = self.config.tool_by_tag(tag)
        what = label_text(label) if label else (tool.id if tool else f"{tag} (未登记 / unregistered)")
        self.say(f"[{self.station_name(station)}] {zh} / {en}  {what}")

    def feedback(self, station: str, cmd: dict) -> None:
        if cmd.get("cmd") != "feedback":
            return
        zh, en = PATTERNS.get(cmd.get("pattern"), (str(cmd.get("pattern")), str(cmd.get("pattern"))))
        self.say(f"    ↳ [{self.station_name(station)}] {zh} / {en}")

    # -- the gateway's alarms (a pipeline listener, on the pipeline thread) -----

    def on_outcome(self, outcome) -> None:
        topic = alarm_topic(self.config.workshop.id)
        for message in outcome.messages:
            if message.topic == topic:
                self.alarm(strict_json.loads(message.payload))

    def alarm(self, alarm: dict) -> None:
        before = self.alarms.get(alarm["id"])
        self.alarms[alarm["id"]] = alarm
        zh, en = ALARM_NAMES.get(alarm["type"], (alarm["type"], alarm["type"]))
        if before is None:
            self.say(f"  ⚠ 告警 / ALARM #{alarm['id']} [{SEVERITY.get(alarm['severity'], alarm['severity'])}] "
                     f"{zh} / {en}: {alarm['text']['zh']} / {alarm['text']['en']}", alarm["ts"])
        elif before["state"] == "active" and alarm["state"] == "cleared":
            self.say(f"  ✓ 告警解除 / alarm #{alarm['id']} cleared: {zh} / {en}")

    def raised_by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for alarm in self.alarms.values():
            counts[alarm["type"]] = counts.get(alarm["type"], 0) + 1
        return counts
