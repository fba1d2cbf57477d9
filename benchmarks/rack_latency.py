"""At the rack: a misuse to the red LED of the station that saw it, end to end.

    .venv/bin/python benchmarks/rack_latency.py [--trials 200] [--rounds 3] [--outages 3] [--sleep-loop]

Real Mosquitto and the real gateway process (``sebiao gateway``), and three
virtual stations: the real firmware ``Station`` on a ``HostBoard`` with the
simulated MFRC522 / PN532 at register level, each in its own process, running
the firmware's own main loop (``step()`` then ``idle(app.LOOP_MS)``, as
``esp32_board.main`` does) with the firmware's default timing (poll, debounce,
replay rate, backoff: checked against ``sebiao_station.config.DEFAULTS``).

A trial: a red knife's tag enters the field of a blue (green, white) rack
(``board.place``); the clock runs from that instant to the write that turns
the station's red LED pin on (a hook on the simulated pin, no polling). The
alarm it raised (``cross_zone``, latched) is then cleared as a person does
(``POST /api/alarms/{id}/clear`` with a comment: the gateway sends "clear",
green on), the tag leaves the field, and the next trial starts after a pause.
The stations run their trials at once, as racks in a workshop do.

Phases of each trial (wall clock; every process on this machine):
  poll      tag in the field -> the station records the event (its next reader poll)
  send      recorded -> the gateway received it (``events.received_at``)
  gateway   received -> the feedback command reaches a subscriber on the broker
            (the gateway's rules, SQLite commit, publish)
  station   command at the broker -> red pin on (the station's pause between two passes
            waits on its socket, ``Station.idle``: it reads the command as it comes)

The buffered path: the broker is stopped, each rack sees a misuse while it is
down (the station records it on its flash and lights nothing: it does not know
colours, the gateway judges), the broker starts again after 0.5 to 1.5 times
``--outage-seconds`` (outages of different lengths meet the station's reconnect
backoff at different steps).
Timed from the broker's restart: the station reconnected, its buffered event
received by the gateway, the red LED on (the alarm is fresh, under a minute
old, so the gateway still asks for the feedback); and the gateway's own
reconnection. Prints p50 / p90 / p99 / max per round and over all rounds.
Exit code 1 when the at-the-rack p99 over all rounds is above 250 ms.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import bench_paths  # noqa: F401 - puts the project and tests/support on sys.path
import httpx
import paho.mqtt.client as mqtt
import yaml
from gateway_proc import TOKEN, GatewayProcess
from paho.mqtt.enums import CallbackAPIVersion
from servers import MosquittoServer

from edge_gateway.config import load_config
from edge_gateway.tooling.devices.provision import ProvisionOptions, write_station_configs
from edge_gateway.tooling.station_config import load_station_config
from sebiao_common import strict_json

TARGET_P99_MS = 250.0
WS = "ws-rack"
# (misuse rack, its reader, the red knife that lands there)
RACKS = (("rack-blue-1", "mfrc522", "KN-R-01", "04A224E2C65E80"),
         ("rack-green-1", "pn532", "KN-R-02", "04A224E2C65E81"),
         ("rack-white-1", "mfrc522", "KN-R-03", "04A224E2C65E82"))
PHASES = ("poll", "send", "gateway", "station")


def workshop() -> dict:
    """Four racks of four colours, three red knives at home on the red rack, a tool at home on each other."""
    stations = [{"id": "rack-red-1", "kind": "rack", "zone": "red", "name": "生肉刀具架"},
                {"id": "rack-blue-1", "kind": "rack", "zone": "blue", "name": "水产刀具架"},
                {"id": "rack-green-1", "kind": "rack", "zone": "green", "name": "蔬菜刀具架", "reader": "pn532"},
                {"id": "rack-white-1", "kind": "rack", "zone": "white", "name": "熟食器具架"}]
    tools = [{"id": tool, "kind": "knife", "color": "red", "tag": tag, "home": "rack-red-1"}
             for _rack, _reader, tool, tag in RACKS]
    tools += [{"id": "KN-B-01", "kind": "knife", "color": "blue", "tag": "04B1B1B1B1B180", "home": "rack-blue-1"},
              {"id": "CB-G-01", "kind": "cutting_board", "color": "green", "tag": "04C0FFEE000280",
               "home": "rack-green-1"},
              {"id": "CT-W-01", "kind": "container", "color": "white", "tag": "04E3E3E3E3E380",
               "home": "rack-white-1"}]
    return {"workshop": {"id": WS, "name": "货架基准作坊", "district": "昆都仑区"}, "http": {"token": TOKEN},
            "time_server": {"listen": "127.0.0.1", "port": 0}, "stations": stations, "tools": tools,
            # washing is not what is timed here: no sinks, no wash rule
            "rules": {"wash_required": [], "station_offline_after_seconds": 3600}}


# -- one rack, in its own process -------------------------------------------------------------------------


class Rack:
    """A virtual station run by the firmware's loop on a thread, and the person placing tags on it."""

    def __init__(self, cfg: dict, flash: Path, base_url: str, sleep_loop: bool = False) -> None:
        from edge_gateway.vstation.runner import VirtualStation

        self.vs = VirtualStation(cfg, flash)
        self.sleep_loop = sleep_loop
        self.base_url = base_url
        self.lock = threading.Lock()  # the field is changed between two passes of the loop, never inside one
        self.stop = threading.Event()
        self.marks: dict[str, float] = {}
        self.alarm_id: int | None = None
        self.connected_at: float | None = None
        self.recorded: list[tuple[float, str, str, int]] = []  # (time, action, tag, seq)
        pins = cfg["pins"]
        self.vs.board.pins[pins["led_red"]].on_change = lambda v: self._pin("red", v)
        self.vs.board.pins[pins["led_green"]].on_change = lambda v: self._pin("green", v)
        self.vs.on_event = self._event
        self.vs.on_command = self._command

    def _pin(self, name: str, value: int) -> None:
        if value:
            self.marks.setdefault(name, time.time())

    def _event(self, action: str, tag: str, _label: object) -> None:
        self.recorded.append((time.time(), action, tag, self.vs.station.seq - 1))

    def _command(self, cmd: dict) -> None:
        if cmd.get("cmd") == "feedback" and cmd.get("pattern") == "misuse":
            self.marks.setdefault("command", time.time())
            self.alarm_id = cmd.get("alarm")

    def loop(self) -> None:
        from sebiao_station.app import LOOP_MS

        self.vs.start()
        was_up = False
        while not self.stop.is_set():
            with self.lock:
                self.vs.step()
            up = self.vs.connected
            if up and not was_up:
                self.connected_at = time.time()
            was_up = up
            if self.sleep_loop:  # the loop before Station.idle, for comparison
                self.vs.board.clock.sleep_ms(LOOP_MS)
            else:
                self.vs.station.idle(LOOP_MS)  # the ESP32's loop: the pause waits on the broker's socket

    def wait(self, what: str, condition, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > end:
                raise TimeoutError(f"{self.vs.id}: {what} not within {timeout} s "
                                   f"(link: {self.vs.station.link.last_error!r})")
            time.sleep(0.005)

    def place(self, uid: str) -> float:
        self.marks.clear()
        self.alarm_id = None
        with self.lock:
            self.vs.board.place(uid)
            return time.time()

    def event_of(self, uid: str, action: str) -> tuple[float, int] | None:
        for t, a, tag, seq in reversed(self.recorded):
            if a == action and tag == uid:
                return t, seq
        return None

    def reset(self, uid: str) -> None:
        """The person clears the alarm (green on), the tag leaves the field; back to where a trial starts."""
        self.wait("the feedback command", lambda: self.alarm_id is not None)
        self.marks.pop("green", None)
        answer = httpx.post(f"{self.base_url}/api/alarms/{self.alarm_id}/clear", timeout=10,
                            headers={"Authorization": f"Bearer {TOKEN}"},
                            json={"by": "基准测试 / benchmark",
                                  "comment": "刀具放回红色刀具架 / knife back on the red rack"})
        answer.raise_for_status()
        self.wait("the green LED", lambda: "green" in self.marks)
        before = len(self.recorded)
        with self.lock:
            self.vs.board.remove(uid)
        self.wait("the removal", lambda: any(r[1] == "removed" for r in self.recorded[before:]))
        self.wait("the removal sent", lambda: self.vs.backlog == 0)

    def trial(self, uid: str) -> dict:
        t0 = self.place(uid)
        self.wait("the red LED", lambda: "red" in self.marks)
        recorded, seq = self.event_of(uid, "placed")
        out = {"station": self.vs.id, "boot": self.vs.station.boot, "seq": seq, "t0": t0, "recorded": recorded,
               "command": self.marks["command"], "red": self.marks["red"], "alarm": self.alarm_id}
        self.reset(uid)
        return out


def rack_worker(cfg: dict, flash: str, uid: str, base_url: str, sleep_loop: bool, orders, results) -> None:
    """A rack's process: takes orders ("trials", n) / ("offline",) / ("after",) / ("stop",), answers each."""
    rack = Rack(cfg, Path(flash), base_url, sleep_loop)
    runner = threading.Thread(target=rack.loop, daemon=True)
    runner.start()
    rack.wait("the first connection", lambda: rack.vs.connected and "green" in rack.marks)
    results.put(("ready", rack.vs.id))
    while True:
        order = orders.get()
        try:
            if order[0] == "trials":
                out = []
                for _ in range(order[1]):
                    time.sleep(random.uniform(0.2, 0.6))  # people at a rack do not keep a beat
                    out.append(rack.trial(uid))
                results.put(("trials", out))
            elif order[0] == "offline":  # the broker is down: a misuse goes to the flash
                rack.wait("the link down", lambda: not rack.vs.connected, timeout=60)
                t0 = rack.place(uid)
                rack.wait("the event on flash", lambda: rack.vs.backlog > 0)
                time.sleep(0.5)
                results.put(("offline", {"station": rack.vs.id, "t0": t0, "lit": "red" in rack.marks,
                                         "backlog": rack.vs.backlog}))
            elif order[0] == "after":  # the broker is back: until the LED, then reset
                rack.wait("the red LED after the outage", lambda: "red" in rack.marks, timeout=180)
                recorded, seq = rack.event_of(uid, "placed")
                out = {"station": rack.vs.id, "boot": rack.vs.station.boot, "seq": seq,
                       "connected": rack.connected_at, "command": rack.marks["command"], "red": rack.marks["red"]}
                rack.reset(uid)
                results.put(("after", out))
            else:
                break
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops the run
            results.put(("error", f"{rack.vs.id}: {exc!r}"))
    rack.stop.set()
    runner.join(5)
    rack.vs.power_off()


# -- the parent: servers, the monitor, the figures ---------------------------------------------------------


class Monitor:
    """A subscriber on the broker (its own paho thread) stamping each feedback command as it arrives."""

    def __init__(self, broker: MosquittoServer) -> None:
        self.seen: dict[int, float] = {}  # alarm id -> first "misuse" command seen
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="rack-bench-monitor",
                                  protocol=mqtt.MQTTv311)
        self.client.username_pw_set(*broker.account("monitor"))
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)  # after an outage: it must not be the late one
        self.client.on_connect = lambda c, *_: c.subscribe(f"sebiao/{WS}/+/cmd", qos=1)
        self.client.on_message = self._message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def _message(self, _c, _u, msg) -> None:
        at = time.time()
        cmd = strict_json.loads(msg.payload)
        if cmd.get("pattern") == "misuse" and isinstance(cmd.get("alarm"), int):
            self.seen.setdefault(cmd["alarm"], at)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Bench:
    def __init__(self, tmp: Path, broker: MosquittoServer, gateway: GatewayProcess) -> None:
        self.tmp, self.broker, self.gateway = tmp, broker, gateway
        self.ctx = mp.get_context("spawn")
        self.results = self.ctx.Queue()
        self.orders: dict[str, object] = {}
        self.procs: list = []

    def start_racks(self, configs: Path, sleep_loop: bool) -> None:
        from sebiao_station.config import DEFAULTS

        for station, reader, _tool, uid in RACKS:
            cfg = load_station_config(configs / station / "config.json")
            if cfg["timing"] != {**DEFAULTS["timing"], **cfg["timing"]} or cfg["reader"]["type"] != reader:
                raise SystemExit(f"{station}: not the firmware's default timing or not a {reader}")
            orders = self.ctx.Queue()
            proc = self.ctx.Process(target=rack_worker, args=(cfg, str(self.tmp / "flash" / station), uid,
                                                              self.gateway.base, sleep_loop, orders, self.results))
            proc.start()
            self.orders[station], self.procs = orders, [*self.procs, proc]
        for _ in RACKS:
            self.answer("ready", 120)

    def answer(self, kind: str, timeout: float):
        got = self.results.get(timeout=timeout)
        if got[0] == "error":
            raise SystemExit(f"rack: {got[1]}")
        if got[0] != kind:
            raise SystemExit(f"rack: expected {kind!r}, got {got[0]!r}")
        return got[1]

    def tell(self, *order) -> None:
        for q in self.orders.values():
            q.put(order)

    def received_at(self, station: str, boot: str, seq: int) -> float:
        ms = self.gateway.scalar("SELECT received_at FROM events WHERE station=? AND boot=? AND seq=?",
                                 (station, boot, seq))
        return ms / 1000

    def trials(self, n: int, monitor: Monitor) -> list[dict]:
        per_rack = [n // len(RACKS) + (1 if i < n % len(RACKS) else 0) for i in range(len(RACKS))]
        for (station, *_), k in zip(RACKS, per_rack):
            self.orders[station].put(("trials", k))
        out = []
        for _ in RACKS:
            out += self.answer("trials", 60 + 10 * n)
        time.sleep(0.5)  # the last commands are seen by the monitor
        for t in out:
            t["received"] = self.received_at(t["station"], t["boot"], t["seq"])
            t["at_broker"] = monitor.seen.get(t["alarm"], t["command"])
        return out

    def outage(self, seconds: float, monitor: Monitor) -> list[dict]:
        """The broker down for ``seconds`` (from its stop to its start again), a misuse on each rack meanwhile."""
        stopped = time.time()
        self.broker.stop()
        self.tell("offline")
        offline = [self.answer("offline", 120) for _ in RACKS]
        time.sleep(max(0.0, stopped + seconds - time.time()))
        restarted = time.time()
        self.broker.start()
        gateway_back = _until(lambda: self.gateway.get("/healthz").json().get("broker") == "connected", 180)
        self.tell("after")
        out = [self.answer("after", 240) for _ in RACKS]
        for o in out:
            o["stopped"], o["restarted"], o["gateway_back"] = stopped, restarted, gateway_back
            o["received"] = self.received_at(o["station"], o["boot"], o["seq"])
            mine = next(x for x in offline if x["station"] == o["station"])
            o["lit_offline"], o["placed"] = mine["lit"], mine["t0"]
        return out

    def close(self) -> None:
        self.tell("stop")
        for p in self.procs:
            p.join(15)
            if p.is_alive():
                p.kill()


def _until(condition, timeout: float) -> float:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if condition():
                return time.time()
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.02)
    raise SystemExit(f"not within {timeout} s")


