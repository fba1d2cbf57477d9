"""Writing a smart label onto a tag (the gateway's `provision` command, or `sebiao label write` over USB).

Loaded only when a label is to be written: a station reads labels every day and writes one when a tool is
enrolled, so the writing code stays out of its heap the rest of the time.
"""

from . import label
from .ntag import USER_BYTES, EMPTY, read_label
from .readers import ReaderError


def encode(tool, kind="", color=""):
    """The bytes to write from page 4, padded to whole pages."""
    for name, value in (("tool", tool), ("kind", kind), ("color", color)):
        if "|" in value or len(value) > label.MAX_FIELD:
            raise label.LabelError("%s: at most %d characters and no '|'" % (name, label.MAX_FIELD))
    if not tool:
        raise label.LabelError("tool: required")
    payload = ("%s|%s|%s|%s" % (label.FORMAT, tool, kind, color)).encode()
    record = bytes([0xD4, len(label.TYPE), len(payload)]) + label.TYPE + payload
    data = bytes([0x03, len(record)]) + record + b"\xfe"
    pad = (-len(data)) % 4
    return data + bytes(pad)


def write_label(reader, tool, kind="", color=""):
    """Write and read back. The first page is emptied first and written last, so
    a tag pulled away half-way holds an empty message, never a mixed one."""
    data = encode(tool, kind, color)
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


def write(station, uid):
    """The armed label onto the tag `uid` (selected during the inventory); the result goes in the status."""
    req = station.provision_req
    tool, kind, color = req[0], req[1], req[2]
    station.provision_req = None
    try:
        got = write_label(station.reader, tool, kind, color)
        station.labels[uid] = got
        station.provision_result = {"tag": uid, "tool": tool, "ok": True}
    except (ReaderError, ValueError) as exc:
        station.provision_result = {"tag": uid, "tool": tool, "ok": False, "error": str(exc)[:60]}
    station.link.status_due = True
