"""Gateway throughput and latency against real Mosquitto and the real gateway process.

    .venv/bin/python benchmarks/gateway_throughput.py [--events 30000] [--latency-seconds 20]
        [--latency-runs 5] [--sinks]

Prints, from one run:
1. sustained events/s the gateway commits (zero loss checked: every event is in
   its store), next to the rate a bare QoS 1 subscriber reaches on the same
   stream at the same time (the limit of broker and machine);
2. p50 / p99 / max latency from publish to the alarm received, at a steady
   200 events/s (each event raises or clears an alarm);
   (``--latency-runs N``: N runs, each printed, and the worst);
3. the gateway process' memory: its RSS once started (before any event), the peak
   (VmHWM) of the restarted process once it has drained the burst, and at the end.

With ``--sinks`` (or only one: ``--sinks influx``, ``--sinks cloud``) the
gateway also writes to a real InfluxDB 1.x and pushes to a real cloud
(``sebiao cloud`` on SQLite) all along, so the figures include the InfluxDB
drain and the cloud push running beside the intake. The latency runs start
once the burst has been shipped and the servers have had 5 s to settle.

Publishers and the bare subscriber run in their own processes so that their
Python does not share a GIL with the measurement.

The gateway and Mosquitto run at the nice value their systemd units give them
(``Nice=-5``, ``edge_gateway/tooling/service_units.py``: the alarm path ahead of
the box's other work, here InfluxDB and the cloud) when the benchmark may set it
(as root); ``--nice 0`` runs them as any process.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import socket
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import bench_paths  # noqa: F401 - puts the project and tests/support on sys.path
import paho.mqtt.client as mqtt
import yaml
from bench_sinks import GatewaySinks
from gateway_proc import GatewayProcess
from paho.mqtt.enums import CallbackAPIVersion
from servers import MosquittoServer, MqttClient

from edge_gateway.model.protocol import (
    StationEvent,
    alarm_topic,
    encode_event,
    encode_status,
    event_topic,
    status_topic,
)
from edge_gateway.model.workshop import parse_config
from edge_gateway.tooling.service_units import ALARM_PATH_NICE

COLORS = ("red", "blue", "green", "yellow", "white")
WS = "ws-bench"


def workshop(tools_per_color: int = 10) -> dict:
    """15 stations (two racks and a sink per colour) and 50 knives."""
    stations, tools = [], []
    for c in COLORS:
        stations += [{"id": f"rack-{c}-1", "kind": "rack", "zone": c}, {"id": f"rack-{c}-2", "kind": "rack", "zone": c},
                     {"id": f"sink-{c}-1", "kind": "sink", "zone": c}]
        for i in range(tools_per_color):
            tools.append({"id": f"KN-{c[0].upper()}-{i:02d}", "kind": "knife", "color": c,
                          "tag": f"04{COLORS.index(c):02X}{i:02X}0000000080"[:14], "home": f"rack-{c}-{1 + i % 2}"})
    return {"workshop": {"id": WS, "name": "基准作坊", "district": "昆都仑区"},
            "stations": stations, "tools": tools, "http": {"token": "bench-token-0123456789"},
            # One station here sends thousands a second, far beyond any real reader (docs/config.md, intake):
            # the benchmark measures the gateway itself, so no station is held to a rate.
            "intake": {"station_rate": 1_000_000, "station_burst": 10_000_000}}


def cycle_events(config, total: int, t0_ms: int) -> list[tuple[str, bytes]]:
    """Take, wash, put back: (station, payload) in publishing order, event times 1 ms apart."""
    out, seq, ts = [], {}, t0_ms
    sink = {s.zone: s.id for s in config.stations if s.kind.value == "sink"}
    while len(out) < total:
        for tool in config.tools:
            for station, action in ((tool.home, "removed"), (sink[tool.color], "placed"),
                                    (sink[tool.color], "removed"), (tool.home, "placed")):
                n = seq.get(station, 0)
                seq[station] = n + 1
                ts += 1
                out.append((station, encode_event(StationEvent(station=station, boot="b0b0b0b0", seq=n, ts=ts,
                                                               tag=tool.tag, action=action))))
    return out[:total - total % 4]


def publisher(host, port, accounts, events, ready, go):
    """One process publishing for some stations, as fast as the broker takes QoS 1."""
    clients = {}
    for station, (user, password) in accounts.items():
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{station}", protocol=mqtt.MQTTv311)
        c.username_pw_set(user, password)
        c.max_inflight_messages_set(1000)  # before connecting: paho refuses it after
        c.max_queued_messages_set(0)
        c.connect(host, port)
        c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.loop_start()
        clients[station] = c
    ready.set()
    go.wait()
    infos = [clients[s].publish(event_topic(WS, s), p, qos=1) for s, p in events]
    for info in infos:
        info.wait_for_publish(120)
    for c in clients.values():
        c.disconnect()
        c.loop_stop()


def bare_subscriber(host, port, user, password, expected, result):
    """Resume a persistent session holding the whole stream and only count: the limit."""
    c = MqttClient.connect(host, port, user, password, client_id="bench-bare", clean_session=False)
    stamps = []
    while len(stamps) < expected:
        c.messages.get(timeout=30)
        stamps.append(time.perf_counter())
    c.close()
    result.put(window_rate(stamps))


def window_rate(stamps: list[float]) -> float:
    """Rate over the middle 80 % of a stream: start-up and tail left out."""
    lo, hi = int(len(stamps) * 0.1), int(len(stamps) * 0.9)
    return (hi - lo) / (stamps[hi] - stamps[lo])


def queue_events(broker, events, seconds: float) -> None:
    """Publish from two processes, one per half of the stations, all at once (waits up to ``seconds``
    for them); with the gateway stopped, its persistent session queues the stream in the broker."""
    stations = sorted({s for s, _ in events})
    ctx = mp.get_context("spawn")
    go, readies, procs = ctx.Event(), [], []
    for group in (stations[0::2], stations[1::2]):
        ready = ctx.Event()
        accounts = {s: broker.account(s) for s in group}
        mine = [(s, p) for s, p in events if s in group]
        procs.append(ctx.Process(target=publisher, args=(broker.host, broker.port, accounts, mine, ready, go)))
        readies.append(ready)
    for p in procs:
        p.start()
    for r in readies:
        r.wait(30)
    go.set()
    for p in procs:
        p.join(seconds)


def throughput(broker, gateway, config, total: int) -> dict:
    """The stream is queued by the broker for both consumers while they are away, then each
    drains it alone with the whole machine: the bare subscriber first, then the gateway."""
    events = cycle_events(config, total, int(time.time() * 1000) - 3_600_000)
    # the read-only monitor account: one session per account, and the gateway's is the gateway's
    with MqttClient.connect(broker.host, broker.port, *broker.account("monitor"), client_id="bench-bare",
                            clean_session=False) as bare:
        bare.subscribe(f"sebiao/{WS}/+/event", qos=1)
    gateway.stop()  # its persistent session keeps collecting
    queue_events(broker, events, 300)
    ctx = mp.get_context("spawn")
    result = ctx.Queue()
    bare_proc = ctx.Process(target=bare_subscriber, args=(broker.host, broker.port, *broker.account("monitor"),
                                                          len(events), result))
    bare_proc.start()
    bare_rate = result.get(timeout=300)
    bare_proc.join(30)
    before = gateway.count("events")
    gateway.start()
    cpu = cpu_seconds(gateway.proc.pid)
    stamps = _follow(gateway, len(events))
    cpu = cpu_seconds(gateway.proc.pid) - cpu
    stored = gateway.count("events") - before
    return {"events": len(events), "stored": stored, "gateway_rate": window_rate(stamps), "bare_rate": bare_rate,
            "cpu_us": 1e6 * cpu / len(events), "rss_burst": rss_mb(gateway.proc.pid)}


def settle(gateway, quiet: float = 5.0) -> float:
    """Waits until both outboxes are empty (the burst shipped), then ``quiet`` seconds for the servers
    behind them to finish their own work (InfluxDB compacts what it took): the latency runs then measure the
    steady state, both sinks still shipping every alarm. Returns the seconds it waited for the outboxes."""
    start = time.monotonic()
    while time.monotonic() - start < 600:
        if gateway.metric("sebiao_outbox_rows") == 0 and gateway.metric("sebiao_cloud_outbox_rows") == 0:
            break
        time.sleep(0.5)
    waited = time.monotonic() - start
    time.sleep(quiet)
    return waited


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used: unlike a rate, it hardly moves with the machine's load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _follow(gateway, expected: int) -> list[float]:
    """Completion time of each committed event, from the metrics counter polled every 20 ms."""
    stamps: list[float] = []
    deadline = time.monotonic() + 300
    base = 0  # a fresh gateway process counts from zero
    while len(stamps) < expected and time.monotonic() < deadline:
        done = int(gateway.metric("sebiao_events_total") - base)
        now = time.perf_counter()
        stamps.extend([now] * (min(done, expected) - len(stamps)))
        time.sleep(0.02)
    return stamps


def alarm_listener(host, port, user, password, topic, seconds, ready, result):
    """Its own process: receives the alarms and stamps each on arrival (wall clock, as the sender).

    Sharing a process with the sender (its paho thread, its sleeping loop) put
    that process' own stalls of up to tens of ms into the figures."""
    sys.setswitchinterval(0.0002)
    listener = MqttClient.connect(host, port, user, password, client_id="bench-lat")
    listener.subscribe(topic, qos=1)
    gc.disable()  # a full collection here would be measured as gateway latency
    ready.set()
    got, deadline = [], time.time() + seconds + 30
    while time.time() < deadline:
        try:
            msg = listener.messages.get(timeout=3)
        except Exception:  # noqa: BLE001 - queue.Empty: the stream has ended
            break
        arrived = time.time()
        body = json.loads(msg.payload)
        got.append((arrived, body["tag"], "placed" if body["state"] == "active" else "removed"))
    listener.close()
    result.put(got)


