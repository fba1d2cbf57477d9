"""The cloud benchmark's simulated gateways and inspector (used by ``benchmarks/cloud_ingest.py``'s city).

A city or a province is tens of thousands of gateways on the same two cores as
the cloud, so the simulation has to cost little per gateway, or it measures
itself:

- no polling: each gateway sleeps until its next fact is due or its oldest
  queued item reaches the linger, whichever comes first, rounded up to its own
  0.2 s poll grid (the push worker's ``IDLE_POLL``), so an alarm leaves when
  the real worker would notice it; a province of 20,000 gateways wakes a few
  thousand times a second instead of 100,000;
- the gateways run in ``--clients`` processes (``fork``), each an asyncio loop;
- each process reaches every cloud worker as a load balancer in front of the
  workers does (nginx ``upstream { keepalive N; }``): the gateways' own
  connections end at the load balancer, which keeps up to ``--upstream`` idle
  keep-alive connections per worker and opens more while more requests are
  in flight (it never holds a request back), so the workers see few new
  connections, not one per request;
- a batch is gzipped at level 1 and signed with the gateway's Ed25519 key
  (made once per gateway) as the push worker does, when it is sent.

Each process reports its own CPU (user + system) over the replay, so the
cloud's share of the machine is visible next to the clients'.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import heapq
import json
import math
import random
import resource
import time
import urllib.parse
from dataclasses import dataclass, field

from cloud_servers import T0, Http, post_batch
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sebiao_common import batch_signature
from sebiao_common.http_answers import ALARM_HEADER

COLORS = ("red", "blue", "green", "yellow", "white")
IDLE_POLL = 0.2  # the push worker's poll when its outbox is empty (edge_gateway/sinks/cloud/push.py)
BATCH_ITEMS = 500  # the push worker's default batch_items
LINGER = 30.0  # the push worker's default linger_seconds (edge_gateway/sinks/cloud/config.py)


def event_item(station: str, seq: int, ts: int, tag: str, action: str, tool: str) -> str:
    return json.dumps({"kind": "event", "station": station, "boot": "00c0ffee", "seq": seq, "ts": ts, "tag": tag,
                       "action": action, "tool": tool, "note": None}, separators=(",", ":"))


def batch_body(workshop: str, batch_id: str, items: list[str]) -> bytes:
    head = json.dumps({"v": 1, "workshop": workshop, "batch": batch_id}, separators=(",", ":"))[:-1]
    return f'{head},"items":[{",".join(items)}]}}'.encode()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Traffic:
    """One workshop's working day, per the assumptions printed by ``describe``."""

    stations: int
    uses_per_day: int = 400  # tool uses in a 10-hour day: 40 tools, each about 10 times
    misuse: float = 0.02  # share of the uses that raise an alarm (cross-zone)
    status_every_ms: int = 60_000  # each station's status, like the firmware's heartbeat_s: 60
    day_ms: int = 10 * 3600_000

    def per_day(self) -> int:
        return (self.uses_per_day * 4 + self.stations * self.day_ms // self.status_every_ms
                + round(self.uses_per_day * self.misuse) * 3)

    def describe(self, workshops: int) -> str:
        return (f"assumptions per workshop and 10-hour day: {self.stations} stations, each a status per minute "
                f"({self.stations * self.day_ms // self.status_every_ms}); {self.uses_per_day} tool uses of 4 events "
                f"(take at the rack, at the sink in and out, back on the rack: {self.uses_per_day * 4}); "
                f"{self.misuse:.0%} of uses misplaced, each alarm raised, acknowledged after 2 min, cleared after "
                f"10 min ({round(self.uses_per_day * self.misuse) * 3} transitions) -> about {self.per_day()} items; "
                f"all workshops: {workshops * self.per_day() / self.day_ms * 1000:,.0f} items/s in real time")


