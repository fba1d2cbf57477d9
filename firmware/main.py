# ESP32 entry point: copied to the board's flash root with sebiao_boot.py and sebiao_station/.
# sebiao_boot picks the version (docs/fleet.md "Boot"): a slot that came over the air, or the factory one.
import sys

import sebiao_boot

slot = sebiao_boot.select("")
if slot:
    sys.path.insert(0, "/" + slot)  # its sebiao_station goes before the factory one at the root
del sebiao_boot  # its heap goes back to the station (update.py and trial.py import it again when needed)
del sys.modules["sebiao_boot"]
try:
    from sebiao_station.esp32_board import main

    main()
except Exception as exc:
    import sebiao_boot

    if sebiao_boot.exists("fw/trial"):
        # a trial that crashes: note why, reset, and the next boot rolls back (boots is 1)
        trial = sebiao_boot.read_json("fw/trial") or {}
        trial["error"] = "crash " + type(exc).__name__
        sebiao_boot.write_atomic("fw/trial", trial)
        import machine

        machine.reset()
    raise
