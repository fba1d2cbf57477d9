"""Wi-Fi + MQTT session for the main loop: one bounded step per pass.

Every event (and every probe cycle, on .../cycle) is taken from the flash buffer, oldest first, published QoS 1 and
acknowledged in the buffer only after its PUBACK. One event is in flight at a
time, at most `replay_per_s` a second. No PUBACK within `puback_timeout_ms`,
a failed ping or any socket error drops the connection; reconnection follows
a capped exponential backoff with jitter, and the unacknowledged event is sent
again (DUP) - the gateway ignores repeats of the same (boot, seq).
"""

from . import protocol
from .mqtt import MQTTClient, MQTTError


class Link:
    def __init__(self, cfg, board, buffer, boot, on_command, health):
        self.cfg = cfg
        self.board = board
        self.clock = board.clock
        self.buffer = buffer
        self.boot = boot
        self.on_command = on_command
        self.health = health
        b = cfg["broker"]
        t = cfg["timing"]
        ws, st = cfg["workshop"], cfg["station"]
        self.t_event = protocol.topic(ws, st, "event")
        self.t_status = protocol.topic(ws, st, "status")
        self.t_cmd = protocol.topic(ws, st, "cmd")
        self.t_cycle = protocol.topic(ws, st, "cycle")
        self.client = MQTTClient(b["client_id"], board.connect_tcp, self.clock, b["host"], b["port"],
                                 b["username"], b["password"], b["keepalive_s"], t["socket_timeout_ms"])
        self.client.set_last_will(self.t_status, protocol.WILL, True, 1)
        self.client.set_callback(self._message)
        self.puback_ms = t["puback_timeout_ms"]
        self.gap_ms = 1000 // t["replay_per_s"]
        self.heartbeat_ms = t["heartbeat_s"] * 1000
        self.backoff_min = t["backoff_min_ms"]
        self.backoff_max = t["backoff_max_ms"]
        self.backoff = 0
        self.next_try = self.clock.ticks_ms()
        self.wifi_started = False
        self.inflight = None  # (pid, record, sent tick)
        self.resend = False
        self.last_pub = self.clock.ticks_ms() - self.gap_ms
        self.last_status = 0
        self.status_due = True
        self.status_depth = None  # buffer depth in the last status sent
        self.stats = {"connects": 0, "disconnects": 0, "published": 0, "resent": 0}
        self.last_error = ""
        self.wifi = (cfg["wifi"]["ssid"], cfg["wifi"]["password"])
        self.trial = None  # a new Wi-Fi/broker password on trial (secrets.py): picks the set of each try

    @property
    def up(self):
        return self.client.connected

    def _message(self, topic, msg):
        if topic == self.t_cmd:
            cmd = protocol.decode_command(msg)
            if cmd is not None:
                self.on_command(cmd)

    def _down(self, why):
        self.last_error = why
        if self.client.connected:
            self.stats["disconnects"] += 1
        self.client.close()
        if self.inflight is not None:
            self.resend = True
            self.inflight = None
        self._schedule_retry()

    def _schedule_retry(self):
        if self.backoff == 0:
            self.backoff = self.backoff_min
        else:
            self.backoff = min(self.backoff * 2, self.backoff_max)
        jitter = self.board.random32() % (self.backoff // 4 + 1)
        self.next_try = self.clock.ticks_ms() + self.backoff + jitter

    def _connect(self):
        if self.clock.ticks_diff(self.clock.ticks_ms(), self.next_try) < 0:
            return
        if self.trial is not None:
            self.trial.pick(self)
        if not self.board.wifi_connected():
            # (re)start joining, then give it a backoff period before asking again
            self.board.wifi_connect(self.wifi[0], self.wifi[1])
            self.wifi_started = True
            self._schedule_retry()
            return
        try:
            self.client.connect(clean_session=True)
            self.client.subscribe(self.t_cmd, 1)
            self.stats["connects"] += 1
            self.backoff = 0
            self.status_due = True
            if self.trial is not None:
                self.trial.connected(self)
        except MQTTError as exc:
            self._down(str(exc))

    def send_status(self):
        health = self.health()
        self.status_depth = health.get("buffer_depth")
        self.client.publish(self.t_status, protocol.status_payload(True, health), True, 0)
        self.last_status = self.clock.ticks_ms()
        self.status_due = False

    def step(self):
        """One bounded pass: connect if due, read what came in, publish the next event."""
        if not self.client.connected:
            self._connect()
            if not self.client.connected:
                return
        if self.trial is not None and self.trial.step(self):
            return  # left the old set's connection: the new set's turn
        try:
            self.client.check_msg(0)
            if self.client.keepalive_due():
                raise MQTTError("no PINGRESP")
            if self.inflight is not None and self.inflight[0] in self.client.acked:
                self.buffer.ack()
                self.inflight = None
                self.stats["published"] += 1
                if self.buffer.depth == 0 and self.status_depth:
                    self.status_due = True  # the backlog is gone: say so now, not at the next heartbeat
            self.client.acked = []
            if self.inflight is not None and self.clock.since(self.inflight[2]) > self.puback_ms:
                raise MQTTError("no PUBACK in %d ms" % self.puback_ms)
            if self.status_due or self.clock.since(self.last_status) >= self.heartbeat_ms:
                self.send_status()
            if self.inflight is None and self.clock.since(self.last_pub) >= self.gap_ms:
                self._publish_next()
        except MQTTError as exc:
            self._down(str(exc))

    def wait(self, ms):
        """The pause between two passes, spent waiting on the broker's socket: what arrives (a
        feedback command) is handled at once, and the wait ends there. False when not connected
        (nothing was waited: the caller sleeps)."""
        if not self.client.connected:
            return False
        try:
            self.client.check_msg(ms)
        except MQTTError as exc:
            self._down(str(exc))
        return True

    def _publish_next(self):
        rec = self.buffer.peek()
        if rec is None:
            return
        ts = rec["ts"]
        if not ts and rec["ticks"] is not None and rec["boot"] == self.boot:
            ts = self.clock.epoch_at(rec["ticks"])  # 0 while the clock is still not set
        cycle = rec.get("cycle")
        if cycle is not None:
            # the start is known only as "dur_ms before the end": unknown while the end is
            start = ts - cycle["dur_ms"] if ts else 0
            topic = self.t_cycle
            payload = protocol.cycle_payload(rec["boot"], rec["seq"], ts, start, cycle["interval_s"],
                                             cycle["temps_dc"])
        else:
            topic = self.t_event
            payload = protocol.event_payload(rec["boot"], rec["seq"], ts, rec["tag"], rec["action"], rec["label"])
        dup = self.resend
        pid = self.client.publish(topic, payload, False, 1, dup=dup)
        if dup:
            self.stats["resent"] += 1
        self.resend = False
        now = self.clock.ticks_ms()
        self.inflight = (pid, rec, now)
        self.last_pub = now
