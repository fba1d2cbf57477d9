"""Updates over Wi-Fi on the station (docs/fleet.md): signature, manifest checks, download into the
slot, switch, trial, confirmation, rollback (power cuts: test_fw_update_power.py). Runs under CPython
and MicroPython (the signed vectors come from tests/vectors/release_v1.json)."""

import json

from fwrelease import (
    APP,
    PREFIX,
    UpdateBoard,
    V,
    boot_station,
    downloaded,
    flash,
    routes,
    run_until_reset,
    send,
    slot_ok,
    station_config,
    unhex,
    update_cmd,
    updates,
)
from fwsupport import MICROPYTHON, exists, read_json, run_for, tempdir
from sebiao_boot import read_text, select, write_atomic
from sebiao_station import VERSION, release, update
from sebiao_station.app import Station

# ---- the signature (RFC 8017 §8.2.2)

def test_signature_made_with_cryptography_is_accepted_and_others_are_not():
    m = V["manifest"].encode()
    sig = unhex(V["sig"])
    assert release.verify(m, sig, V["key"])
    assert not release.verify(m, unhex(V["other_key_sig"]), V["key"])  # another key
    assert not release.verify(V["tampered_manifest"].encode(), sig, V["key"])  # other bytes
    for i in (0, 100, 255):
        bad = bytearray(sig)
        bad[i] ^= 0x01
        assert not release.verify(m, bytes(bad), V["key"]), i
    assert not release.verify(m, sig[:255], V["key"])
    assert not release.verify(m, sig + b"\x00", V["key"])
    n = int(V["key"]["n"], 16)
    assert not release.verify(m, n.to_bytes(256, "big"), V["key"])  # s >= n
    assert not release.verify(m, sig, {"e": 3, "n": V["key"]["n"]})
    assert not release.verify(m, sig, {"e": 65537, "n": "zz"})
    assert not release.verify(m, sig, {"e": 65537, "n": "%x" % (n >> 8)})  # not 2048 bits
    assert not release.verify(m, sig, {})


def test_signature_from_a_fresh_key_in_cpython():
    if MICROPYTHON:
        return  # cryptography is CPython's: the committed vectors stand in for it here
    import release_signing
    key = release_signing.new_key()
    data = b'{"v":1}' * 50
    assert release.verify(data, release_signing.sign(key, data), release_signing.public_dict(key))
    assert not release.verify(data + b" ", release_signing.sign(key, data), release_signing.public_dict(key))


def test_three_argument_pow_works_here():
    # RSA verification is pow(s, 65537, n) on 2048-bit integers: check the interpreter has it
    n = (1 << 2047) + 12345678901
    s = (1 << 2000) + 99
    x = s
    for _ in range(16):
        x = x * x % n
    assert pow(s, 65537, n) == x * s % n


# ---- the manifest

def manifest(files, version="0.2.0", v=1):
    return json.dumps({"v": v, "version": version, "files": files}).encode()


def entry(path="sebiao_station/__init__.py", size=10, sha="a" * 64):
    return {"path": path, "size": size, "sha256": sha}


def fails(data, expected, version="0.2.0"):
    try:
        release.check_manifest(data, version)
    except release.Failed as exc:
        assert exc.args[0] == expected, (exc.args[0], expected)
    else:
        raise AssertionError("accepted %r" % (data,))