# -- figures -----------------------------------------------------------------------------------------------


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def q(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]

    return {"p50": q(50), "p90": q(90), "p99": q(99), "max": ordered[-1]}


def phases(t: dict) -> dict[str, float]:
    return {"total": t["red"] - t["t0"], "poll": t["recorded"] - t["t0"], "send": t["received"] - t["recorded"],
            "gateway": t["at_broker"] - t["received"], "station": t["red"] - t["at_broker"]}


def line(name: str, values: list[float]) -> str:
    q = quantiles(values)
    return (f"  {name:<28} p50 {q['p50'] * 1000:7.1f}  p90 {q['p90'] * 1000:7.1f}  p99 {q['p99'] * 1000:7.1f}  "
            f"max {q['max'] * 1000:7.1f} ms")


def report_round(i: int, trials: list[dict], load: str) -> float:
    ph = [phases(t) for t in trials]
    print(f"round {i}: {len(trials)} misuses, load {load}")
    print(line("misuse -> red LED", [p["total"] for p in ph]))
    for name in PHASES:
        print(line(f"  {name}", [p[name] for p in ph]))
    return quantiles([p["total"] for p in ph])["p99"]


def report_outages(outs: list[dict]) -> None:
    if not outs:
        return
    lengths = sorted({round(o["restarted"] - o["stopped"], 1) for o in outs})
    print(f"buffered path: {len(outs)} misuses while the broker was down ({', '.join(map(str, lengths))} s; "
          f"red LED lit while offline: {sum(o['lit_offline'] for o in outs)})")
    print(line("broker down -> misuse placed", [o["placed"] - o["stopped"] for o in outs]))
    print(line("broker up -> gateway up", [o["gateway_back"] - o["restarted"] for o in outs]))
    print(line("broker up -> station up", [o["connected"] - o["restarted"] for o in outs]))
    print(line("broker up -> gateway has it", [o["received"] - o["restarted"] for o in outs]))
    print(line("broker up -> red LED", [o["red"] - o["restarted"] for o in outs]))
    print(line("gateway has it -> red LED", [o["red"] - o["received"] for o in outs]))


