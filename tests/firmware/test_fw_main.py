"""firmware/main.py, the ESP32's entry, run with a fake `machine` in a temporary flash: it boots the
slot sebiao_boot picks, and a version on trial that raises is noted in fw/trial and reset, so the
next boot rolls it back."""

import os
import sys

import fake_machine
import fwsupport
from sebiao_boot import read_json, select, write_atomic


class _Entry:
    """Stands in for sebiao_station.esp32_board: its main() raises, or returns (the loop ended)."""

    def __init__(self, exc=None):
        self.exc = exc
        self.ran = 0

    def main(self):
        self.ran += 1
        if self.exc is not None:
            raise self.exc


def _boot(flash, entry):
    """Run main.py with `flash` as the current directory; returns (what it raised or None, sys.path[0])."""
    saved = {}
    for name in ("machine", "sebiao_station.esp32_board"):
        saved[name] = sys.modules.get(name)
    sys.modules["machine"] = fake_machine
    sys.modules["sebiao_station.esp32_board"] = entry
    path = list(sys.path)
    cwd = os.getcwd()
    os.chdir(flash)
    del fake_machine.LOG[:]
    raised = None
    try:
        with open(fwsupport.FIRMWARE + "/main.py") as f:
            code = f.read()
        try:
            exec(code, {"__name__": "__main__"})
        except Exception as exc:
            raised = exc
        first = sys.path[0]
    finally:
        os.chdir(cwd)
        sys.path[:] = path
        for name in saved:
            if saved[name] is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = saved[name]
    return raised, first


def _flash_with_trial():
    flash = fwsupport.tempdir()
    os.mkdir(flash + "/fw_a")
    os.mkdir(flash + "/fw_a/sebiao_station")
    with open(flash + "/fw_a/sebiao_station/__init__.py", "w") as f:
        f.write('VERSION = "0.2.0"\n')
    write_atomic(flash + "/fw/trial", {"slot": "a", "version": "0.2.0", "boots": 0})
    return flash


def test_main_boots_the_trial_slot_and_a_crash_resets_into_a_rollback():
    flash = _flash_with_trial()
    entry = _Entry(RuntimeError("broken release"))
    raised, first = _boot(flash, entry)
    assert entry.ran == 1 and first == "/fw_a"
    assert ("reset",) in fake_machine.LOG
    assert isinstance(raised, RuntimeError)  # (the fake reset returns; a real one does not)
    assert read_json(flash + "/fw/trial") == {"slot": "a", "version": "0.2.0", "boots": 1,
                                              "error": "crash RuntimeError"}
    assert select(flash) == ""
    assert read_json(flash + "/fw/result") == {"version": "0.2.0", "state": "rolled_back",
                                               "error": "crash RuntimeError"}


def test_main_without_a_trial_does_not_reset_on_a_crash():
    flash = fwsupport.tempdir()
    entry = _Entry(ValueError("bug"))
    raised, first = _boot(flash, entry)
    assert isinstance(raised, ValueError) and ("reset",) not in fake_machine.LOG
    assert first != "/fw_a"
    entry = _Entry()
    raised, first = _boot(flash, entry)
    assert raised is None and entry.ran == 1