def test_manifest_checks():
    init = entry()
    got = release.check_manifest(manifest([init, entry("sebiao_station/readers/pn532.py", 65536)]), "0.2.0")
    assert got == [("sebiao_station/__init__.py", 10, "a" * 64), ("sebiao_station/readers/pn532.py", 65536, "a" * 64)]
    for bad in ("../main.py", "sebiao_station/../main.py", "/sebiao_station/x.py", "sebiao_station//x.py",
                "sebiao_station/./x.py", "sebiao_station/a b.py", "main.py", "sebiao_boot.py", "fw/current",
                "sebiao_station/", "sebiao_station/x\\y.py", "sebiao_station/é.py", "sebiao_station", 7, None,
                "sebiao_station/" + "x" * 120):
        fails(manifest([init, entry(bad)]), "manifest path")
    fails(manifest([init, init]), "manifest path")
    for size in (-1, 65537, "10", 1.5, None):
        fails(manifest([init, entry("sebiao_station/x.py", size)]), "manifest size sebiao_station/x.py")
    fails(manifest([init] + [entry("sebiao_station/f%d.py" % i, 65536) for i in range(8)]), "manifest total")
    fails(manifest([init] + [entry("sebiao_station/f%d.py" % i, 1) for i in range(64)]), "manifest files")
    fails(manifest([]), "manifest files")
    for sha in ("A" * 64, "a" * 63, "g" * 64, 5):
        fails(manifest([entry(sha=sha)]), "manifest sha256 sebiao_station/__init__.py")
    fails(manifest([entry("sebiao_station/app.py")]), "manifest no sebiao_station/__init__")
    fails(manifest([init], version="0.3.0"), "manifest version")
    fails(manifest([init], v=2), "manifest v")
    fails(b"[1,2]", "manifest v")
    fails(b"{not json", "manifest json")
    fails(b"\xff\xfe", "manifest json")


# ---- refusals

def test_refusals_say_why():
    root = flash()
    board, st = boot_station(root)
    run_for(st, 500)
    send(board, update_cmd(VERSION))
    run_for(st, 200)
    assert st.update == {"version": VERSION, "state": "refused", "error": "same version"}
    assert updates(board)[-1] == st.update  # the status goes out at once
    for bad in (update_cmd("0.2.0", port=0), update_cmd("0.2.0", path="/fw/x y/"), update_cmd("0.2.0", path="fw/"),
                update_cmd(5), update_cmd("0.2.0", host="a\r\nX: y")):
        send(board, bad)
        run_for(st, 200)
        assert st.update["state"] == "refused" and st.update["error"] == "bad command", (bad, st.update)
    board.broker.ack_publish = False  # an event stays unsent
    from sebiao_sim.iso14443 import Card
    board.field.place(Card("04A224E2C65E80"))
    run_for(st, 1000)
    assert st.buffer.depth > 0
    send(board, update_cmd("0.2.0"))
    run_for(st, 200)
    assert st.update["error"] == "unsent events", st.update
    assert st.updater is None and board.http.requests == []


def test_refused_during_a_probe_cycle_and_while_busy():
    root = flash()
    board = UpdateBoard(fs_root=root, routes=routes(V))
    st = Station(board, station_config(probe={}))
    st.start()
    board.probe.temp_c = 90.0
    run_for(st, 12000)
    assert st.probe.detector.running
    send(board, update_cmd("0.2.0"))
    run_for(st, 200)
    assert st.update["error"] == "probe cycle", st.update
    board.probe.temp_c = 20.0
    run_for(st, 12000)
    assert not st.probe.detector.running and st.buffer.depth == 0
    board.http.chunk = 1  # a slow server: the download takes many passes
    send(board, update_cmd("0.2.0"))
    st.step()
    assert st.updater is not None
    send(board, update_cmd("0.3.0"))
    st.step()
    assert st.update["error"] == "busy", st.update


# ---- the whole way: download, switch, trial, confirmation

def test_download_switch_trial_confirm():
    root, board, st = downloaded()
    assert read_json(root + "/fw/trial") == {"slot": "a", "version": "0.2.0", "boots": 0}
    assert slot_ok(root, "a")
    seen = updates(board)
    assert {"version": "0.2.0", "state": "downloading", "done": 0, "of": 3} in seen, seen
    assert seen[-1] == {"version": "0.2.0", "state": "switching"}
    assert board.http.requests[:3] == ["GET %s%s HTTP/1.0" % (PREFIX, n)
                                       for n in ("manifest.json", "manifest.sig", "files/sebiao_station/__init__.py")]
    assert board.fed > 3  # every pass of the download fed the watchdog
    # the reset: the boot picks the new slot, once
    assert select(root) == root + "/fw_a"
    assert read_json(root + "/fw/trial")["boots"] == 1
    board, st = boot_station(root)
    assert st.updater is not None and st.health()["update"] == {"version": "0.2.0", "state": "trial"}
    run_for(st, 2000)
    assert st.updater is None
    assert read_text(root + "/fw/current") == "a" and not exists(root + "/fw/trial")
    assert read_json(root + "/fw/result") == {"version": "0.2.0", "state": "confirmed"}
    assert updates(board)[-1] == {"version": "0.2.0", "state": "confirmed"}
    assert select(root) == root + "/fw_a"  # and from now on
    import sys
    assert "sebiao_station.trial" not in sys.modules  # its heap is back
    # the next update goes into the other slot; the confirmed one is left alone
    board, st = boot_station(root, http=routes(V))
    run_for(st, 500)
    send(board, update_cmd("0.2.0"))  # this boot still runs the test's VERSION: not refused as "same"
    assert run_until_reset(st)
    assert read_json(root + "/fw/trial")["slot"] == "b" and slot_ok(root, "b") and slot_ok(root, "a")


