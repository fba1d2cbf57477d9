"""Which version boots (docs/fleet.md "Boot"). Lives at the flash root next to
main.py and is never changed over the air: whatever a release holds, this
file decides, so a broken release cannot break the way back.

    slot = sebiao_boot.select("")   # "fw_b": import sebiao_station from there; "": the factory version

State files under fw/ (each written to <name>.tmp, then renamed: LittleFS and
POSIX rename atomically, so a power cut leaves the old or the new file):
fw/current ("a"|"b"), fw/trial ({"slot","version","boots"[,"error"]}),
fw/result ({"version","state"[,"error"]}).
"""

import os

SLOTS = ("a", "b")


def path(root, name):
    return root.rstrip("/") + "/" + name if root else name


def exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def read_json(p):
    """The file's JSON object, or None (absent, unreadable, half-written by hand: all the same here)."""
    import json
    try:
        with open(p) as f:
            got = json.load(f)
    except (OSError, ValueError):
        return None
    return got if isinstance(got, dict) else None


def read_text(p):
    try:
        with open(p) as f:
            return f.read().strip()
    except OSError:
        return None


def write_atomic(p, data, checkpoint=None):
    """Replace file p: write p.tmp, rename over p. `checkpoint(name)` between the two (power-cut tests)."""
    import json
    try:
        os.mkdir(p[:p.rfind("/")] if "/" in p else ".")
    except OSError:
        pass
    tmp = p + ".tmp"
    with open(tmp, "w") as f:
        f.write(data if isinstance(data, str) else json.dumps(data))
    if checkpoint is not None:
        checkpoint("tmp " + p[p.rfind("/") + 1:])
    os.rename(tmp, p)


def remove(p):
    try:
        os.remove(p)
    except OSError:
        pass


def unload(*names):
    """Give back the heap of modules done with (the update code after an update, the trial code after
    the confirmation): out of sys.modules and off their package, so the next import loads them again."""
    import sys
    for name in names:
        sys.modules.pop(name, None)
        i = name.rfind(".")
        parent = sys.modules.get(name[:i]) if i > 0 else None
        if parent is not None:
            try:
                delattr(parent, name[i + 1:])
            except (AttributeError, TypeError):
                pass


def slot_dir(root, slot):
    return path(root, "fw_" + slot)


def bootable(root, slot):
    """A slot boots only if its package is there (a slot half-emptied or half-written lacks __init__ last)."""
    d = slot_dir(root, slot) + "/sebiao_station/__init__"
    return slot in SLOTS and (exists(d + ".py") or exists(d + ".mpy"))


def current(root):
    cur = read_text(path(root, "fw/current"))
    return cur if cur in SLOTS else None


def select(root="", checkpoint=None):
    """Decide the version to boot; returns its directory to put first on sys.path ("" = the factory
    version). May write fw/trial (boots 1) and fw/result (rolled_back) on the way."""
    fw = path(root, "fw")
    cur = current(root)
    trial = read_json(fw + "/trial")
    if trial is None and exists(fw + "/trial"):
        remove(fw + "/trial")  # unreadable: no trial (the old version goes on)
    if trial is not None:
        slot = trial.get("slot")
        version = trial.get("version")
        if slot == cur:
            # a power cut after the confirmation wrote fw/current: finish it
            result = read_json(fw + "/result")
            if result is None or result.get("version") != version or result.get("state") != "confirmed":
                write_atomic(fw + "/result", {"version": version, "state": "confirmed"}, checkpoint)
            remove(fw + "/trial")
        elif trial.get("boots", 0) >= 1 or not bootable(root, slot):
            why = trial.get("error") or ("reset before confirming" if bootable(root, slot) else "slot incomplete")
            write_atomic(fw + "/result", {"version": version, "state": "rolled_back", "error": why}, checkpoint)
            if checkpoint is not None:
                checkpoint("boot rolled_back")
            remove(fw + "/trial")
        else:
            trial["boots"] = 1
            write_atomic(fw + "/trial", trial, checkpoint)
            if checkpoint is not None:
                checkpoint("boot trial")
            return slot_dir(root, slot)
    if cur is not None and bootable(root, cur):
        return slot_dir(root, cur)
    return ""
