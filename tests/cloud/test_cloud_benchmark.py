"""benchmarks/cloud_ingest.py runs to the end with tiny numbers and its own checks pass (figures are not judged).

It starts its own PostgreSQL and ``sebiao cloud`` processes, pushes the bulk
batches and a small city's half hour, and checks every fact against
PostgreSQL: this test holds it to that, not to any speed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_cloud_benchmark_completes_and_verifies() -> None:
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cloud_ingest.py"), "--quick", "--workers", "1"],
                         capture_output=True, text=True, timeout=600, cwd=ROOT, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "events/s stored in PostgreSQL" in out and "lost 0, duplicates 0 -> OK" in out, out
    assert "push to visible in GET /api/v1/alarms" in out and "p99" in out, out
    assert "duplicates 0, alarms never seen 0 -> OK" in out, out
    assert out.rstrip().endswith("all checks passed"), out
