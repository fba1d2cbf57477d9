"""Presence of one tag on one reader, debounced. Pure logic: no I/O.

A tag is present as soon as a valid UID is read. It is absent only after
`misses` consecutive clean misses (no answer at all) AND `absent_ms` since it
was last seen: a tag at the edge of the field drops single polls, and a
rack must never flap. CRC, parity and collision errors mean something is in
the field: they are not misses (and they do not count as seeing the tag).
"""

# What one poll of the reader saw.
SEEN = 0  # a valid UID
MISS = 1  # clean: nothing answered
NOISE = 2  # an answer that failed CRC/parity, or a collision


class Presence:
    def __init__(self, misses=3, absent_ms=600):
        self.need_misses = misses
        self.absent_ms = absent_ms
        self.uid = None
        self.misses = 0
        self.last_seen = 0

    def update(self, now_ms, kind, uid=None, diff=None):
        """Feed one poll; returns a list of (action, uid) to send, oldest first.

        `diff(a, b)` is the tick difference (ticks_diff on MicroPython)."""
        if diff is None:
            diff = _sub
        out = []
        if kind == SEEN:
            if self.uid != uid:
                if self.uid is not None:
                    # another tag replaced ours between polls: ours left first
                    out.append(("removed", self.uid))
                self.uid = uid
                out.append(("placed", uid))
            self.misses = 0
            self.last_seen = now_ms
        elif kind == MISS:
            if self.uid is not None:
                self.misses += 1
                if self.misses >= self.need_misses and diff(now_ms, self.last_seen) >= self.absent_ms:
                    out.append(("removed", self.uid))
                    self.uid = None
                    self.misses = 0
        else:  # NOISE: still there; a miss streak is broken
            self.misses = 0
        return out


def _sub(a, b):
    return a - b
