"""machine.SPI and machine.Pin look-alikes wired to a simulated chip."""


class SimPin:
    def __init__(self, on_change=None, value=1):
        self._v = value
        self.on_change = on_change
        self.history = []

    def value(self, v=None):
        if v is None:
            return self._v
        v = 1 if v else 0
        self.history.append(v)
        if len(self.history) > 64:
            self.history = self.history[-32:]
        if v != self._v:
            self._v = v
            if self.on_change:
                self.on_change(v)
        return None

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class SimSPI:
    """Full-duplex byte exchange with `device.xfer(byte) -> byte` while its CS is low."""

    def __init__(self, device):
        self.device = device

    def write(self, buf):
        for b in buf:
            self.device.xfer(b)

    def read(self, n, write=0):
        return bytes(self.device.xfer(write) for _ in range(n))

    def readinto(self, buf, write=0):
        for i in range(len(buf)):
            buf[i] = self.device.xfer(write)

    def write_readinto(self, out, into):
        for i in range(len(out)):
            into[i] = self.device.xfer(out[i])
