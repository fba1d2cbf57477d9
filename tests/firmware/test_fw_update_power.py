"""A power cut at every step of an update over Wi-Fi (docs/fleet.md "Power cut at any step"): the
board's checkpoint raises PowerCut there, and the next sebiao_boot.select must boot a version that
works: the old one before the switch, the new one on trial after it, and a rollback if the trial
does not confirm. Runs under CPython and MicroPython."""

from fwrelease import PowerCut, UpdateBoard, boot_station, downloaded, flash, send, slot_ok, update_cmd
from fwsupport import exists, read_json, run_for, tempdir
from sebiao_boot import read_text, select, write_atomic

# ---- a power cut at every checkpoint

def checkpoints():
    """Every (name, nth) the update and the confirmation pass through, in a run without cuts."""
    root, board, st = downloaded()
    names = [(n, board.passed[n]) for n in board.order]
    select(root)
    board, st = boot_station(root)
    run_for(st, 2000)
    return names, [(n, board.passed[n]) for n in board.order]


def boots_a_working_version(root):
    """After the cut: the next boot picks the old version or a complete new one, never a half."""
    chosen = select(root)
    if chosen:
        assert chosen == root + "/fw_a" and slot_ok(root, "a"), chosen
    return chosen


def test_power_cut_at_every_step_of_the_download_and_switch():
    names, _ = checkpoints()
    assert [n for n, _ in names] == ["update emptied", "update chunk", "update file", "tmp trial", "update trial"]
    for name, count in names:
        for nth in range(1, count + 1):
            cut = "%s#%d" % (name, nth)
            root = flash()
            board, st = boot_station(root, cut=cut)
            run_for(st, 500)
            send(board, update_cmd("0.2.0"))
            try:
                run_for(st, 20000)
            except PowerCut:
                pass
            else:
                raise AssertionError("no cut at " + cut)
            chosen = boots_a_working_version(root)
            if name == "update trial":
                assert chosen == root + "/fw_a", cut  # the switch is done: the new version tries once
            else:
                assert chosen == "" and not exists(root + "/fw/trial"), cut
                # the next boot says the attempt was lost (the gateway ends it at once, not by its timeout)
                assert read_json(root + "/fw/result") == {"version": "0.2.0", "state": "failed",
                                                          "error": "reset during the download"}, cut
                board, st = boot_station(root)
                run_for(st, 500)
                assert st.update == {"version": "0.2.0", "state": "failed", "error": "reset during the download"}
                downloaded(root)  # and the next attempt works
                assert slot_ok(root, "a"), cut


def test_power_cut_at_every_step_of_the_confirmation():
    _, names = checkpoints()
    assert [n for n, _ in names] == ["tmp current", "confirm current", "tmp result", "confirm result",
                                     "confirm done"], names
    for name, _ in names:
        root, board, st = downloaded()
        select(root)
        board, st = boot_station(root, cut=name)
        try:
            run_for(st, 2000)
        except PowerCut:
            pass
        else:
            raise AssertionError("no cut at " + name)
        chosen = boots_a_working_version(root)
        result = read_json(root + "/fw/result")
        if name == "tmp current":  # cut before the confirmation took: counted as a failed try
            assert chosen == "" and result["state"] == "rolled_back", (name, result)
        else:
            assert chosen == root + "/fw_a" and result == {"version": "0.2.0", "state": "confirmed"}, (name, result)
        assert not exists(root + "/fw/trial")


def test_power_cut_while_booting_and_at_the_trial_timeout():
    for cut, expect_new in (("tmp trial", True), ("boot trial", False)):
        root, board, st = downloaded()
        try:
            select(root, UpdateBoard(fs_root=root, cut=cut).checkpoint)
        except PowerCut:
            pass
        # "tmp trial": boots stayed 0, the trial runs; "boot trial": it was counted, so it rolls back
        assert (boots_a_working_version(root) == root + "/fw_a") == expect_new, cut
    for cut in ("tmp trial", "trial timeout"):
        root, board, st = downloaded()
        select(root)
        board, st = boot_station(root, cut=cut, broker_up=False)
        try:
            run_for(st, 130000)
        except PowerCut:
            pass
        assert boots_a_working_version(root) == ""
        assert read_json(root + "/fw/result")["state"] == "rolled_back"


def test_write_atomic_leaves_old_or_new():
    root = tempdir()
    p = root + "/fw/current"
    write_atomic(p, "a")

    def cut(name):
        raise PowerCut(name)
    try:
        write_atomic(p, "b", cut)
    except PowerCut:
        pass
    assert read_text(p) == "a"
    write_atomic(p, "b")
    assert read_text(p) == "b" and not exists(p + ".tmp")
