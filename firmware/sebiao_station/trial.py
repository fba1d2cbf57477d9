"""This boot tries a new version (fw/trial, docs/fleet.md): confirm it once the
station has connected to the broker and finished one clean reader inventory,
else reset at CONFIRM_MS after the boot, and sebiao_boot.select rolls back.
Loaded only while a trial runs."""

import sebiao_boot as boot

from . import VERSION

CONFIRM_MS = 120000


class Trial:
    def __init__(self, station):
        self.st = station
        self.fw = boot.path(station.board.fs_root, "fw/")
        t = boot.read_json(self.fw + "trial") or {}
        self.slot = t.get("slot")
        self.version = t.get("version") or VERSION  # what was asked for (the release's VERSION)
        station.update = {"version": self.version, "state": "trial"}

    def step(self):
        st = self.st
        cp = st.board.checkpoint
        if st.link.up and st.clean:
            # the order matters: fw/current first (a cut after it is finished by select), fw/trial last
            boot.write_atomic(self.fw + "current", self.slot, cp)
            cp("confirm current")
            st.update = {"version": self.version, "state": "confirmed"}
            boot.write_atomic(self.fw + "result", st.update, cp)
            cp("confirm result")
            boot.remove(self.fw + "trial")
            cp("confirm done")
            st.updater = None
            st.link.status_due = True
            boot.unload("sebiao_station.trial", "sebiao_boot")
        elif st.clock.since(st.started) >= CONFIRM_MS:
            why = "no clean inventory" if st.link.up else "no broker"
            t = boot.read_json(self.fw + "trial") or {"slot": self.slot, "version": self.version, "boots": 1}
            t["error"] = "not confirmed in %d s: %s" % (CONFIRM_MS // 1000, why)
            boot.write_atomic(self.fw + "trial", t, cp)
            cp("trial timeout")
            st.board.reset()  # the next boot rolls back (boots is 1)
