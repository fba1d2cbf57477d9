"""Imported first by every benchmark: puts the project and the tests' support modules
(``tests/support``: real servers, the gateway process, scripted stations) at the front of
``sys.path``, before this folder, whose ``cloud_ingest.py`` would hide the ``cloud_ingest`` package."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]