def latency(broker, gateway, config, seconds: float, rate: int = 200, run: int = 0) -> list[float]:
    """Publish unknown tags at a steady rate: each 'placed' raises an alarm, each 'removed' clears it.

    The sender and the listener are separate processes; both stamp with the
    machine's wall clock, so a latency is the listener's arrival minus the send. Each ``run`` is a new boot
    of the station (its seqs start again) with tags of its own."""
    station = config.stations[0].id
    ctx = mp.get_context("spawn")
    ready, result = ctx.Event(), ctx.Queue()
    listener = ctx.Process(target=alarm_listener, args=(broker.host, broker.port, *broker.account("monitor"),
                                                        alarm_topic(WS), seconds, ready, result))
    listener.start()
    ready.wait(30)
    sender = MqttClient.connect(broker.host, broker.port, *broker.account(station))
    sent: dict[tuple[str, str], float] = {}
    total = int(seconds * rate)
    gc.disable()
    start = time.perf_counter()
    for i in range(total):
        target = start + i / rate
        while (delay := target - time.perf_counter()) > 0:
            time.sleep(delay)
        tag = f"05{run:04X}{i // 2:08X}"
        action = "placed" if i % 2 == 0 else "removed"
        payload = encode_event(StationEvent(station=station, boot=f"1a7e{run:04x}", seq=i, ts=int(time.time() * 1000),
                                            tag=tag, action=action))
        sent[(tag, action)] = time.time()
        sender.client.publish(event_topic(WS, station), payload, qos=1)
    gc.enable()
    sender.close()
    got = result.get(timeout=seconds + 120)
    listener.join(30)
    return [arrived - sent.pop((tag, action)) for arrived, tag, action in got if (tag, action) in sent]


