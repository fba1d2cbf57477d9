"""One SNTP query (RFC 4330), bounded by a socket timeout. Returns epoch ms or 0."""

NTP_TO_UNIX_S = 2208988800


def request():
    return b"\x1b" + bytes(47)  # LI 0, version 3, mode 3 (client)


def parse(packet):
    """Epoch ms from a server reply, or 0 if it is not a usable answer."""
    if len(packet) < 48 or packet[0] & 0x07 != 4 or packet[1] == 0:  # not a server / kiss-o'-death
        return 0
    secs = int.from_bytes(packet[40:44], "big")
    frac = int.from_bytes(packet[44:48], "big")
    if secs <= NTP_TO_UNIX_S:
        return 0
    return (secs - NTP_TO_UNIX_S) * 1000 + (frac * 1000 >> 32)


def query(socket_mod, host, timeout_ms):
    try:
        addr = socket_mod.getaddrinfo(host, 123)[0][-1]
        s = socket_mod.socket(socket_mod.AF_INET, socket_mod.SOCK_DGRAM)
    except OSError:
        return 0
    try:
        s.settimeout(timeout_ms / 1000)
        s.sendto(request(), addr)
        return parse(s.recv(48))
    except OSError:
        return 0
    finally:
        s.close()
