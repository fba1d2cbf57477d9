"""Every request body is read through ``sebiao_common.http_body.read_body``, which refuses it as soon as it is
over its bound: a route reading ``request.body()`` (or ``form()``, ``json()``) keeps the whole body first,
however large, before any login or token is checked."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("sebiao", "sebiao_common", "edge_gateway", "cloud_ingest", "dashboards")
WHOLE = re.compile(r"\brequest\.(body|form|json|stream)\(")


def test_no_route_reads_a_body_but_through_read_body():
    own = ROOT / "sebiao_common" / "http_body.py"
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for package in PRODUCT for path in sorted((ROOT / package).rglob("*.py")) if path != own
             for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if WHOLE.search(line)]
    assert not found, "read the body with sebiao_common.http_body.read_body:\n" + "\n".join(found)
