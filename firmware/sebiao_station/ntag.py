"""Smart label on an NTAG213/215 through any reader with read4/write_page."""

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


def write_label(reader, tool, kind="", color=""):
    """Write and read back. The first page is emptied first and written last, so
    a tag pulled away half-way holds an empty message, never a mixed one."""
    data = label.encode(tool, kind, color)
    if len(data) > USER_BYTES:
        raise label.LabelError("label too long for an NTAG213")
    first = label.FIRST_PAGE
    reader.write_page(first, EMPTY)
    for i in range(4, len(data), 4):
        reader.write_page(first + i // 4, data[i:i + 4])
    reader.write_page(first, data[0:4])
    got = read_label(reader)
    want = label.decode(data)
    if got != want:
        raise label.LabelError("read back %r, wrote %r" % (got, want))
    return got
