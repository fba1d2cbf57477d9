"""One SNTP query (RFC 4330), bounded by a socket timeout. Returns epoch ms or 0.

The station asks the gateway by default (config ``ntp_host`` "" = the broker's
host), by IP: a name lookup can hang on a workshop network without DNS. An
answer is used only if it is a server's (mode 4), from a synchronised source
(stratum 1..15, leap indicator not 3 "alarm") and answers *this* request: its
originate timestamp is the nonce this request sent as its transmit timestamp.
"""

NTP_TO_UNIX_S = 2208988800
PORT = 123


def request(nonce):
    """A client request (LI 0, version 4, mode 3) whose transmit timestamp is the 8-byte ``nonce``."""
    return b"\x23" + bytes(39) + nonce


def parse(packet, nonce=None):
    """Epoch ms from a server reply, or 0 if it is not a usable answer (to ``nonce``, when given)."""
    if len(packet) < 48 or packet[0] & 0x07 != 4:  # not a server
        return 0
    if packet[0] >> 6 == 3 or not 1 <= packet[1] <= 15:  # unsynchronised, or kiss-o'-death (stratum 0)
        return 0
    if nonce is not None and bytes(packet[24:32]) != bytes(nonce):  # not the answer to our request
        return 0
    secs = int.from_bytes(packet[40:44], "big")
    frac = int.from_bytes(packet[44:48], "big")
    if secs <= NTP_TO_UNIX_S:
        return 0
    return (secs - NTP_TO_UNIX_S) * 1000 + (frac * 1000 >> 32)


def _is_ipv4(host):
    parts = host.split(".")
    if len(parts) != 4:
        return False
    for p in parts:
        if not p or len(p) > 3 or not all("0" <= c <= "9" for c in p) or int(p) > 255:
            return False
    return True


def _nonce():
    try:
        import os
        return bytes(os.urandom(8))
    except (ImportError, AttributeError, OSError):
        import random
        return bytes(random.getrandbits(8) for _ in range(8))


def query(socket_mod, host, timeout_ms, port=PORT, nonce=None):
    nonce = nonce or _nonce()
    try:
        # an IP is used as it is: no lookup. A name still works (old configs name pool.ntp.org) but may block.
        addr = (host, port) if _is_ipv4(host) else socket_mod.getaddrinfo(host, port)[0][-1]
        s = socket_mod.socket(socket_mod.AF_INET, socket_mod.SOCK_DGRAM)
    except OSError:
        return 0
    try:
        s.settimeout(timeout_ms / 1000)
        s.sendto(request(nonce), addr)
        return parse(s.recv(48), nonce)
    except OSError:
        return 0
    finally:
        s.close()
