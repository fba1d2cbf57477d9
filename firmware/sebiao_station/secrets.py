"""A new Wi-Fi network or broker password, tried so that it cannot cut the station off.

    {"v":1,"cmd":"secrets","version":"..","wifi":{"ssid":"..","password":".."},"broker":{"password":".."}}

(`wifi`, `broker` or both). Loaded only when such a command arrives, or at boot
when a trial was running at the last reset. The new set is written to
secrets.json (temp file + rename: a power cut leaves the old set in config.json
and the new one in secrets.json, never half of either). The station then
reports it "pending" over the connection it has, stays there RETRY_MS (the
gateway switches the broker's password for the station meanwhile), and from then
on the two sets take turns, the new one first: a turn is at least TRIES_PER_TURN
connection tries and TURN_MS (the link's backoff starts again with each turn).
Whichever connects decides:

- the new set connects: it goes into config.json, secrets.json is removed,
  status "secrets": {"version", "state": "applied"};
- the old set connects after the new one had its turn: that turn counts as
  failed ("fails"); after DROP_AFTER of them the new set is dropped (removed,
  "state": "dropped"), else the station reports "pending" again and gives the
  new set another turn RETRY_MS later.

A refused command ("state": "refused", "error") changes nothing. The values
never go back out: the status names the version only.
"""

from . import config
from .settings import check_version, flash_path

FILE = "secrets.json"
DROP_AFTER = 3  # failed turns of the new set while the old one connected, then the new set is dropped
TRIES_PER_TURN = 2  # connection tries a set gets at least before the other's turn ...
TURN_MS = 15000  # ... and time: joining a Wi-Fi network (association, DHCP) takes seconds
RETRY_MS = 30000  # on the old set with the new one pending: the gateway's time to switch the broker password


def _string(value, where, low, high):
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise config.ConfigError("%s: must be a string of %d..%d characters" % (where, low, high))
    return value


def parse(cmd):
    """The pending set from a command, or ConfigError naming the field."""
    version = cmd.get("version")
    check_version(version)
    wifi, broker = cmd.get("wifi"), cmd.get("broker")
    if wifi is None and broker is None:
        raise config.ConfigError("wifi, broker: give at least one")
    out = {"version": version, "fails": 0}
    if wifi is not None:
        if not isinstance(wifi, dict) or sorted(wifi) != ["password", "ssid"]:
            raise config.ConfigError("wifi: must be {\"ssid\", \"password\"}")
        password = _string(wifi["password"], "wifi.password", 0, 63)
        if 0 < len(password) < 8:
            raise config.ConfigError("wifi.password: WPA2 needs 8..63 characters (\"\" for an open network)")
        out["wifi"] = {"ssid": _string(wifi["ssid"], "wifi.ssid", 1, 32), "password": password}
    if broker is not None:
        if not isinstance(broker, dict) or list(broker) != ["password"]:
            raise config.ConfigError("broker: must be {\"password\"}")
        out["broker"] = {"password": _string(broker["password"], "broker.password", 1, 64)}
    return out


def _save(board, pending):
    import json
    config.write_atomic(flash_path(board, FILE), json.dumps(pending))


def _remove(board):
    import os
    try:
        os.remove(flash_path(board, FILE))
    except OSError:
        pass


def command(station, cmd):
    link = station.link
    link.status_due = True  # the answer is the next status
    try:
        pending = parse(cmd)
    except config.ConfigError as exc:
        version = cmd.get("version")
        station.remote["secrets"] = {"version": version[:16] if isinstance(version, str) else "",
                                     "state": "refused", "error": str(exc.args[0])[:120]}
        return
    if link.trial is not None and link.trial.pending["version"] == pending["version"]:
        return  # on trial already
    _save(station.board, pending)
    link.trial = Trial(station, pending, False)
    link.trial.wait(link)
    link.trial.report()