@dataclass
class Gateway:
    """One workshop's gateway: generates its facts as simulated time passes and pushes like the push worker."""

    ws: str
    token: str
    traffic: Traffic
    rng: random.Random
    port: int = 0
    stations: list[str] = field(default_factory=list)
    seq: dict[str, int] = field(default_factory=dict)
    # (item, alarm raised, wall time it was queued, is an alarm transition)
    queue: list[tuple[str, tuple[str, int] | None, float, bool]] = field(default_factory=list)
    alarms_waiting: int = 0  # alarm transitions in the queue: the worker's "an alarm row waits"
    sim_start: float = 0.0  # wall time of T0
    speed: float = 1.0
    next_status: int = T0
    next_use: int = T0
    next_alarm_id: int = 1
    next_history: int = 1
    later: list[tuple[int, int, str, dict]] = field(default_factory=list)  # heap of alarm transitions due later
    pushed_ids: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {"event": 0, "status": 0, "alarm": 0, "raised": 0})
    key: Ed25519PrivateKey | None = None
    asked_linger: float = 0.0  # the cloud's "linger_seconds" in its last answer (back-pressure)

    def __post_init__(self) -> None:
        self.stations = [f"{kind}-{COLORS[n % 5]}-{n // 5 + 1}" for n, kind in
                         enumerate(["rack"] * (self.traffic.stations - 5) + ["sink"] * 5)]
        self.next_status = T0 + self.rng.randrange(self.traffic.status_every_ms)
        self.next_use = T0 + self._gap()

    def wall(self, at: int) -> float:
        return self.sim_start + (at - T0) / 1000 / self.speed

    def next_due(self) -> int:
        """The simulated time of the next fact this gateway will queue."""
        return min(self.next_status, self.next_use, self.later[0][0] if self.later else self.next_use)

    def _gap(self) -> int:
        return int(self.rng.expovariate(self.traffic.uses_per_day / self.traffic.day_ms)) + 1

    def generate(self, until: int) -> None:
        while self.next_status <= until:
            for s in self.stations:
                self._add(json.dumps({"kind": "status", "station": s, "ts": self.next_status, "online": True,
                                      "buffer_depth": 0, "fw": "1.0.0", "rssi": -60}, separators=(",", ":")),
                          "status", self.next_status)
            self.next_status += self.traffic.status_every_ms
        while self.next_use <= until:
            self._use(self.next_use)
            self.next_use += self._gap()
        while self.later and self.later[0][0] <= until:
            at, _, action, alarm = heapq.heappop(self.later)
            self._transition(alarm, at, action)

    def _use(self, at: int) -> None:
        color = self.rng.randrange(5)
        rack, sink = self.stations[color], self.stations[-5 + color]
        tool = f"KN-{COLORS[color][0].upper()}-{self.rng.randrange(8):02d}"
        tag = f"04{color:02X}{self.rng.randrange(256):02X}00000080"
        for n, (station, action) in enumerate(((rack, "removed"), (sink, "placed"), (sink, "removed"),
                                               (rack, "placed"))):
            seq = self.seq.get(station, 0)
            self.seq[station] = seq + 1
            self._add(event_item(station, seq, at + n * 20_000, tag, action, tool), "event", at + n * 20_000)
        if self.rng.random() < self.traffic.misuse:
            white = self.stations[4]
            alarm = {"id": self.next_alarm_id, "workshop": self.ws, "type": "cross_zone", "severity": "critical",
                     "state": "active", "acked": False, "latched": True, "count": 1, "tool": tool, "tag": tag,
                     "station": white, "ts": at, "last_ts": at, "raised_at": at + 50, "updated_at": at + 50,
                     "late": False, "text": {"zh": f"跨区放置：{tool} 被放到白色器具架", "en": f"Cross-zone: {tool} on a white rack"}}
            self.next_alarm_id += 1
            self._transition(alarm, at + 50, "raised")
            heapq.heappush(self.later, (at + 120_000, alarm["id"] * 2, "acknowledged", alarm))
            heapq.heappush(self.later, (at + 600_000, alarm["id"] * 2 + 1, "cleared", alarm))

    def _transition(self, alarm: dict, at: int, action: str) -> None:
        if action == "acknowledged":
            alarm.update(acked=True, updated_at=at)
        elif action == "cleared":
            alarm.update(state="cleared", updated_at=at)
        item = {"kind": "alarm", "alarm": dict(alarm), "transition": {
            "seq": self.next_history, "at": at, "action": action, "state": alarm["state"], "acked": alarm["acked"],
            "by": "system" if action == "raised" else "王师傅",
            "comment": "刀具已清洗消毒并放回原位" if action == "cleared" else None}}
        self.next_history += 1
        raised = (self.ws, alarm["id"]) if action == "raised" else None
        self._add(json.dumps(item, ensure_ascii=False, separators=(",", ":")), "alarm", at, raised)

    def _add(self, item: str, kind: str, at: int, raised: tuple[str, int] | None = None) -> None:
        # Queued when it happened (the wall time of its simulated time), not when this gateway's loop
        # got round to generating it: the engine writes a row as the fact comes in.
        self.queue.append((item, raised, min(time.time(), self.wall(at)), kind == "alarm"))
        self.alarms_waiting += kind == "alarm"
        self.counts[kind] += 1
        if raised:
            self.counts["raised"] += 1

    def signed_request(self, items: list[str], alarm: bool = False) -> tuple[bytes, dict[str, str]]:
        """The batch of these items as the push worker sends it: gzip level 1, signed by the gateway's key, marked
        when it carries an alarm transition."""
        if self.key is None:  # the same key as tests/support/gateway_keys.key(ws), which the tenants registered
            self.key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"sebiao test gateway " +
                                                                           self.ws.encode()).digest())
        first = self.pushed_ids + 1
        self.pushed_ids += len(items)
        batch_id = f"e1-{first}-{self.pushed_ids}-{len(items)}"
        body = batch_body(self.ws, batch_id, items)
        return gzip.compress(body, 1), {
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json", "Content-Encoding": "gzip",
            batch_signature.HEADER: batch_signature.sign(self.key, self.ws, batch_id, body),
            **({ALARM_HEADER: "1"} if alarm else {})}


