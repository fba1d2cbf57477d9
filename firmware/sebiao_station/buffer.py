"""Offline event buffer on flash: append-only segment files and a read cursor.

Every event goes through here, online or not, so nothing is lost between the
reader and the broker's PUBACK. Layout under `root`:

    00000001.seg ...   segments: 7-byte header b"SB1" + boot id (4 bytes),
                       then records; a new segment per boot and every
                       `segment_bytes`
    cursor             "segment offset drops", replaced atomically (temp +
                       rename) only after the broker acknowledged a record

Record (binary, ~18 bytes without a label, so >5,000 events per 100 KiB):
    len u8 | flags u8 | seq varint | ts | tag_len u8 tag | [3 x (len u8 text)]
    flags: 1 placed (else removed), 2 label, 4 ts = 6-byte epoch ms,
           8 ts = 4-byte ticks of this boot (clock not set yet; the sender
           turns it into wall time if the clock is set later in the same boot)
A probe's cycle is a long record (it outgrows a length byte):
    0x01 | len u16 (big end) | flags u8 | seq varint | ts | dur_ms u32 |
    interval_s u16 | count u16 | count x temperature i16 (tenths of °C)
    flags: 16 cycle, with 4 or 8 for ts (the end) as above; dur_ms is from
    the first sample to the last, so the start is ts - dur_ms
Events and cycles share one record stream, so they go out in the order they
were recorded, under one sequence number.
When the files pass `max_bytes` the oldest segment goes and its unsent
records are counted in `drops`.
"""

import os

MAGIC = b"SB1"
HEADER = 7
F_PLACED = 1
F_LABEL = 2
F_EPOCH = 4
F_TICKS = 8
F_CYCLE = 16
LONG = 1  # the first byte of a long record (a short one's length byte is at least 2)
LABEL_FIELDS = ("tool", "kind", "color")


def _hex_to_bytes(text):
    return bytes(int(text[i:i + 2], 16) for i in range(0, len(text), 2))


def _bytes_to_hex(data):
    return "".join("%02X" % b for b in data)


def _seq_ts(body, seq, ts, ticks):
    """Append the varint seq and the time; the time's flag bits."""
    n = int(seq)
    while True:  # varint, 7 bits a byte, low first
        byte = n & 0x7F
        n >>= 7
        if n:
            body.append(byte | 0x80)
        else:
            body.append(byte)
            break
    if ts:
        body.extend(int(ts).to_bytes(6, "big"))
        return F_EPOCH
    if ticks is not None:
        body.extend((int(ticks) & 0xFFFFFFFF).to_bytes(4, "big"))
        return F_TICKS
    return 0


def _read_seq_ts(data, flags, i):
    seq = 0
    shift = 0
    while True:
        byte = data[i]
        i += 1
        seq |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    ts = 0
    ticks = None
    if flags & F_EPOCH:
        ts = int.from_bytes(data[i:i + 6], "big")
        i += 6
    elif flags & F_TICKS:
        ticks = int.from_bytes(data[i:i + 4], "big")
        i += 4
    return seq, ts, ticks, i


def encode_record(seq, ts, tag, action, label=None, ticks=None):
    flags = F_PLACED if action == "placed" else 0
    body = bytearray()
    flags |= _seq_ts(body, seq, ts, ticks)
    raw = _hex_to_bytes(tag)
    body.append(len(raw))
    body.extend(raw)
    if label:
        flags |= F_LABEL
        for name in LABEL_FIELDS:
            text = (label.get(name) or "").encode()[:64]
            body.append(len(text))
            body.extend(text)
    return bytes([len(body) + 2, flags]) + bytes(body)  # length counts itself


def encode_cycle(seq, ts, dur_ms, interval_s, temps_dc, ticks=None):
    """A cycle as a long record; ts (or ticks) is its end."""
    body = bytearray()
    flags = F_CYCLE | _seq_ts(body, seq, ts, ticks)
    body.extend((int(dur_ms) & 0xFFFFFFFF).to_bytes(4, "big"))
    body.extend(int(interval_s).to_bytes(2, "big"))
    body.extend(len(temps_dc).to_bytes(2, "big"))
    for t in temps_dc:
        body.extend((int(t) & 0xFFFF).to_bytes(2, "big"))
    n = len(body) + 1
    return bytes([LONG, n >> 8, n & 0xFF, flags]) + bytes(body)


def record_head(data):
    """The bytes in front of a record's data: 3 for a long record, 1 for a short one."""
    return 3 if data[0] & F_CYCLE else 1


def decode_record(data):
    """data = the record without its length byte(s)."""
    flags = data[0]
    seq, ts, ticks, i = _read_seq_ts(data, flags, 1)
    if flags & F_CYCLE:
        dur = int.from_bytes(data[i:i + 4], "big")
        interval = int.from_bytes(data[i + 4:i + 6], "big")
        count = int.from_bytes(data[i + 6:i + 8], "big")
        i += 8
        temps = []
        for k in range(count):
            t = (data[i + 2 * k] << 8) | data[i + 2 * k + 1]
            temps.append(t - 0x10000 if t & 0x8000 else t)
        return {"seq": seq, "ts": ts, "ticks": ticks,
                "cycle": {"dur_ms": dur, "interval_s": interval, "temps_dc": temps}}
    n = data[i]
    tag = _bytes_to_hex(data[i + 1:i + 1 + n])
    i += 1 + n
    label = None
    if flags & F_LABEL:
        label = {}
        for name in LABEL_FIELDS:
            n = data[i]
            if n:
                label[name] = bytes(data[i + 1:i + 1 + n]).decode()
            i += 1 + n
    return {"seq": seq, "ts": ts, "ticks": ticks, "tag": tag,
            "action": "placed" if flags & F_PLACED else "removed", "label": label}


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _size(path):
    return os.stat(path)[6]


