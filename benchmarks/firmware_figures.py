"""Firmware figures measured under real MicroPython (the WebAssembly port, in Node):

    .venv/bin/python benchmarks/firmware_figures.py

prints heap used by the application after start-up (gc.mem_alloc after the
firmware modules are imported and a station has started and sent an event),
the application's logic cost per poll with 1 and with 4 tags on the reader (a
pass of the main loop with a stub reader, so the simulated SPI is not
counted), the MFRC522 bus time of one inventory cycle with 1 and 4 tags, and
how many events the offline buffer holds per 100 KiB of flash.
Installs the npm package (npm ci) when it is missing.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

WASM = Path(__file__).resolve().parents[1] / "tests" / "firmware" / "wasm"


def main() -> int:
    if shutil.which("node") is None:
        print("node is needed (Debian: apt-get install nodejs npm)", file=sys.stderr)
        return 2
    if not (WASM / "node_modules" / "@micropython").exists():
        subprocess.run(["npm", "ci", "--prefix", str(WASM), "--no-audit", "--no-fund"], check=True)
    run = subprocess.run(["node", str(WASM / "run.mjs"), "--bench"], capture_output=True, text=True,
                         cwd=WASM, timeout=600)
    line = next((x for x in run.stdout.splitlines() if x.startswith("FIGURES ")), None)
    if run.returncode != 0 or line is None:
        print(run.stdout[-3000:], run.stderr[-3000:], file=sys.stderr)
        return 1
    figures = json.loads(line[len("FIGURES "):])
    rows = (
        ("runtime", "runtime", ""),
        ("heap used by the application after start-up", "heap_app_bytes", "bytes"),
        ("  of which imported code (bytecode from .py)", "heap_code_bytes", "bytes"),
        ("  of which station objects", "heap_objects_bytes", "bytes"),
        ("logic cost per poll, 1 tag (main-loop pass, stub reader)", "logic_us_per_poll_1_tags", "us"),
        ("logic cost per poll, 4 tags (main-loop pass, stub reader)", "logic_us_per_poll_4_tags", "us"),
        ("presence debounce per update, 1 tag", "presence_us_per_update_1_tags", "us"),
        ("presence debounce per update, 4 tags", "presence_us_per_update_4_tags", "us"),
        ("MFRC522 transceives per cycle, 1 tag resting", "mfrc522_transceives_per_cycle_1_tags", ""),
        ("MFRC522 transceives per cycle, 4 tags resting", "mfrc522_transceives_per_cycle_4_tags", ""),
        ("MFRC522 bus time per cycle, 1 tag (sim, 1 MHz SPI)", "mfrc522_bus_time_us_per_cycle_1_tags", "us"),
        ("MFRC522 bus time per cycle, 4 tags (sim, 1 MHz SPI)", "mfrc522_bus_time_us_per_cycle_4_tags", "us"),
        ("  plus the field reset before a cycle (a sleep)", "mfrc522_field_reset_wait_ms", "ms"),
        ("buffer append (wasm VFS, not flash)", "buffer_append_us", "us"),
        ("events per 100 KiB of buffer", "events_per_100kib", "events"),
        ("events per 100 KiB with a smart label", "events_per_100kib_with_label", "events"),
    )
    for text, key, unit in rows:
        print("%-52s %s %s" % (text, figures.get(key), unit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