class Upstream:
    """A load balancer's connections to one cloud worker, as nginx's ``upstream { keepalive N; }``: a request takes
    an idle connection or opens a new one (never waits for one), and at most ``size`` idle ones are kept."""

    def __init__(self, port: int, size: int) -> None:
        self.port, self.size = port, size
        self.idle: list[Http] = []
        self.busy = self.most = 0  # connections in use now, and at most

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        http = self.idle.pop() if self.idle else Http(self.port)
        self.busy += 1
        self.most = max(self.most, self.busy)
        try:
            return await http.request(method, path, headers, body)
        finally:
            self.busy -= 1
            if len(self.idle) < self.size:
                self.idle.append(http)
            else:
                http.close()

    def close(self) -> None:
        for http in self.idle:
            http.close()


async def _push(upstream: Upstream, body: bytes, headers: dict[str, str]) -> dict:
    """Sent again after a 5xx, a 429 or no answer, as the push worker does; 200's answer."""
    return await post_batch(upstream, headers, body)


def run_gateways(gateways: list[Gateway], ports: list[int], upstream_size: int, linger: float, day_end: int,
                 out) -> None:  # type: ignore[no-untyped-def]
    """One client process: all its gateways' working days; puts its figures on ``out``."""
    pushed_at: dict[tuple[str, int], float] = {}
    queued_at: dict[tuple[str, int], float] = {}
    answer_times: list[float] = []
    late: list[float] = []  # how late each wake-up came after its planned time: the clients' own lag
    totals = {"requests": 0, "items": 0, "accepted": 0, "duplicates": 0, "in_flight": 0, "most_in_flight": 0,
              "asked": 0}
    sim_start = gateways[0].sim_start if gateways else time.time()
    speed = gateways[0].speed if gateways else 1.0

    def sim_now(now: float) -> int:
        return T0 + int((now - sim_start) * speed * 1000)

    async def gateway_loop(g: Gateway, upstream: Upstream) -> None:
        phase = sim_start + g.rng.random() * IDLE_POLL  # its own poll grid
        wake = phase
        while True:
            now = time.time()
            if wake > now:
                await asyncio.sleep(wake - now)
                now = time.time()
            late.append(now - wake)
            done = sim_now(now) >= day_end
            g.generate(min(sim_now(now), day_end - 1))
            # The push worker's linger (edge_gateway/sinks/cloud/push.py); at the day's end the rest goes at once.
            lingers = max(linger, g.asked_linger) if linger else 0.0  # the push worker honours the cloud's ask
            if g.queue and (len(g.queue) >= BATCH_ITEMS or g.alarms_waiting or done
                            or g.queue[0][2] + lingers <= now):
                taken, g.queue = g.queue[:BATCH_ITEMS], g.queue[BATCH_ITEMS:]
                g.alarms_waiting -= sum(alarm for *_, alarm in taken)
                body, headers = g.signed_request([item for item, *_ in taken], any(a for *_, a in taken))
                start = time.time()
                for _, raised, queued, _ in taken:
                    if raised:
                        pushed_at[raised], queued_at[raised] = start, queued
                totals["in_flight"] += 1
                totals["most_in_flight"] = max(totals["most_in_flight"], totals["in_flight"])
                answer = await _push(upstream, body, headers)
                totals["in_flight"] -= 1
                answer_times.append(time.time() - start)
                totals["requests"] += 1
                for k in ("items", "accepted", "duplicates"):
                    totals[k] += answer[k]
                g.asked_linger = min(float(answer.get("linger_seconds") or 0), 600.0)
                totals["asked"] += bool(g.asked_linger)
                wake = time.time()
                continue
            if done and not g.queue:
                return
            # asleep until the next fact is due or the oldest queued item has lingered, on the poll grid
            due = min(g.wall(g.next_due()), g.wall(day_end))
            if g.queue:
                due = min(due, g.queue[0][2] + lingers)
            wake = phase + math.ceil(max(0.0, due - phase) / IDLE_POLL) * IDLE_POLL

    async def run() -> None:
        upstreams = {port: Upstream(port, upstream_size) for port in ports}
        await asyncio.gather(*(gateway_loop(g, upstreams[g.port]) for g in gateways))
        for u in upstreams.values():
            u.close()
        totals["connections"] = sum(u.most for u in upstreams.values())

    cpu = cpu_seconds()
    asyncio.run(run())
    out.put({"pushed_at": pushed_at, "queued_at": queued_at, "answer_times": answer_times, "totals": totals,
             "counts": {k: sum(g.counts[k] for g in gateways) for k in ("event", "status", "alarm", "raised")},
             "cpu": cpu_seconds() - cpu, "late": sorted(late)[int(len(late) * 0.99)] if late else 0.0,
             "finished": time.time()})


