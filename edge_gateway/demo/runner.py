"""The demo, start to end: embedded broker and gateway (in this process, on the
day clock), one virtual station per station of the workshop, the day played
step by step, then a summary.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from edge_gateway.demo import day as workday
from edge_gateway.demo.clock import DayClock, station_clock
from edge_gateway.demo.http_thread import HttpThread
from edge_gateway.demo.narration import ALARM_NAMES, Narrator
from edge_gateway.demo.ports import require_free
from edge_gateway.demo.workshop import demo_workshop
from edge_gateway.gateway import Gateway, GatewayOptions
from edge_gateway.tooling.devices.provision import ProvisionOptions, station_config
from edge_gateway.tooling.station_config import validate
from edge_gateway.vstation.runner import VirtualStation
from edge_gateway.vstation.script import Place, Remove, Temp
from edge_gateway.vstation.texts import cycle_line
from sebiao_common.errors import SebiaoError

LOOP_S = 0.01
TAG_GAP_S = 0.35  # real time between two moves of one tag: the reader must see each
SLOW_SPEED = 10.0  # around a mistake, so its feedback reaches the rack while it is fresh
SLOW_FOR_S = 1.0
SETTLE_TIMEOUT_S = 20.0
# Virtual stations poll faster than a device (200 ms) so the compressed day fits.
STATION_TIMING = {"poll_ms": 50, "absent_misses": 2, "absent_ms": 100, "heartbeat_s": 5,
                  "backoff_min_ms": 200, "backoff_max_ms": 2000}
# A probe samples on the station's ticks, which are real time: the hot wash plays at real pace.
DEMO_PROBE = {"interval_s": 1, "start_c": 45, "max_s": 600}
HOT_WASH_S = (2.0, 6.0, 2.0)  # heat, hold, cool (real seconds)
COOL_C = 22.0


@dataclass(frozen=True, kw_only=True)
class DemoOptions:
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    duration_s: float = 60.0  # real seconds the day takes
    speed: float | None = None  # overrides duration: virtual seconds per real second
    data_dir: Path | None = None  # None: a temporary directory, removed at the end
    stay: bool = False


@dataclass(frozen=True, kw_only=True)
class Summary:
    recorded: int
    applied: int
    alarms: dict[str, int]
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


class Demo:
    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        self.config = demo_workshop()
        workday.check_day(self.config)
        today = datetime.now().astimezone().replace(second=0, microsecond=0)
        self.start_ms = _at(today, workday.START)
        self.end_ms = _at(today, workday.END)
        day_s = (self.end_ms - self.start_ms) / 1000
        self.speed = options.speed or day_s / options.duration_s
        if not 1 <= self.speed <= 20000:
            raise SebiaoError(f"--speed {self.speed:g}: use 1 to 20000 (the day is {day_s / 3600:g} h)")
        self.day = DayClock(self.start_ms, 1.0)  # real pace while starting up
        self.narrator = Narrator(self.config, self.start_ms, self.end_ms, self.day.now_ms)
        self.stations: dict[str, VirtualStation] = {}
        self.last_move: dict[str, float] = {}
        self.recorded = 0
        self.gateway: Gateway | None = None
        self.http: HttpThread | None = None
        self.restore_at: float | None = None
        self.cycles = 0  # probe cycles the stations recorded

    # -- the whole run ------------------------------------------------------------

    def run(self) -> Summary:
        o = self.options
        require_free(o.http_host, o.http_port, "--http", "the gateway's HTTP API")
        require_free(o.broker_host, o.broker_port, "--embedded-broker", "the embedded MQTT broker")
        data = o.data_dir or Path(tempfile.mkdtemp(prefix="sebiao-demo-"))
        try:
            self._start(data)
            self._play()
            summary = self._summary()
            self._print_summary(summary)
            if o.stay:
                self._stay()
            return summary
        finally:
            self._stop()
            if o.data_dir is None:
                shutil.rmtree(data, ignore_errors=True)

    def _start(self, data: Path) -> None:
        o = self.options
        n = self.narrator
        n.plain(f"色标 sebiao 演示 / demo: {self.config.workshop.name} ({self.config.workshop.id}), "
                f"{len(self.config.stations)} 个读卡站 / stations, {len(self.config.tools)} 件器具 / tools")
        n.plain(f"一天 {workday.START}–{workday.END} 以 {self.speed:.0f} 倍速播放 / the day plays "
                f"{self.speed:.0f}× faster; 数据 / data: {data}")
        self.gateway = Gateway(self.config, GatewayOptions(data_dir=data / "gateway", broker_url=None,
                                                           http_host=o.http_host, http_port=o.http_port,
                                                           embedded_host=o.broker_host, embedded_port=o.broker_port,
                                                           clock=self.day.now_ms, time_server=False))
        self.gateway.start()
        embedded = self.gateway.embedded
        assert embedded is not None  # the demo's workshop names no broker: the gateway starts its own
        self.gateway.pipeline.listeners.append(self.narrator.on_outcome)
        self.http = HttpThread(self.gateway).start()
        n.plain(f"网关 / gateway: http://{o.http_host}:{self.gateway.http_port}/display  "
                f"/console  /api/tools  (MQTT {embedded.url})")
        creds = embedded.credentials
        clock = station_clock(self.day)
        probes = workday.probe_stations(self.config)
        for station in self.config.stations:
            cfg = station_config(self.config, creds, station.id, ProvisionOptions(broker_url=embedded.url))
            cfg["timing"] = dict(STATION_TIMING)
            if station.id in probes:
                cfg["probe"] = dict(DEMO_PROBE)
            vs = VirtualStation(validate(cfg, f"demo {station.id}"), data / "stations" / station.id, clock=clock)
            vs.on_event = self._recorder(station.id)
            vs.on_command = lambda cmd, sid=station.id: self.narrator.feedback(sid, cmd)
            vs.on_cycle = lambda seconds, interval_s, temps, sid=station.id: self.narrator.say(
                cycle_line(self.narrator.station_name(sid), seconds, interval_s, temps))
            self.stations[station.id] = vs
        for vs in self.stations.values():  # all at once: the embedded broker takes concurrent subscribes
            vs.start()
        self._settle("the stations to connect")
        n.phase(workday.PHASES[0])
        for station_id, tool_id in workday.OPENING:
            self.stations[station_id].apply(self._place(tool_id))
            self.last_move[tool_id] = time.monotonic()
        self._settle("the stations to send their first events")

    def _recorder(self, station_id: str):
        def record(action: str, tag: str, label: dict | None) -> None:
            self.recorded += 1
            self.narrator.event(station_id, action, tag, label)
        return record

    def _place(self, tool_id: str) -> Place:
        tag = workday.tag_of(self.config, tool_id)
        tool = self.config.tool(tool_id) if not tool_id.startswith("tag:") else None
        label = {"tool": tool.id, "kind": tool.kind, "color": tool.color} if tool else None
        return Place(uid=tag, label=label)

    # -- playing the day -------------------------------------------------------------

    def _play(self) -> None:
        self.day.set_speed(self.speed)
        phases = list(workday.PHASES[1:])
        for step in workday.timeline():
            at = self.start_ms + (workday.minutes(step.at) - workday.minutes(workday.START)) * 60000
            while phases and workday.minutes(phases[0].at) <= workday.minutes(step.at):
                self._run_until(self.start_ms + (workday.minutes(phases[0].at) - workday.minutes(workday.START))
                                * 60000)
                self.narrator.phase(phases.pop(0))
            self._run_until(at)
            self._wait_for_tag(step.tool)
            self.narrator.narrate(step)
            if step.mistake:
                self._slow_down()
            vs = self.stations[step.station]
            if step.action == "hot_wash":
                self._hot_wash(vs, float(step.celsius or 0))
                continue
            vs.apply(self._place(step.tool) if step.action == "place" else Remove(uid=workday.tag_of(self.config,
                                                                                              step.tool)))
            self.last_move[step.tool] = time.monotonic()
        self._run_until(self.end_ms)
        self._settle("the gateway to apply every event")
        self.cycles = sum(vs.station.probe.cycles for vs in self.stations.values() if vs.station.probe is not None)

    def _hot_wash(self, vs: VirtualStation, celsius: float) -> None:
        """Heat, hold, cool at real pace; the day goes on at its speed afterwards."""
        heat, hold, cool = HOT_WASH_S
        pace = self.day.speed
        self.day.set_speed(1.0)
        before = vs.station.probe.cycles if vs.station.probe is not None else 0
        vs.apply(Temp(celsius=celsius, seconds=heat))
        self._run_for(heat + hold)
        vs.apply(Temp(celsius=COOL_C, seconds=cool))
        deadline = time.monotonic() + cool + SETTLE_TIMEOUT_S
        while vs.station.probe is not None and vs.station.probe.cycles == before and time.monotonic() < deadline:
            self._tick()
        self.day.set_speed(pace)

    def _run_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self._tick()

    def _tick(self) -> None:
        for vs in self.stations.values():
            vs.step()
        if self.restore_at is not None and time.monotonic() >= self.restore_at:
            self.restore_at = None
            self.day.set_speed(self.speed)
        self._check_gateway()
        time.sleep(LOOP_S)

    def _run_until(self, epoch_ms: int) -> None:
        while self.day.now_ms() < epoch_ms:
            self._tick()

    def _wait_for_tag(self, tool: str) -> None:
        """Hold the day (real pace) until the tag's last move is old enough for the reader to see the next."""
        last = self.last_move.get(tool)
        if last is None or time.monotonic() - last >= TAG_GAP_S:
            return
        pace = self.day.speed
        self.day.set_speed(1.0)
        while time.monotonic() - last < TAG_GAP_S:
            self._tick()
        self.day.set_speed(pace)

    def _slow_down(self) -> None:
        if self.speed > SLOW_SPEED:
            self.day.set_speed(SLOW_SPEED)
            self.restore_at = time.monotonic() + SLOW_FOR_S

    def _settle(self, what: str) -> None:
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while not (all(vs.connected and vs.backlog == 0 for vs in self.stations.values())
                   and self._applied() >= self.recorded):
            if time.monotonic() > deadline:
                down = [s for s, vs in self.stations.items() if not vs.connected or vs.backlog]
                raise SebiaoError(f"demo: waited {SETTLE_TIMEOUT_S:g} s for {what}: {self._applied()} of "
                                  f"{self.recorded} events applied; stations not done: {', '.join(down) or 'none'}")
            self._tick()

    def _applied(self) -> int:
        value = self.gateway.metrics.registry.get_sample_value("sebiao_events_total")
        return int(value or 0)

    def _check_gateway(self) -> None:
        if self.gateway is not None and not self.gateway.pipeline.alive:
            raise SebiaoError(f"demo: the gateway's pipeline stopped: {self.gateway.pipeline.failed!r}")

    # -- the end -------------------------------------------------------------------------

    def _summary(self) -> Summary:
        raised = self.narrator.raised_by_type()
        return Summary(recorded=self.recorded, applied=self._applied(), alarms=raised,
                       missing=[t for t in workday.EXPECTED_ALARMS if t not in raised],
                       unexpected=[t for t in raised if t not in workday.EXPECTED_ALARMS])

    def _print_summary(self, s: Summary) -> None:
        n = self.narrator
        n.plain("")
        n.plain("══ 今日小结 / summary of the day ══")
        n.plain(f"事件 / events: 读卡站记录 {s.recorded} 条 / recorded by the stations, "
                f"网关处理 {s.applied} 条 / applied by the gateway")
        n.plain(f"告警 / alarms: {sum(s.alarms.values())}")
        for kind, count in sorted(s.alarms.items()):
            zh, en = ALARM_NAMES.get(kind, (kind, kind))
            n.plain(f"  {zh} / {en} ({kind}): {count}")
        if s.missing:
            n.plain(f"未出现的预期告警 / expected alarms missing: {', '.join(s.missing)}")
        if s.unexpected:
            n.plain(f"意外告警 / unexpected alarms: {', '.join(s.unexpected)}")
        n.plain(f"消毒/热洗周期 / disinfection and hot-wash cycles: {self.cycles} (→ sebiao/{self.config.workshop.id}"
                f"/<station>/cycle)")
        o = self.options
        port = self.gateway.http_port if self.gateway is not None else o.http_port
        n.plain(f"网关 / gateway: http://{o.http_host}:{port}  "
                f"(/display 透明作坊, /console 控制台, /api/tools, /api/alarms?state=all, /metrics)")

    def _stay(self) -> None:
        self.day.set_speed(1.0)
        self.narrator.plain("网关继续运行，按 Ctrl-C 结束 / the gateway stays up; Ctrl-C ends the demo")
        try:
            while True:
                self._tick()
        except KeyboardInterrupt:
            pass

    def _stop(self) -> None:
        for vs in self.stations.values():
            vs.station.link.client.disconnect()  # a clean goodbye: no last will, no offline alarm
        if self.http is not None:
            self.http.stop()
        if self.gateway is not None and self.gateway.started:
            self.gateway.stop()


def _at(day: datetime, hhmm: str) -> int:
    hours, minutes = map(int, hhmm.split(":"))
    return int(day.replace(hour=hours, minute=minutes).timestamp() * 1000)


def as_dict(summary: Summary) -> dict[str, object]:
    return vars(summary)