def rss_mb(pid: int, field: str = "VmHWM") -> float:
    """The process' resident memory (``VmRSS``) or its peak so far (``VmHWM``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument("--latency-runs", type=int, default=1)
    parser.add_argument("--sinks", nargs="?", const="influx,cloud", default="",
                        help="with a real InfluxDB and a real cloud (or only one: --sinks influx)")
    parser.add_argument("--nice", type=int, default=ALARM_PATH_NICE if os.geteuid() == 0 else 0,
                        help="the gateway's and Mosquitto's nice value (default: their units', when root)")
    args = parser.parse_args()
    data = workshop()
    config = parse_config(data, "bench.yaml")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with MosquittoServer(config, tmp / "mosquitto") as broker, ExitStack() as stack:
            if args.nice:
                os.setpriority(os.PRIO_PROCESS, broker._proc.pid, args.nice)  # one thread: the process
            gw = broker.credentials.gateway
            data["broker"] = {"url": broker.url, "username": gw.username, "password": gw.password}
            sinks = stack.enter_context(GatewaySinks(tmp, WS, tmp / "data")) if args.sinks else None
            data.update({k: v for k, v in (sinks.sections if sinks else {}).items() if k in args.sinks.split(",")})
            (tmp / "bench.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
            # under nice(1), so that every thread the gateway starts has it (setpriority is per thread)
            gateway = GatewayProcess(tmp / "bench.yaml", tmp / "data",
                                     prefix=("nice", "-n", str(args.nice)) if args.nice else ()).start()
            try:
                for s in config.stations:  # every station online, so the rules judge at once
                    with MqttClient.connect(broker.host, broker.port, *broker.account(s.id)) as c:
                        c.publish(status_topic(WS, s.id), encode_status(True, buffer_depth=0), retain=True)
                rss_start = rss_mb(gateway.proc.pid, "VmRSS")  # started, every station online, no event yet
                t = throughput(broker, gateway, config, args.events)
                drained = settle(gateway) if sinks else None
                runs = [sorted(latency(broker, gateway, config, args.latency_seconds, run=n))
                        for n in range(args.latency_runs)]
                points = sinks.influx_points() if sinks else None
                rss = rss_mb(gateway.proc.pid)
            finally:
                gateway.stop()
    print("sebiao gateway benchmark (real Mosquitto, real gateway process, QoS 1; "
          f"gateway and Mosquitto at nice {args.nice})")
    print(f"  events published        {t['events']}")
    print(f"  events stored           {t['stored']}  (lost: {t['events'] - t['stored']})")
    print(f"  gateway sustained rate  {t['gateway_rate']:8.0f} events/s")
    print(f"  gateway CPU per event   {t['cpu_us']:8.1f} µs (user + system, all its threads)")
    print(f"  bare subscriber rate    {t['bare_rate']:8.0f} events/s  "
          f"(gateway at {100 * t['gateway_rate'] / t['bare_rate']:.0f} %)")
    if sinks:
        print(f"  with sinks {args.sinks}: {points} tool_event points in InfluxDB; the burst shipped "
              f"{drained:.0f} s after it was taken in")
    for lat in runs:
        q = statistics.quantiles(lat, n=100)
        print(f"  alarm latency @200 ev/s p50 {q[49] * 1000:.2f} ms  p99 {q[98] * 1000:.2f} ms  "
              f"max {lat[-1] * 1000:.2f} ms  ({len(lat)} alarms)")
    if len(runs) > 1:
        p99s = [statistics.quantiles(lat, n=100)[98] * 1000 for lat in runs]
        print(f"  over {len(runs)} runs: p99 {min(p99s):.2f}–{max(p99s):.2f} ms, "
              f"max {max(lat[-1] for lat in runs) * 1000:.2f} ms")
    print(f"  gateway RSS at start    {rss_start:.1f} MB  (peak after the burst {t['rss_burst']:.1f} MB)")
    print(f"  gateway peak RSS        {rss:.1f} MB")
    return 0 if t["stored"] == t["events"] else 1


if __name__ == "__main__":
    sys.exit(main())