class Buffer:
    def __init__(self, root, boot, max_bytes=102400, segment_bytes=8192):
        self.root = root
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes
        self.boot = boot
        if not _exists(root):
            os.mkdir(root)
        self.segments = sorted(int(n[:-4]) for n in os.listdir(root) if n.endswith(".seg"))
        self.sizes = {}
        for s in self.segments:
            self.sizes[s] = _size(self._path(s))
        self.seg, self.off, self.drops = self._read_cursor()
        if not self.segments or self.seg < self.segments[0] or self.seg not in self.sizes:
            self.seg = self.segments[0] if self.segments else 1
            self.off = HEADER
        self.depth = self._count(self.seg, self.off) + sum(
            self._count(s, HEADER) for s in self.segments if s > self.seg)
        self._peeked = None
        self._new_segment()  # each boot writes its own segment

    # files

    def _path(self, seg):
        return "%s/%08d.seg" % (self.root, seg)

    def _read_cursor(self):
        try:
            with open(self.root + "/cursor") as f:
                parts = f.read().split()
            return int(parts[0]), int(parts[1]), int(parts[2])
        except (OSError, ValueError, IndexError):
            return 0, HEADER, 0

    def _write_cursor(self):
        tmp = self.root + "/cursor.tmp"
        with open(tmp, "w") as f:
            f.write("%d %d %d" % (self.seg, self.off, self.drops))
        os.rename(tmp, self.root + "/cursor")

    def _new_segment(self):
        seg = (self.segments[-1] + 1) if self.segments else max(self.seg, 1)
        with open(self._path(seg), "wb") as f:
            f.write(MAGIC + self.boot)
        self.segments.append(seg)
        self.sizes[seg] = HEADER
        if len(self.segments) == 1 or self.seg not in self.sizes:
            self.seg, self.off = seg, HEADER

    @staticmethod
    def _next(f):
        """The next raw record from an open segment, or None at its end (or a torn tail)."""
        n = f.read(1)
        if not n:
            return None
        if n[0] == LONG:
            head = f.read(2)
            if len(head) != 2:
                return None
            size = (head[0] << 8) | head[1]
        elif n[0] < 2:
            return None
        else:
            size = n[0] - 1
        data = f.read(size)
        if size < 1 or len(data) != size:
            return None
        return data

    def _read_at(self, seg, off):
        try:
            with open(self._path(seg), "rb") as f:
                f.seek(off)
                return self._next(f)
        except OSError:
            return None

    def _count(self, seg, off):
        n = 0
        try:
            with open(self._path(seg), "rb") as f:
                f.seek(off)
                while self._next(f) is not None:
                    n += 1
        except OSError:
            pass
        return n

    def _boot_of(self, seg):
        with open(self._path(seg), "rb") as f:
            head = f.read(HEADER)
        return head[3:7] if head[:3] == MAGIC else b"\0\0\0\0"

    def total_bytes(self):
        return sum(self.sizes[s] for s in self.segments)

    # API

    def append(self, seq, ts, tag, action, label=None, ticks=None):
        self._append(encode_record(seq, ts, tag, action, label, ticks))

    def append_cycle(self, seq, ts, dur_ms, interval_s, temps_dc, ticks=None):
        self._append(encode_cycle(seq, ts, dur_ms, interval_s, temps_dc, ticks))

    def _append(self, rec):
        cur = self.segments[-1]
        if self.sizes[cur] + len(rec) > self.segment_bytes:
            self._new_segment()
            cur = self.segments[-1]
        with open(self._path(cur), "ab") as f:
            f.write(rec)
        self.sizes[cur] += len(rec)
        self.depth += 1
        while self.total_bytes() > self.max_bytes and len(self.segments) > 1:
            self._drop_oldest()

    def _drop_oldest(self):
        old = self.segments[0]
        if old == self.seg:
            lost = self._count(self.seg, self.off)
            self.drops += lost
            self.depth -= lost
            self.seg, self.off = self.segments[1], HEADER
            self._peeked = None
            self._write_cursor()
        elif old > self.seg:  # cannot happen: the cursor is never past a segment
            lost = self._count(old, HEADER)
            self.drops += lost
            self.depth -= lost
        os.remove(self._path(old))
        self.segments.pop(0)
        del self.sizes[old]

    def peek(self):
        """The oldest record not yet acknowledged (a dict with "boot"), or None."""
        if self._peeked is not None:
            return self._peeked[1]
        while True:
            data = self._read_at(self.seg, self.off)
            if data is not None:
                rec = decode_record(data)
                rec["boot"] = _bytes_to_hex(self._boot_of(self.seg)).lower()
                self._peeked = (self.off + record_head(data) + len(data), rec)
                return rec
            # segment exhausted: move on unless it is the one being written
            if self.seg == self.segments[-1]:
                return None
            self._advance_segment()

    def _advance_segment(self):
        old = self.seg
        i = self.segments.index(old)
        self.seg, self.off = self.segments[i + 1], HEADER
        self._write_cursor()
        os.remove(self._path(old))
        self.segments.pop(i)
        del self.sizes[old]

    def ack(self):
        """The peeked record reached the broker: move the cursor past it."""
        if self._peeked is None:
            return
        self.off = self._peeked[0]
        self._peeked = None
        self.depth -= 1
        self._write_cursor()
        if self.off >= self.sizes[self.seg] and self.seg != self.segments[-1]:
            self._advance_segment()
