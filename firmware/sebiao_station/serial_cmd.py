"""Provisioning over the USB serial port: a line protocol for `sebiao label write`.

Host to station (one ASCII line each, ending in newline):

    SEBIAO PING                          -> SEBIAO PONG <fw version> <station id>
    SEBIAO LABEL <tool> <kind> <color>   -> SEBIAO ARMED <tool>, then within 60 s:
                                            SEBIAO OK <uid> <tool>   (label written and read back)
                                            SEBIAO ERR <reason>      (no tag, write failed)

Anything else starting with "SEBIAO " gets "SEBIAO ERR <reason>"; other lines
(the REPL's own output, typing) are ignored. Fields are single words without
'|' (the label format's separator). Pure logic: the board feeds lines in and
takes the replies out, so it runs under CPython and MicroPython alike.
"""

from . import VERSION

PREFIX = "SEBIAO "


class SerialConsole:
    def __init__(self, station, write):
        self.station = station
        self.write = write  # write(text) sends one reply line (newline added here)
        self.waiting = None  # the tool whose label the host is waiting for
        self.seen_result = None

    def line(self, text):
        text = text.strip()
        if not text.startswith(PREFIX):
            return
        words = text[len(PREFIX):].split()
        if not words:
            self._reply("ERR empty command")
            return
        cmd = words[0].upper()
        if cmd == "PING":
            self._reply("PONG %s %s" % (VERSION, self.station.cfg["station"]))
        elif cmd == "LABEL":
            if len(words) != 4:
                self._reply("ERR LABEL takes <tool> <kind> <color>")
                return
            tool, kind, color = words[1], words[2], words[3]
            for field in (tool, kind, color):
                if "|" in field or len(field) > 32:
                    self._reply("ERR fields are at most 32 characters, no '|'")
                    return
            self.station.provision(tool, kind, color)
            self.waiting = tool
            self.seen_result = None
            self._reply("ARMED %s" % tool)
        else:
            self._reply("ERR unknown command %s" % cmd)

    def step(self):
        """Report the provisioning result once it is there."""
        if self.waiting is None:
            return
        result = self.station.provision_result
        if result is None or result is self.seen_result:
            return
        self.seen_result = result
        self.waiting = None
        if result.get("ok"):
            self._reply("OK %s %s" % (result.get("tag"), result.get("tool")))
        else:
            self._reply("ERR %s" % (result.get("error") or "failed"))

    def _reply(self, text):
        self.write(PREFIX + text + "\n")
