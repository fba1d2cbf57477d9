"""Strict JSON (``sebiao_common/strict_json.py``): what it refuses, where it says the fault is, and that
the product reads and writes JSON through it alone."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from sebiao_common import strict_json
from sebiao_common.strict_json import MAX_DEPTH, JsonError

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("sebiao", "sebiao_common", "edge_gateway", "cloud_ingest", "dashboards")

REFUSED = [  # text, the path named
    ('{"a": NaN}', ("a",)),
    ('{"items": [{"x": 1}, {"h": {"r": -Infinity}}]}', ("items", 1, "h", "r")),
    ('[1, Infinity]', (1,)),
    ('{"items": [1, {"a": 1e400}]}', ("items", 1, "a")),
    ('{"items": [{"k": "ok"}, {"k": "x\\ud800"}]}', ("items", 1, "k")),
    ('{"items": [{"\\udfff": 1}]}', ("items", 0, "\udfff")),
    ('{"items": [{}, {"x": ' + "[" * 100_000 + "]" * 100_000 + "}]}", ("items", 1, "x") + (0,) * (MAX_DEPTH - 3)),
    ('{"items": [{}, {"x": ' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "}]}",
     ("items", 1, "x") + (0,) * (MAX_DEPTH - 3)),
    ('{"items": [{}, {"x": tru}]}', ("items", 1, "x")),
    ('{"a": ' + "1" * 5000 + "}", ()),
]


@pytest.mark.parametrize("text, path", REFUSED, ids=[t[:40] for t, _ in REFUSED])
def test_what_is_not_strict_json_is_refused_naming_where(text, path):
    with pytest.raises(JsonError) as refused:
        strict_json.loads(text.encode())
    assert refused.value.path == path
    assert isinstance(refused.value, ValueError) and refused.value.zh and refused.value.en


def test_without_a_depth_bound_only_the_parsers_own_bound_holds_and_is_no_recursion_error():
    deep = '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(JsonError):
        strict_json.loads(deep, max_depth=None)
    assert strict_json.loads('{"x": ' + "[" * 200 + "]" * 200 + "}", max_depth=None)["x"]


def test_what_is_json_reads_as_json_does():
    text = '{"a": [1, 2.5, -0.0, 1e300, true, null, "😀 \\ud83d\\ude00 \\u0000"], "b": {"c": "色标"}}'
    assert strict_json.loads(text) == json.loads(text)
    assert strict_json.loads(b"\xef\xbb\xbf{}".decode("utf-8-sig").encode()) == {}
    with pytest.raises(JsonError):
        strict_json.loads(b"\xff")


def test_writing_refuses_non_finite_numbers():
    assert strict_json.dumps({"a": 1.5}) == '{"a": 1.5}'
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(JsonError):
            strict_json.dumps({"a": [bad]})


def test_a_path_in_an_error_is_printable_and_short():
    assert strict_json.json_path(("items", 3, "rssi")) == "items[3].rssi"
    assert strict_json.json_path((0, "\udc00\x00")) == "[0].\\udc00\\x00"
    assert strict_json.json_path(("a",) + (0,) * 20).endswith("…")


def _json_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "json" for a in node.names):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: import json")
        elif isinstance(node, ast.ImportFrom) and node.module == "json":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from json import")
    return found


def test_the_product_reads_and_writes_json_only_through_strict_json():
    own = ROOT / "sebiao_common" / "strict_json.py"
    found = [hit for package in PRODUCT for path in sorted((ROOT / package).rglob("*.py"))
             if path != own and "migrations" not in path.parts for hit in _json_calls(path)]
    assert not found, "use sebiao_common.strict_json instead:\n" + "\n".join(found)