def resume(station):
    """At boot with secrets.json on flash: the trial goes on, the new set first."""
    import json
    try:
        with open(flash_path(station.board, FILE)) as f:
            data = json.loads(f.read())
        pending = parse(data)
    except (OSError, ValueError, AttributeError, config.ConfigError):
        _remove(station.board)  # cannot be read: the old set (config.json) is the one that stays
        return
    fails = data.get("fails")
    pending["fails"] = fails if isinstance(fails, int) else 0
    trial = Trial(station, pending, True)
    station.link.trial = trial
    trial.use(station.link)
    trial.report()


class Trial:
    def __init__(self, station, pending, on_new):
        cfg = station.cfg
        self.station = station
        self.pending = pending
        old_wifi = (cfg["wifi"]["ssid"], cfg["wifi"]["password"])
        self.old = (old_wifi, cfg["broker"]["password"])
        wifi = pending.get("wifi")
        self.new = ((wifi["ssid"], wifi["password"]) if wifi else old_wifi,
                    pending["broker"]["password"] if "broker" in pending else self.old[1])
        self.on_new = on_new  # the set the link tries now
        self.new_tried = on_new  # the new set had a turn since the old one last connected
        self.tries = 0
        self.was_up = False  # the Wi-Fi was up at the last try
        self.turn_ends = station.clock.ticks_ms() + TURN_MS  # with TRIES_PER_TURN tries: the other set's turn
        self.leave_at = None  # tick: leave the old set's connection, the new one's turn

    def report(self, state="pending"):
        self.station.remote["secrets"] = {"version": self.pending["version"], "state": state,
                                          "fails": self.pending["fails"]}
        self.station.link.status_due = True

    def use(self, link):
        wifi, password = self.new if self.on_new else self.old
        link.client.password = password
        if link.wifi != wifi:
            link.wifi = wifi
            link.board.wifi_connect(wifi[0], wifi[1])  # join the other network (the board leaves this one)

    def pick(self, link):
        """Before each connection try: the other set's turn after TRIES_PER_TURN tries and TURN_MS, but not
        just as this set's Wi-Fi came up (its MQTT CONNECT gets its try first)."""
        up = link.board.wifi_connected()
        fresh = up and not self.was_up
        self.was_up = up
        if self.tries >= TRIES_PER_TURN and link.clock.since(self.turn_ends) >= 0 and not fresh:
            self.was_up = False
            self.tries = 0
            self.turn_ends = link.clock.ticks_ms() + TURN_MS
            self.on_new = not self.on_new
            if self.on_new:
                self.new_tried = True
            link.backoff = 0  # another set: prompt tries again, not the last one's backoff
            self.use(link)
        self.tries += 1

    def wait(self, link):
        self.leave_at = link.clock.ticks_ms() + RETRY_MS

    def step(self, link):
        """Each pass while connected: on the old set, leave it when the new one's turn is due (True)."""
        if self.leave_at is None or link.clock.since(self.leave_at) < 0:
            return False
        self.leave_at = None
        self.tries = TRIES_PER_TURN  # the next try is the new set's
        self.turn_ends = link.clock.ticks_ms()
        self.was_up = True  # it was: connected
        link.client.disconnect()  # a clean goodbye: no last will, no offline alarm
        link._down("trying the new Wi-Fi/broker password")
        return True

    def connected(self, link):
        self.tries = 0
        if self.on_new:
            self._commit(link)
            return
        if not self.new_tried:
            return
        self.new_tried = False
        self.pending["fails"] += 1
        if self.pending["fails"] >= DROP_AFTER:
            _remove(self.station.board)
            link.trial = None
            self.report("dropped")
            return
        _save(self.station.board, self.pending)
        self.wait(link)
        self.report()

    def _commit(self, link):
        station = self.station
        cfg = config._copy(station.cfg)
        wifi, password = self.new
        cfg["wifi"] = {"ssid": wifi[0], "password": wifi[1]}
        cfg["broker"]["password"] = password
        cfg = config.validate(cfg)
        import json
        config.write_atomic(flash_path(station.board, "config.json"), json.dumps(cfg))  # then the pending goes
        _remove(station.board)
        station.cfg = cfg
        link.cfg = cfg
        link.trial = None
        self.report("applied")
