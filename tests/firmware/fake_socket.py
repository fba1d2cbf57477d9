"""A stand-in for MicroPython's `socket`: TCP goes to fwsupport's FakeBroker,
UDP to a canned SNTP server."""

AF_INET, SOCK_STREAM, SOCK_DGRAM = 2, 1, 2
BROKER = [None]
NTP_REPLY = [b""]


def getaddrinfo(host, port):
    return [(AF_INET, SOCK_STREAM, 0, "", ("10.0.0.1", port))]


class socket:
    def __init__(self, af=AF_INET, kind=SOCK_STREAM):
        self.kind = kind
        self.inner = None
        self.timeout = None

    def settimeout(self, t):
        self.timeout = t
        if self.inner is not None:
            self.inner.settimeout(t)

    def connect(self, addr):
        self.inner = BROKER[0].connect_tcp(addr[0], addr[1], 1000)

    def sendall(self, data):
        self.inner.sendall(data)

    def recv(self, n):
        if self.kind == SOCK_DGRAM:
            if not NTP_REPLY[0]:
                raise OSError(116)
            # a server copies the request's transmit timestamp into its originate timestamp
            reply = NTP_REPLY[0][:24] + self.sent[0][40:48] + NTP_REPLY[0][32:]
            return reply[:n]
        return self.inner.recv(n)

    def sendto(self, data, addr):
        self.sent = (data, addr)

    def close(self):
        if self.inner is not None:
            self.inner.close()
