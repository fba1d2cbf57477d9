"""Smart label on an NTAG213/215 through any reader with read4: reading (writing is provision.py)."""

from . import label

USER_BYTES = 144  # NTAG213, the smaller of the two: a label must fit both
EMPTY = b"\x03\x00\xfe\x00"


def read_label(reader):
    """The label dict of the selected tag, or None (blank tag, foreign NDEF)."""
    area = bytearray(reader.read4(label.FIRST_PAGE))
    n = label.tlv_length(area)
    if n == 0 or n > USER_BYTES:
        return None
    page = label.FIRST_PAGE + 4
    while len(area) < n:
        area.extend(reader.read4(page))
        page += 4
    return label.decode(area)