def test_the_update_code_loads_only_when_asked():
    import sys
    for name in ("sebiao_station.update", "sebiao_station.trial"):
        sys.modules.pop(name, None)
    board, st = boot_station(flash())
    run_for(st, 1000)
    assert "sebiao_station.update" not in sys.modules and "sebiao_station.trial" not in sys.modules
    assert "update" not in st.health()


# ---- failures: the old version runs on

def failed_with(http_fault, expected, vec=V):
    root = flash(vec)
    http = routes(vec)
    board, st = boot_station(root, http=http)
    http_fault(board.http, http)
    run_for(st, 500)
    send(board, update_cmd("0.2.0"))
    t0 = st.clock.ticks_ms()
    st.step()
    for _ in range(3000):  # passes (a slow server makes each take fake seconds)
        if st.updater is None:
            break
        st.step()
        st.clock.advance(50)
    assert st.clock.ticks_diff(st.clock.ticks_ms(), t0) < 16 * 60000  # never past the download's deadline
    run_for(st, 200)  # the status goes out
    assert st.update == {"version": "0.2.0", "state": "failed", "error": expected}, (st.update, expected)
    assert updates(board)[-1] == st.update
    assert read_json(root + "/fw/result") == st.update
    assert not exists(root + "/fw/trial") and select(root) == ""
    assert st.updater is None
    import sys
    assert "sebiao_station.update" not in sys.modules  # its heap is back
    return board, st


def test_corrupted_download_fails_on_its_hash():
    def corrupt(server, http):
        body = bytearray(http[PREFIX + "files/" + APP])
        body[100] ^= 0x20
        http[PREFIX + "files/" + APP] = bytes(body)
    board, st = failed_with(corrupt, "hash " + APP)
    # the station goes on: events flow
    from sebiao_sim.iso14443 import Card
    board.field.place(Card("04A224E2C65E80"))
    run_for(st, 1500)
    assert board.broker.events()[-1]["action"] == "placed"


def test_bad_signature_fails_before_any_file():
    def resign(server, http):
        http[PREFIX + "manifest.sig"] = unhex(V["other_key_sig"])
    board, st = failed_with(resign, "signature")
    assert [r for r in board.http.requests if "/files/" in r] == []


def test_http_faults():
    f = PREFIX + "files/" + APP
    cases = (
        (lambda s, h: s.status.update({f: 404}), "http 404"),
        (lambda s, h: s.no_length.add(f), "http length"),
        (lambda s, h: s.length.update({f: len(h[f]) + 1}), "size " + APP),
        (lambda s, h: s.truncate.update({f: 10}), "size " + APP),  # the server closes early
        (lambda s, h: h.update({f: h[f] + b"x"}), "size " + APP),  # more than it said
        (lambda s, h: s.stall.add(f), "timeout"),
        (lambda s, h: s.slow.update({f: 2000}), "timeout"),  # a byte every 2 s: past 15 minutes within the file
        (lambda s, h: setattr(s, "head_junk", 2000), "http header"),
        (lambda s, h: s.length.update({PREFIX + "manifest.sig": 257}), "size manifest.sig"),
        (lambda s, h: h.update({PREFIX + "manifest.json": b" " * 8193}), "size manifest.json"),
        (lambda s, h: setattr(s, "up", False), "network 111"),
    )
    for fault, expected in cases:
        failed_with(fault, expected)


