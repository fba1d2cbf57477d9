"""Smart label: one NDEF record on an NTAG213/215 holding tool id, kind, colour.

Layout of the user memory from page 4 (NFC Forum Type 2 Tag):

    03 LL                 NDEF Message TLV, LL = length of the message (< 255)
    D4 0B PL              record header: MB ME SR, TNF=4 (NFC Forum external type),
                          type length 11, payload length PL
    "sebiao:tool"         the type
    "1|KN-R-01|knife|red" payload, UTF-8: format version, tool id, kind, colour
    FE                    Terminator TLV

Phones show it as an external record; the station reads it with two or three
READ commands. See firmware/README.md. Writing one (`encode`) is provision.py's, loaded only for that.
"""

TYPE = b"sebiao:tool"
FORMAT = "1"
FIRST_PAGE = 4
MAX_FIELD = 32
# user pages of the tags we write (NTAG213: 4..39, NTAG215: 4..129)
USER_BYTES = {"ntag213": 144, "ntag215": 504}


class LabelError(ValueError):
    pass


def tlv_length(head):
    """Bytes of the TLV area worth reading, from its first 16 bytes (one READ).

    Returns the count of bytes from page 4 through the end of the NDEF TLV, or 0
    when the tag holds no NDEF message."""
    i = 0
    while i < len(head):
        t = head[i]
        if t == 0x00:  # NULL TLV
            i += 1
            continue
        if t == 0xFE or i + 1 >= len(head):
            return 0
        if head[i + 1] == 0xFF:
            if i + 3 >= len(head):
                return 0
            length = (head[i + 2] << 8) | head[i + 3]
            body = i + 4
        else:
            length = head[i + 1]
            body = i + 2
        if t == 0x03:
            return body + length
        i = body + length  # lock / memory control TLVs
    return 0


def decode(area):
    """{"tool","kind","color"} from the TLV area, or None when it is not our label."""
    n = tlv_length(area)
    if n == 0 or n > len(area):
        return None
    start = n - _message_length(area, n)
    msg = area[start:n]
    i = 0
    while i + 3 <= len(msg):
        header = msg[i]
        tnf = header & 0x07
        short = header & 0x10
        has_id = header & 0x08
        type_len = msg[i + 1]
        if short:
            pay_len = msg[i + 2]
            j = i + 3
        else:
            if i + 6 > len(msg):
                return None
            pay_len = (msg[i + 2] << 24) | (msg[i + 3] << 16) | (msg[i + 4] << 8) | msg[i + 5]
            j = i + 6
        id_len = 0
        if has_id:
            id_len = msg[j]
            j += 1
        rtype = bytes(msg[j:j + type_len])
        payload = bytes(msg[j + type_len + id_len:j + type_len + id_len + pay_len])
        if tnf == 0x04 and rtype == TYPE:
            return _parse_payload(payload)
        if header & 0x40:  # ME: last record
            return None
        i = j + type_len + id_len + pay_len
    return None


def _message_length(area, end):
    # walk again to learn where the message body starts (1- or 3-byte length)
    i = 0
    while i < end:
        if area[i] == 0x00:
            i += 1
            continue
        if area[i + 1] == 0xFF:
            body, length = i + 4, (area[i + 2] << 8) | area[i + 3]
        else:
            body, length = i + 2, area[i + 1]
        if area[i] == 0x03:
            return length
        i = body + length
    return 0


def _parse_payload(payload):
    try:
        parts = payload.decode().split("|")
    except UnicodeError:
        return None
    if len(parts) != 4 or parts[0] != FORMAT or not parts[1]:
        return None
    out = {"tool": parts[1]}
    if parts[2]:
        out["kind"] = parts[2]
    if parts[3]:
        out["color"] = parts[3]
    return out
