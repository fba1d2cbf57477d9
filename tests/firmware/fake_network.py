"""A stand-in for MicroPython's `network` (WLAN station interface)."""

STA_IF = 0
STATE = {"connected": False, "joins": []}


class WLAN:
    def __init__(self, iface):
        self.iface = iface

    def active(self, on=None):
        return True

    def connect(self, ssid, password):
        STATE["joins"].append(ssid)

    def disconnect(self):
        STATE["joins"].append(None)  # None: left the network

    def isconnected(self):
        return STATE["connected"]

    def status(self, what=None):
        if what == "rssi":
            return -61
        return 1010