def load_avg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=200, help="misuses per round (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, for the spread (default 3)")
    parser.add_argument("--outages", type=int, default=3, help="broker outages, after the rounds (default 3)")
    parser.add_argument("--outage-seconds", type=float, default=8.0,
                        help="how long the broker is down, on average (default 8; each outage 0.5 to 1.5 times it)")
    parser.add_argument("--sleep-loop", action="store_true",
                        help="pause the stations' loop with a plain sleep_ms(50), as the firmware did before "
                             "Station.idle (for comparison)")
    args = parser.parse_args()
    data = workshop()
    with tempfile.TemporaryDirectory(prefix="sebiao-rack-bench-") as name:
        tmp = Path(name)
        config_path = tmp / "workshop.yaml"
        config_path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
        config = load_config(config_path)
        with MosquittoServer(config, tmp / "mosquitto") as broker:
            gw = broker.credentials.gateway
            data["broker"] = {"url": broker.url, "username": gw.username, "password": gw.password}
            config_path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
            write_station_configs(load_config(config_path), broker.credentials, tmp / "stations",
                                  ProvisionOptions(broker_url=broker.url))
            gateway = GatewayProcess(config_path, tmp / "data").start()
            bench, monitor = Bench(tmp, broker, gateway), Monitor(broker)
            try:
                bench.start_racks(tmp / "stations", args.sleep_loop)
                print(f"sebiao at the rack: misuse -> red LED ({len(RACKS)} virtual stations, firmware timing, "
                      f"real Mosquitto and gateway{'; the loop pauses with a plain sleep' if args.sleep_loop else ''})")
                rounds, all_trials = [], []
                for i in range(1, args.rounds + 1):
                    trials = bench.trials(args.trials, monitor)
                    all_trials += trials
                    rounds.append(report_round(i, trials, load_avg()))
                outs = []
                for _ in range(args.outages):  # outages of different lengths meet the backoff at different steps
                    outs += bench.outage(random.uniform(0.5, 1.5) * args.outage_seconds, monitor)
            finally:
                bench.close()
                monitor.close()
                gateway.stop()
    overall = [phases(t) for t in all_trials]
    print(f"all rounds: {len(all_trials)} misuses; p99 per round "
          + ", ".join(f"{p * 1000:.0f}" for p in rounds) + " ms")
    print(line("misuse -> red LED", [p["total"] for p in overall]))
    for name in PHASES:
        print(line(f"  {name}", [p[name] for p in overall]))
    report_outages(outs)
    p99 = quantiles([p["total"] for p in overall])["p99"] * 1000
    print(f"target p99 <= {TARGET_P99_MS:.0f} ms: {'met' if p99 <= TARGET_P99_MS else 'MISSED'} ({p99:.0f} ms); "
          f"load {load_avg()}")
    return 0 if p99 <= TARGET_P99_MS else 1


if __name__ == "__main__":
    sys.exit(main())