def inspector(port: int, token: str, sim_start: float, speed: float, stop, out) -> None:  # type: ignore[no-untyped-def]
    """Its own process: polls the alarm queue and notes when each alarm is first seen (wall clock)."""
    seen: dict[tuple[str, int], float] = {}
    polls, took = 0, []
    lookback_ms = int(120_000 * speed)  # alarms up to two real minutes old (by their time in the day)

    async def run() -> None:
        nonlocal polls
        http = Http(port)
        headers = {"Authorization": f"Bearer {token}"}
        while not stop.is_set():
            sim_now = T0 + int((time.time() - sim_start) * speed * 1000)
            to = None
            for _ in range(5):  # newest first, at most 1000 an answer: page back while answers are full
                query = {"from": max(T0, sim_now - lookback_ms), "limit": 1000, **({"to": to} if to else {})}
                asked = time.time()
                status, body = await http.request("GET", "/api/v1/alarms?" + urllib.parse.urlencode(query), headers)
                now = time.time()
                took.append(now - asked)
                if status != 200:
                    raise SystemExit(f"inspector: GET /api/v1/alarms answered {status}: {body[:300]!r}")
                page = json.loads(body)
                polls += 1
                for a in page:
                    seen.setdefault((a["workshop"], a["gateway_id"]), now)
                if len(page) < 1000:
                    break
                to = page[-1]["ts"] + 1
            await asyncio.sleep(0.25)
        http.close()

    cpu = cpu_seconds()
    asyncio.run(run())
    out.put((seen, polls, took, cpu_seconds() - cpu))
