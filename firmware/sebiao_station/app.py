"""The station: reader -> presence -> flash buffer -> MQTT, with feedback and
a watchdog fed only by a healthy pass of the main loop; with a temperature
probe (config "probe"), its cycles go through the same buffer to .../cycle.

    station = Station(board, cfg)   # cfg from config.load(); board: see board.py
    station.start()
    station.run()                   # or station.step() from your own loop

Every pass is bounded: the reader poll by the chip timer, the network by the
socket timeouts (config: timing.socket_timeout_ms < watchdog_ms / 3).
"""

import json
import os

from . import VERSION, ntag
from .buffer import Buffer
from .feedback import Feedback
from .link import Link
from .presence import Inventory
from .readers import make_reader, ReaderError

try:
    from typing import Any  # noqa: F401  (type comments only; MicroPython has no typing)
except ImportError:
    pass

LOOP_MS = 50
PROVISION_WINDOW_MS = 60000


class Station:
    def __init__(self, board, cfg):
        self.board = board
        self.cfg = cfg
        self.clock = clock = board.clock
        t = cfg["timing"]
        self.poll_ms = t["poll_ms"]
        self.boot = "%08x" % (board.random32() & 0xFFFFFFFF)
        self.seq = 0
        self.started = clock.ticks_ms()
        self.reset_cause = board.reset_cause()
        spi, cs, rst = board.reader_bus(cfg)
        self.reader = make_reader(cfg, spi, cs, rst, clock)
        self.presence = Inventory(t["absent_misses"], t["absent_ms"])
        self.max_tags = cfg["reader"]["max_tags"]
        boot_bytes = bytes(int(self.boot[i:i + 2], 16) for i in range(0, 8, 2))
        self.buffer = Buffer(board.fs_root.rstrip("/") + "/buf", boot_bytes,
                             cfg["buffer"]["max_bytes"], cfg["buffer"]["segment_bytes"])
        p = cfg["pins"]
        self.feedback = Feedback(board.pin(p["led_red"]), board.pin(p["led_green"]),
                                 board.pin(p["buzzer"]), clock, cfg["feedback"])
        self.link = Link(cfg, board, self.buffer, self.boot, self.command, self.health)
        self.remote = {}  # what settings.py / secrets.py report in the status (settings_error, secrets)
        if _pending_secrets(board):
            from . import secrets  # a new Wi-Fi/broker password was on trial at the last reset
            secrets.resume(self)
        self.labels = {}  # uid -> label read when the tag arrived
        self.provision_req = None  # type: Any  # (tool, kind, color, armed tick)
        self.provision_result = None
        self.feedback_seq = None  # a feedback command's "seq": confirmed in the status once played
        self.played = None  # {"pattern", "seq"} of the last confirmed command
        self.last_poll = clock.ticks_ms() - self.poll_ms
        self.reader_bad_since = None
        self.last_ntp = None
        self.wdt = None
        self.passes = 0
        self.events = []  # (action, uid) of this boot, for the host's display; capped
        self.on_event = None
        self.probe = None
        pc = cfg.get("probe")
        if pc:
            from .probe import Probe  # only a station with a probe pays the RAM for its code
            self.probe = Probe(board.probe_bus(pc["pin"]), clock, pc)
        self.on_cycle = None  # f(start_tick, end_tick, interval_s, temps_dc), for the host's display
        self.update = None  # the status's "update" (docs/fleet.md): the last update's outcome or progress
        self.updater = None  # a running update (update.py) or this boot's trial (trial.py): stepped each pass
        self.clean = False  # the last reader inventory was clean (a trial confirms after one)

    # start-up

    def start(self):
        if not self.reader.init():
            self.reader.recover()
        self.feedback.play("clear")
        self.wdt = self.board.watchdog(self.cfg["timing"]["watchdog_ms"])
        self._fw_state()

    def _fw_state(self):
        """The last update's outcome (fw/result, docs/fleet.md) goes in every status; while this boot tries
        a new version (fw/trial), trial.py confirms it or resets. (No sebiao_boot here: main.py drops it.)"""
        fw = self.board.fs_root.rstrip("/") + "/fw/" if self.board.fs_root else "fw/"
        try:
            with open(fw + "result") as f:
                got = json.load(f)
            self.update = got if isinstance(got, dict) else None
        except (OSError, ValueError):
            pass
        try:
            os.stat(fw + "trial")
        except OSError:
            return
        from .trial import Trial
        self.updater = Trial(self)

    # commands from the gateway

    def command(self, cmd):
        name = cmd.get("cmd")
        if name == "feedback":
            seq = cmd.get("seq")
            if self.feedback.play(cmd.get("pattern")):
                self.feedback_seq = seq if type(seq) is int and seq >= 0 else None
        elif name == "provision":
            self.provision(cmd.get("tool") or "", cmd.get("kind") or "", cmd.get("color") or "")
        elif name == "status":
            self.link.status_due = True
        elif name == "update":
            from .update import begin  # loaded only when asked: the station's heap stays as it was
            begin(self, cmd)
        elif name == "settings":
            from . import settings  # loaded only when the gateway sends settings
            settings.command(self, cmd)
        elif name == "secrets":
            from . import secrets
            secrets.command(self, cmd)

    def provision(self, tool, kind="", color=""):
        """Arm provisioning: the next tag seen within a minute gets this label."""
        self.provision_req = (tool, kind, color, self.clock.ticks_ms())
        self.provision_result = None

    # the reader

    def poll_reader(self):
        """One inventory cycle: every tag in the field, one event per UID."""
        now = self.clock.ticks_ms()
        uids, clean = self.reader.inventory(self._visit, self.max_tags)
        self.clean = clean
        if self.provision_req is not None and self.clock.since(self.provision_req[3]) > PROVISION_WINDOW_MS:
            self.provision_req = None
            self.provision_result = {"ok": False, "error": "no tag"}
        for action, tag in self.presence.update(now, uids, clean, self.clock.ticks_diff):
            label = self.labels.get(tag)
            if action == "removed":
                self.labels.pop(tag, None)
            self.record(action, tag, label, now)

    def _visit(self, uid):
        """A tag is selected during the inventory: provision it if armed (the
        first tag seen; hold one tag to the reader), read the label of a new one."""
        if self.provision_req is not None:
            from .provision import write  # loaded only to write a label
            write(self, uid)
        elif uid not in self.labels:
            self.labels[uid] = self._read_label()

    def _read_label(self):
        try:
            return ntag.read_label(self.reader)
        except ReaderError:
            return None  # the event goes without it; the UID is what counts

    def record(self, action, tag, label=None, tick=None):
        if tick is None:
            tick = self.clock.ticks_ms()
        ts = self.clock.epoch_at(tick)
        self.buffer.append(self.seq, ts, tag, action, label, None if ts else tick)
        self.seq += 1
        self.events.append((action, tag))
        if len(self.events) > 32:
            self.events.pop(0)
        if self.on_event is not None:
            self.on_event(action, tag, label)

    # health

    def health(self):
        h = {
            "fw": VERSION,
            "boot": self.boot,
            "uptime_s": self.clock.since(self.started) // 1000,
            "heap_free": self.board.free_heap(),
            "rssi": self.board.rssi(),
            "reader_ok": self.reader.healthy,
            "reader": self.reader.health(),
            "buffer_depth": self.buffer.depth,
            "buffer_dropped": self.buffer.drops,
            "reset_cause": self.reset_cause,
            "clock_synced": self.clock.synced,
            "settings": self.cfg["settings_version"],
        }
        h.update(self.remote)
        if self.provision_result is not None:
            h["provision"] = self.provision_result
        if self.played is not None:  # sent_at: this clock now (0: not set), the gateway's measure of it
            h["played"] = {"pattern": self.played[0], "seq": self.played[1], "sent_at": self.clock.epoch_ms()}
        if self.probe is not None:
            h.update(self.probe.health())
        if self.update is not None:
            h["update"] = self.update
        return h

    def healthy(self):
        """False when the reader has been failing long enough that a reset is the cure."""
        if self.reader.healthy:
            self.reader_bad_since = None
            return True
        if self.reader_bad_since is None:
            self.reader_bad_since = self.clock.ticks_ms()
        return self.clock.since(self.reader_bad_since) < self.cfg["timing"]["reader_dead_reset_s"] * 1000

    def _ntp(self):
        every = self.cfg["timing"]["ntp_every_s"] * 1000
        if self.last_ntp is not None and self.clock.since(self.last_ntp) < (every if self.clock.synced else 30000):
            return
        if not self.board.wifi_connected():
            return
        self.last_ntp = self.clock.ticks_ms()
        host = self.cfg["ntp_host"] or self.cfg["broker"]["host"]  # by default the gateway answers
        ms = self.board.ntp_ms(host, self.cfg["timing"]["socket_timeout_ms"], self.cfg["ntp_port"])
        if ms:
            self.clock.set_epoch_ms(ms)

    # the main loop

    def step(self):
        """One pass. Returns True if it was healthy (and the watchdog was fed)."""
        if self.clock.since(self.last_poll) >= self.poll_ms:
            self.last_poll = self.clock.ticks_ms()
            self.poll_reader()
        if self.probe is not None:
            cycle = self.probe.step()
            if cycle is not None:
                self.probe.record(self, cycle)
        self._ntp()
        self.link.step()
        self.feedback.step()
        if self.feedback_seq is not None and not self.feedback.busy():
            self.played = (self.feedback.pattern, self.feedback_seq)  # played to its end: say so now
            self.feedback_seq = None
            self.link.status_due = True
        if self.updater is not None:
            self.updater.step()  # bounded (update.STEP_MS), so the watchdog below is fed as usual
        self.passes += 1
        ok = self.healthy()
        if ok and self.wdt is not None:
            self.wdt.feed()
        return ok

    def idle(self, ms=LOOP_MS):
        """The pause after a pass: up to `ms`, cut short when the broker sends something, so a
        feedback command lights the LED as it arrives (it answers the event this pass sent, a few
        ms later), not after the pause. Offline it is a plain sleep. It ends when the next reader poll
        is due, so the reader is polled every poll_ms, not at the first pass after it."""
        due = self.poll_ms - self.clock.since(self.last_poll)
        if due < ms:
            ms = due if due > 0 else 0
        if not self.link.wait(ms):
            self.clock.sleep_ms(ms)

    def run(self, passes=None):
        while passes is None or passes > 0:
            self.step()
            self.idle(LOOP_MS)
            if passes is not None:
                passes -= 1


def _pending_secrets(board):
    import os
    try:
        os.stat((board.fs_root.rstrip("/") + "/" if board.fs_root.rstrip("/") else "") + "secrets.json")
        return True
    except OSError:
        return False
