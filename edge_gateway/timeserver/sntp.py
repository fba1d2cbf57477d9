"""The SNTP packet and the stratum/leap policy (RFC 4330). Pure: bytes and values in, bytes and values out.

Only a well-formed client request gets an answer: exactly 48 bytes (no extension fields or MAC: an answer is
never bigger than its request, so the server amplifies nothing), mode 3 (client), version 1..4. Anything else —
a server's packet, a control (mode 6) or private (mode 7) query, a longer packet — is ignored.

What the answer says about the gateway's clock is the truth as the kernel knows it:

| own clock              | ``local_stratum`` | leap indicator | stratum | reference id |
|------------------------|-------------------|----------------|---------|--------------|
| synchronised           | any               | 0              | 3       | ``SBAO``     |
| not synchronised       | not set           | 3 (alarm)      | 16      | ``INIT``     |
| not synchronised       | N (1..15)         | 0              | N       | ``LOCL``     |

Synchronised: the kernel does not say the upstream's stratum; pool servers are stratum 2, so 3 is the gateway's
(a station only needs 1..15). Not synchronised: a station rejects the answer and stays "clock not set", which the
console names — unless the owner chose ``local_stratum`` (as chrony's ``local stratum 10``) for a workshop
without internet: then the gateway's own clock, set by hand, is the workshop's one consistent clock.
"""

from __future__ import annotations

from dataclasses import dataclass

NTP_TO_UNIX_S = 2208988800
PACKET_BYTES = 48
MODE_CLIENT, MODE_SERVER = 3, 4
LEAP_ALARM = 3
STRATUM_SYNCED = 3
STRATUM_UNSYNCED = 16  # "unsynchronised" in NTPv4 (RFC 5905)
POLL = 6  # 64 s, the log2 poll interval we suggest
PRECISION = -10  # about a millisecond: the clock the answer is read from


@dataclass(frozen=True, kw_only=True)
class OwnClock:
    """The gateway's own clock as the kernel knows it."""

    synchronised: bool
    source: str  # how this was learnt ("adjtimex"), or why not
    offset_us: int | None = None  # the last offset the kernel's discipline applied, when known
    max_error_us: int | None = None  # the kernel's maximum error estimate, when known


@dataclass(frozen=True, kw_only=True)
class Stance:
    """What the answers say about the gateway's clock."""

    leap: int
    stratum: int
    ref_id: bytes

    @property
    def usable(self) -> bool:
        """Whether a station (or any SNTP client) will set its clock from such an answer."""
        return self.leap != LEAP_ALARM and 1 <= self.stratum <= 15


def stance(own: OwnClock, local_stratum: int | None) -> Stance:
    """The policy of the table above."""
    if own.synchronised:
        return Stance(leap=0, stratum=STRATUM_SYNCED, ref_id=b"SBAO")
    if local_stratum is not None:
        return Stance(leap=0, stratum=local_stratum, ref_id=b"LOCL")
    return Stance(leap=LEAP_ALARM, stratum=STRATUM_UNSYNCED, ref_id=b"INIT")


def is_client_request(packet: bytes) -> bool:
    """A well-formed SNTP client request: the only packet answered."""
    if len(packet) != PACKET_BYTES:
        return False
    version, mode = packet[0] >> 3 & 0x07, packet[0] & 0x07
    return mode == MODE_CLIENT and 1 <= version <= 4


def ntp_timestamp(unix_ns: int) -> bytes:
    """64-bit NTP timestamp (seconds since 1900, 32-bit fraction)."""
    secs, rem = divmod(unix_ns, 1_000_000_000)
    return ((secs + NTP_TO_UNIX_S) & 0xFFFFFFFF).to_bytes(4, "big") + ((rem << 32) // 1_000_000_000).to_bytes(4, "big")


def answer(request: bytes, *, stance: Stance, received_ns: int, sent_ns: int, reference_ns: int) -> bytes:
    """The server's answer to a request ``is_client_request`` accepted (48 bytes, no more than was asked)."""
    version = request[0] >> 3 & 0x07
    return b"".join((
        bytes((stance.leap << 6 | version << 3 | MODE_SERVER, stance.stratum, POLL, PRECISION & 0xFF)),
        bytes(4),  # root delay: unknown upstream, 0
        (0 if stance.usable else 0xFFFF_FFFF).to_bytes(4, "big"),  # root dispersion: "unknown" when unusable
        stance.ref_id,
        ntp_timestamp(reference_ns) if stance.usable else bytes(8),
        request[40:48],  # originate: the client's transmit timestamp, which it checks
        ntp_timestamp(received_ns),
        ntp_timestamp(sent_ns),
    ))