def test_a_gateway_restarting_during_the_download_is_waited_for():
    # the gateway keeps the download's token across its restart (docs/fleet.md): a request refused while it
    # restarts is made again RETRY_MS later, the file written from its start
    root = flash()
    board, st = boot_station(root, http=routes(V))
    run_for(st, 500)
    send(board, update_cmd("0.2.0"))
    while len([r for r in board.http.requests if "/files/" in r]) < 2:
        st.step()
        st.clock.advance(50)
    board.http.up = False
    run_for(st, 2 * update.RETRY_MS + 1000)  # refused three times
    assert st.update["state"] == "downloading" and st.updater is not None, updates(board)
    board.http.up = True
    assert run_until_reset(st), updates(board)
    assert slot_ok(root, "a") and read_json(root + "/fw/trial")["version"] == "0.2.0"


def test_no_release_key_no_update():
    root = tempdir()
    board, st = boot_station(root)
    run_for(st, 500)
    send(board, update_cmd("0.2.0"))
    run_for(st, 3000)
    assert st.update["error"] == "no release key" and select(root) == ""


def test_a_failed_attempt_leaves_a_slot_that_never_boots_and_the_next_empties_it():
    def corrupt(server, http):
        http[PREFIX + "files/sebiao_station/readers/__init__.py"] = b"# readerz\n"
    root = flash()
    board, st = boot_station(root, http=routes(V))
    corrupt(board.http, board.http.routes)
    run_for(st, 500)
    send(board, update_cmd("0.2.0"))
    run_for(st, 5000)
    assert st.update["state"] == "failed" and exists(root + "/fw_a/sebiao_station/__init__.py")
    assert select(root) == ""  # no fw/trial, no fw/current: the factory version
    with open(root + "/fw_a/sebiao_station/stale.py", "w") as f:
        f.write("x")
    downloaded(root)
    assert not exists(root + "/fw_a/sebiao_station/stale.py") and slot_ok(root, "a")


# ---- the trial that does not confirm

def test_no_broker_after_the_switch_resets_at_120_s_and_rolls_back():
    root, board, st = downloaded()
    assert select(root) == root + "/fw_a"
    board, st = boot_station(root, broker_up=False)
    t0 = st.clock.ticks_ms()
    assert run_until_reset(st, 130000)
    assert 120000 <= st.clock.ticks_diff(st.clock.ticks_ms(), t0) < 121000
    assert read_json(root + "/fw/trial")["error"] == "not confirmed in 120 s: no broker"
    assert select(root) == ""  # rolled back to the version before (the factory one)
    assert read_json(root + "/fw/result") == {"version": "0.2.0", "state": "rolled_back",
                                              "error": "not confirmed in 120 s: no broker"}
    assert not exists(root + "/fw/trial")
    board, st = boot_station(root)
    run_for(st, 1000)
    assert st.updater is None and updates(board)[-1]["state"] == "rolled_back"


def test_a_trial_that_resets_before_confirming_is_rolled_back():
    root, board, st = downloaded()
    select(root)  # boots 1
    assert select(root) == ""  # it reset (crash, watchdog, power) before confirming
    assert read_json(root + "/fw/result")["state"] == "rolled_back"


def test_select_boots_the_factory_version_when_a_slot_is_incomplete():
    root = tempdir()
    assert select(root) == ""
    write_atomic(root + "/fw/current", "b")
    assert select(root) == ""  # fw_b has no sebiao_station/__init__
    write_atomic(root + "/fw/trial", {"slot": "a", "version": "0.2.0", "boots": 0})
    assert select(root) == ""
    assert read_json(root + "/fw/result") == {"version": "0.2.0", "state": "rolled_back", "error": "slot incomplete"}
    with open(root + "/fw/trial", "w") as f:
        f.write("{half")
    assert select(root) == "" and not exists(root + "/fw/trial")


def test_a_failed_trial_rolls_back_to_the_confirmed_slot_not_the_factory_one():
    root, board, st = downloaded()
    select(root)
    board, st = boot_station(root)
    run_for(st, 2000)
    assert read_text(root + "/fw/current") == "a"
    root, board, st = downloaded(root)  # the next release goes into b
    assert read_json(root + "/fw/trial")["slot"] == "b"
    assert select(root) == root + "/fw_b"
    board, st = boot_station(root, broker_up=False)
    assert run_until_reset(st, 130000)
    assert select(root) == root + "/fw_a" and slot_ok(root, "a")
    assert read_json(root + "/fw/result")["state"] == "rolled_back"
