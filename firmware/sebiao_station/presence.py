"""Presence of the tags on one reader, per UID, debounced. Pure logic: no I/O.

The reader runs one inventory per poll cycle and reports the UIDs it read
validly, and whether the cycle was *clean* (nothing answered that it could not
read: no CRC, parity or collision error, no chip fault, not cut short by the
per-cycle maximum).

A tag is present as soon as its UID is read. A present tag is absent only after
`misses` consecutive clean cycles without it AND `absent_ms` since it was last
seen: a tag at the edge of the field drops single polls, and a rack must never
flap. A cycle that was not clean may have hidden any tag, so it is not a miss
for anyone (and breaks every miss streak); it does not count as seeing them
either.
"""

# What one single-tag poll saw (poll() of the drivers).
SEEN = 0  # a valid UID
MISS = 1  # clean: nothing answered
NOISE = 2  # an answer that failed CRC/parity, or a collision


class Inventory:
    def __init__(self, misses=3, absent_ms=600):
        self.need_misses = misses
        self.absent_ms = absent_ms
        self.tags = {}  # uid -> [misses, last seen tick]

    def present(self):
        return list(self.tags)

    def update(self, now_ms, uids, clean=True, diff=None):
        """Feed one cycle: the UIDs read, and whether the cycle was clean.
        Returns a list of (action, uid) to send, in order: placements in the
        order the tags were read, then removals.

        `diff(a, b)` is the tick difference (ticks_diff on MicroPython)."""
        if diff is None:
            diff = _sub
        out = []
        tags = self.tags
        for uid in uids:
            t = tags.get(uid)
            if t is None:
                tags[uid] = [0, now_ms]
                out.append(("placed", uid))
            else:
                t[0] = 0
                t[1] = now_ms
        gone = None
        for uid in tags:
            if uid in uids:
                continue
            t = tags[uid]
            if not clean:
                t[0] = 0  # something answered that we could not read: still there
                continue
            t[0] += 1
            if t[0] >= self.need_misses and diff(now_ms, t[1]) >= self.absent_ms:
                if gone is None:
                    gone = []
                gone.append(uid)
        if gone is not None:
            for uid in gone:
                del tags[uid]
                out.append(("removed", uid))
        return out


def _sub(a, b):
    return a - b
