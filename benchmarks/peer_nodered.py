"""sebiao against the flow someone would wire by hand in Node-RED, on the same stream, broker and InfluxDB.

    nice .venv/bin/python benchmarks/peer_nodered.py [--rounds 3] [--events 30000] [--latency-seconds 20]
        [--cache ~/.cache/sebiao-bench/nodered] [--systems sebiao one_write batched] [--keep] [--write-docs]

Not part of the test suite. Node-RED (with node-red-contrib-influxdb, on Node 22 from the ``node@22`` npm
package) is installed into ``--cache`` on the first run and reused after. The flows are in
``benchmarks/nodered/``: mqtt in (QoS 1, clean session off, the gateway's account and client id) -> a
function node with the colour rule (lookup table built from the same workshop config) -> InfluxDB 1.x,
points stamped with the event's own ``ts`` (ms), and an mqtt out publishing an alarm for a tool placed
outside its zone or an unknown tag. ``flow_one_write.json`` writes one point per event (influxdb out);
``flow_batched.json`` joins 500 points or 1 s into one write (join -> influxdb batch).

One Mosquitto (the workshop's generated config) and one InfluxDB 1.x (Debian ``influxdb``) for the whole
run; each system writes to its own database, emptied before each measurement. Each round runs sebiao
(the real gateway process with its InfluxDB sink, api v1), then both flows, on the same 30,000 events
from 15 stations (``gateway_throughput.workshop()`` / ``cycle_events()``), published from two processes
while the consumer is stopped: its persistent session queues the stream in the broker, then the consumer
starts and drains it alone. Figures, median (min-max) over the rounds:

- intake events/s: events taken by the consumer over the middle 80 % of the stream, counted where the
  consumer takes them and polled every 20 ms: sebiao's ``sebiao_events_total`` (an event committed to its
  SQLite store and outbox), the flow's counter in the function node (an event judged; read over an
  http in node the flows carry for this);
- end to end events/s: points in InfluxDB / (last point in InfluxDB - first event taken: the flow's first
  stamp, the gateway's first receipt), InfluxDB polled every 0.05 s until all points are in or the count
  has not moved for 15 s;
- events lost: 30,000 minus the ``tool_event`` points in InfluxDB once settled;
- alarm latency at 200 ev/s, p50/p99/max ms: publish -> alarm message received (``gateway_throughput.
  latency``: unknown tags, each 'placed' raises, each 'removed' clears), on the same consumer process;
- peak RSS MB: VmHWM of the gateway process / the node process at the end;
- CPU s: user + system seconds of that process from its start to settled, less what the same consumer
  used to start when it was primed (its start-up);
- kill -9 missing: a second stream, the consumer killed with SIGKILL while it drains it (a third of its
  end to end time after its first point is in InfluxDB), started again, settled: events published minus
  points in InfluxDB;
- bare mosquitto_sub: the C client (QoS 1, persistent session, each message stamped on arrival) draining
  sebiao's stream alone, middle 80 %: what the broker and machine give a consumer that does nothing.

The machine's load average is printed with the table: on a shared machine the figures are noisy.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_paths  # noqa: F401 - puts the project and tests/support on sys.path
import httpx
import yaml
from gateway_proc import GatewayProcess
from gateway_throughput import (
    WS,
    cycle_events,
    latency,
    queue_events,
    rss_mb,
    window_rate,
    workshop,
)
from nodered_proc import DEFAULT_CACHE, NodeRedProcess, install, lookup_table
from servers import MosquittoServer, MqttClient
from tsdb_servers import InfluxServer

from edge_gateway.model.protocol import StationEvent, encode_event, encode_status, event_topic, status_topic
from edge_gateway.model.workshop import parse_config
from sebiao_common import strict_json

SYSTEMS = (("sebiao", "sebiao"), ("one_write", "Node-RED, one write per event"),
           ("batched", "Node-RED, batched (join 500 / 1 s)"))
POINTS = "SELECT count(seq) FROM tool_event"
STREAM_BOOT = "b0b0b0b0"  # cycle_events()' boot; the probes have others
DOCS_HEADING = "## 与 Node-RED 对比 / Against a Node-RED flow"
BEGIN, END = "<!-- benchmarks/peer_nodered.py --write-docs: begin -->", "<!-- benchmarks/peer_nodered.py: end -->"
COMMAND = "nice -n 10 .venv/bin/python benchmarks/peer_nodered.py --rounds 3 --write-docs"


class GatewayConsumer(GatewayProcess):
    """The real gateway, seen as the other consumers are: ``taken()`` and ``pid``."""

    name = "sebiao"

    def taken(self) -> int:
        return int(self.metric("sebiao_events_total"))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def first_taken(self) -> float:
        """When the first event of the stream came in (its store's receipt time, wall clock)."""
        return self.scalar("SELECT min(received_at) FROM events WHERE boot = ?", (STREAM_BOOT,)) / 1000


class Bench:
    """The servers, the workshop and the consumers' factories for one run."""

    def __init__(self, tmp: Path, data: dict, broker: MosquittoServer, influx: InfluxServer, cache: Path,
                 total: int) -> None:
        self.tmp, self.data, self.broker, self.influx, self.cache = tmp, data, broker, influx, cache
        self.total = total  # events in a stream
        self.config = parse_config(data, "bench.yaml")
        self.runs = 0

    def consumer(self, system: str):
        """A fresh consumer (new data dir / user dir) of ``system``, writing to its own database."""
        self.runs += 1
        run_dir = self.tmp / f"run-{self.runs:02d}-{system}"
        run_dir.mkdir()
        gw = self.broker.credentials.gateway
        if system == "sebiao":
            data = dict(self.data, influx={"api": "v1", "url": self.influx.url, "database": system,
                                           "retry_max_seconds": 1})
            (run_dir / "workshop.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
            return GatewayConsumer(run_dir / "workshop.yaml", run_dir / "data")
        env = {"MQTT_HOST": self.broker.host, "MQTT_PORT": str(self.broker.port), "MQTT_CLIENT_ID": gw.username,
               "MQTT_USER": gw.username, "MQTT_PASSWORD": gw.password,
               "INFLUX_HOST": self.influx.host, "INFLUX_PORT": str(self.influx.port), "INFLUX_DB": system,
               "SEBIAO_LOOKUP": _json(lookup_table(self.config))}
        return NodeRedProcess(self.cache, system, run_dir / "nodered", env)

    def points(self, db: str) -> int:
        return int(self.influx.scalar(POINTS, db))

    def events(self) -> list[tuple[str, bytes]]:
        return cycle_events(self.config, self.total, int(time.time() * 1000) - 3_600_000)


def _json(value) -> str:
    return strict_json.dumps(value, separators=(",", ":"))


def prime(bench: Bench, consumer, db: str) -> float:
    """Start the consumer once so that its session holds the subscription, see a probe event through to
    InfluxDB, stop it, and empty its database: the stream then waits in the broker for its next start.
    Returns the CPU seconds the consumer used to start."""
    bench.influx.query(f'CREATE DATABASE "{db}"', method="POST")
    consumer.start()
    startup_cpu = cpu_seconds(consumer.pid)
    tool = bench.config.tools[0]
    boot = secrets.token_hex(4)
    with MqttClient.connect(bench.broker.host, bench.broker.port, *bench.broker.account(tool.home)) as station:
        deadline = time.monotonic() + 60
        seq = 0
        while (taken := taken_now(consumer)) < 1 or bench.points(db) < taken:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{consumer.name}: the probe event did not reach InfluxDB "
                                   f"(taken {consumer.taken()}):\n{consumer.log()[-3000:]}")
            if taken < 1:
                event = StationEvent(station=tool.home, boot=boot, seq=seq, ts=int(time.time() * 1000),
                                     tag=tool.tag, action="placed")
                station.publish(event_topic(WS, tool.home), encode_event(event), qos=1)
                seq += 1
            time.sleep(0.5)
    consumer.stop()
    bench.influx.query(f'DROP DATABASE "{db}"', method="POST")
    bench.influx.query(f'CREATE DATABASE "{db}"', method="POST")
    return startup_cpu


def taken_now(consumer, otherwise: int = 0) -> int:
    """``consumer.taken()``, or ``otherwise`` when it is too busy to answer in time."""
    try:
        return consumer.taken()
    except (httpx.HTTPError, ValueError):
        return otherwise


def follow(consumer, expected: int, idle: float = 15.0) -> list[float]:
    """Time at which each event was taken, from ``consumer.taken()`` polled every 20 ms; stops when all are
    taken or the count has not moved for ``idle`` seconds."""
    stamps: list[float] = []
    moved, before = time.time(), 0
    while len(stamps) < expected:
        done = taken_now(consumer, before)
        now = time.time()
        if done > before:
            moved, before = now, done
        elif now - moved > idle:
            break
        stamps.extend([now] * (min(done, expected) - len(stamps)))
        time.sleep(0.02)
    return stamps


def taken_stamps(consumer, polled: list[float]) -> list[float]:
    """When each event was taken (wall clock): the flows stamp each event themselves (their HTTP endpoint
    answers late while the flood is being taken); the gateway's commits are polled, from the first
    event's receipt (it may come in before the first poll)."""
    if hasattr(consumer, "stamps"):
        return sorted(consumer.stamps())
    return [min(consumer.first_taken(), polled[0]), *polled[1:]]


def intake_rate(stamps: list[float]) -> float:
    try:
        return window_rate(stamps)
    except ZeroDivisionError:
        return float("nan")


def settle(bench: Bench, db: str, expected: int, idle: float = 15.0) -> tuple[int, float]:
    """Points in InfluxDB once all are in or the count has not moved for ``idle`` s, and when the last came."""
    points, last = bench.points(db), time.time()
    while points < expected:
        time.sleep(0.05)
        now_points = bench.points(db)
        if now_points > points:
            points, last = now_points, time.time()
        elif time.time() - last > idle:
            break
    return points, last


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bare_rate(bench: Bench, events) -> float:
    """Queue ``events`` for the consumer's session and for a bare ``mosquitto_sub`` (the C client: QoS 1,
    persistent session, each message stamped on arrival with ``-F %U``), and let mosquitto_sub drain its
    copy alone (the consumer is stopped); its session is ended after."""
    user, password = bench.broker.account("monitor")
    sub = ["mosquitto_sub", "-h", bench.broker.host, "-p", str(bench.broker.port), "-u", user, "-P", password,
           "-i", "bench-bare", "-q", "1", "-t", f"sebiao/{WS}/+/event"]
    subprocess.run([*sub, "-E"], check=True, timeout=30)  # a clean session: nothing queued from before
    subprocess.run([*sub, "-c", "-E"], check=True, timeout=30)  # the persistent session, subscribed
    queue_events(bench.broker, events, 300)
    out = subprocess.run([*sub, "-c", "-C", str(len(events)), "-W", "300", "-F", "%U"], check=True,
                         capture_output=True, text=True, timeout=330).stdout
    subprocess.run([*sub, "-E"], check=True, timeout=30)  # ended: later streams are not queued for it
    return window_rate([float(line) for line in out.split()])


def stream_run(bench: Bench, system: str, latency_seconds: float, with_bare: bool) -> dict:
    """The stream drained by a fresh consumer, then alarm latency on the same process."""
    consumer = bench.consumer(system)
    startup_cpu = prime(bench, consumer, system)
    events = bench.events()
    figures = {"load": os.getloadavg()[0]}
    if with_bare:
        figures["bare"] = bare_rate(bench, events)
    else:
        queue_events(bench.broker, events, 300)
    consumer.start()
    try:
        stamps = follow(consumer, len(events))
        points, last = settle(bench, system, len(events))
        figures["cpu"] = cpu_seconds(consumer.pid) - startup_cpu
        if len(stamps) == len(events):  # else the consumer stopped taking events: no rate
            stamps = taken_stamps(consumer, stamps)
            figures["intake"] = intake_rate(stamps)
            figures["e2e"] = points / (last - stamps[0])
            figures["drain_s"] = last - stamps[0]
        else:
            figures["intake"] = figures["e2e"] = float("nan")
        figures["lost"] = len(events) - points
        lat = sorted(latency(bench.broker, None, bench.config, latency_seconds))
        q = statistics.quantiles(lat, n=100)
        figures.update(p50=q[49] * 1000, p99=q[98] * 1000, max=lat[-1] * 1000, alarms=len(lat))
        figures["rss"] = rss_mb(consumer.pid)
    finally:
        consumer.stop()
    return figures


def kill_run(bench: Bench, system: str, drain_seconds: float) -> int:
    """Events missing from InfluxDB after a SIGKILL of the consumer while it drains a stream: a third of
    ``drain_seconds`` after its first point is in InfluxDB (``drain_seconds``: first taken to last point in
    its stream run; a flow's own count answers too late in a flood to be the trigger)."""
    consumer = bench.consumer(system)
    prime(bench, consumer, system)
    events = bench.events()
    queue_events(bench.broker, events, 300)
    consumer.start()
    try:
        deadline = time.monotonic() + 300
        while bench.points(system) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(drain_seconds / 3)
        consumer.kill9()
        consumer.start()
        points, _ = settle(bench, system, len(events))
    finally:
        consumer.stop()
    return len(events) - points


def stations_online(bench: Bench) -> None:
    """Every station's retained status says online, so that the rules judge at once."""
    for s in bench.config.stations:
        with MqttClient.connect(bench.broker.host, bench.broker.port, *bench.broker.account(s.id)) as c:
            c.publish(status_topic(WS, s.id), encode_status(True, buffer_depth=0), retain=True)


ROWS = (("intake events/s (middle 80 %)", "intake", "{:.0f}"), ("end to end events/s (to InfluxDB)", "e2e", "{:.0f}"),
        ("events lost of {n}", "lost", "{:.0f}"), ("alarm latency p50 ms @200 ev/s", "p50", "{:.1f}"),
        ("alarm latency p99 ms", "p99", "{:.1f}"), ("alarm latency max ms", "max", "{:.1f}"),
        ("peak RSS MB", "rss", "{:.0f}"), ("CPU s for the stream", "cpu", "{:.1f}"),
        ("kill -9 mid-burst: events missing", "killed", "{:.0f}"))


def cell(values: list[float], fmt: str) -> str:
    values = [v for v in values if v == v]  # NaN: a run that did not finish
    if not values:
        return "-"
    mid = fmt.format(statistics.median(values))
    return mid if len(values) == 1 else f"{mid} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def table(results: dict[str, list[dict]], events: int) -> str:
    lines = ["| figure | " + " | ".join(label for _, label in SYSTEMS) + " |",
             "|---|" + "---|" * len(SYSTEMS)]
    for label, key, fmt in ROWS:
        lines.append(f"| {label.format(n=f'{events:,}')} | "
                     + " | ".join(cell([r[key] for r in results[s]], fmt) for s, _ in SYSTEMS) + " |")
    bare = [r["bare"] for r in results["sebiao"]]
    lines.append(f"| bare `mosquitto_sub` on the same stream, events/s | {cell(bare, '{:.0f}')} | | |")
    return "\n".join(lines)


def write_docs(text: str) -> None:
    """Put ``text`` between this benchmark's markers under its heading in docs/performance.md (the heading
    and markers made when missing); the words around them and other sections are left alone."""
    path = bench_paths.ROOT / "docs" / "performance.md"
    doc = path.read_text("utf-8") if path.exists() else "# 性能 / Performance\n"
    block = f"{BEGIN}\n{text.strip()}\n{END}"
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
    elif DOCS_HEADING in doc:
        at = doc.index(DOCS_HEADING) + len(DOCS_HEADING)
        doc = doc[:at] + "\n\n" + block + doc[at:]
    else:
        doc = doc.rstrip("\n") + f"\n\n{DOCS_HEADING}\n\n```\n{COMMAND}\n```\n\n{block}\n"
    path.write_text(doc, "utf-8")


def run(args, tmp: Path) -> tuple[dict[str, list[dict]], str]:
    """Every round of every system on one Mosquitto and one InfluxDB; the figures and InfluxDB's version."""
    data = workshop()
    data["time_server"] = {"listen": "127.0.0.1", "port": 0}  # not the machine's port 123
    results: dict[str, list[dict]] = {s: [] for s, _ in SYSTEMS}
    with MosquittoServer(parse_config(data, "bench.yaml"), tmp / "mosquitto") as broker, \
            InfluxServer(tmp / "influxd") as influx:
        gw = broker.credentials.gateway
        data["broker"] = {"url": broker.url, "username": gw.username, "password": gw.password}
        bench = Bench(tmp, data, broker, influx, args.cache.expanduser(), args.events)
        stations_online(bench)
        for r in range(args.rounds):
            for system, label in SYSTEMS:
                if system not in args.systems:
                    continue
                figures = stream_run(bench, system, args.latency_seconds, with_bare=system == "sebiao")
                figures["killed"] = kill_run(bench, system, figures.get("drain_s", 10.0))
                results[system].append(figures)
                print(f"round {r + 1} {label}: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()),
                      flush=True)
        return results, influx.version


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where Node-RED is installed")
    parser.add_argument("--systems", nargs="+", default=[s for s, _ in SYSTEMS], help="a subset, for trials")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs, data) and say where")
    parser.add_argument("--write-docs", action="store_true", help="write the table into docs/performance.md")
    args = parser.parse_args()
    versions = install(args.cache.expanduser())
    tmp = Path(tempfile.mkdtemp(prefix="sebiao-peer-nodered-"))
    try:
        results, influx_version = run(args, tmp)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    loads = [f["load"] for rs in results.values() for f in rs]
    text = table(results, args.events)
    note = (f"{args.rounds} round(s), {args.events:,} events from 15 stations; Mosquitto {broker_version()}, "
            f"InfluxDB {influx_version}, Node-RED {versions['node-red']} on Node {versions['node']}, "
            f"node-red-contrib-influxdb {versions['node-red-contrib-influxdb']}; 1-minute load average "
            f"{min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs.")
    print(text + "\n\n" + note)
    if args.write_docs:
        write_docs(text + "\n\n" + note)
    return 0


def broker_version() -> str:
    out = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout.splitlines()
    return out[0].split()[-1] if out else "?"


if __name__ == "__main__":
    sys.exit(main())
