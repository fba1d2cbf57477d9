"""The pure part of enrolment (model/enrolment.py), table-tested: the next free id, the defaults, and the
config text with new tools appended in the file's own style."""

from __future__ import annotations

import pytest
import yaml
from servers import EXAMPLE_CONFIG

from edge_gateway.config import load_config
from edge_gateway.model.enrolment import Request, append_tools, complete, default_home, next_id
from edge_gateway.model.workshop import Tool
from sebiao_common.errors import ConfigError

NEW = Tool(id="KN-R-02", kind="knife", color="red", tag="04AA0000000001", home="rack-red-1")
LINE = "{id: KN-R-02, kind: knife, color: red, tag: '04AA0000000001', home: rack-red-1}"


@pytest.mark.parametrize(("kind", "color", "taken", "expected"), [
    ("knife", "red", set(), "KN-R-01"),
    ("knife", "red", {"KN-R-01", "KN-R-02"}, "KN-R-03"),
    ("knife", "red", {"KN-R-01", "KN-R-07"}, "KN-R-08"),  # after the highest, never into a gap a label may name
    ("knife", "red", {"KN-G-05", "KN-R-X", "CB-R-04"}, "KN-R-01"),  # other colours, kinds, names: not counted
    ("cutting_board", "white", {"CB-W-09"}, "CB-W-10"),
    ("container", "yellow", {"CT-Y-99"}, "CT-Y-100"),
    ("cloth", "blue", set(), "CL-B-01"),
])
def test_next_id(kind, color, taken, expected):
    assert next_id(kind, color, taken) == expected


def test_defaults_follow_the_config():
    config = load_config(EXAMPLE_CONFIG)
    assert default_home(config, "red") == "rack-red-1" and default_home(config, "blue") is None
    tools = complete(config, [Request(tag="04aa0000000001", kind="knife", color="red"),
                              Request(tag="04AA0000000002", kind="knife", color="red", home="rack-red-2"),
                              Request(tag="04AA0000000003", kind="brush", color="green", id="my-brush")])
    assert [(t.id, t.tag, t.home) for t in tools] == [("KN-R-02", "04AA0000000001", "rack-red-1"),
                                                      ("KN-R-03", "04AA0000000002", "rack-red-2"),
                                                      ("my-brush", "04AA0000000003", "rack-green-1")]
    with pytest.raises(ConfigError, match=r"enrol\[0\] \(\)\.tag"):
        complete(config, [Request(tag="", kind="knife", color="red")])


@pytest.mark.parametrize(("text", "expected"), [
    ("tools:\n  - {id: A}\nrules: {}\n", f"tools:\n  - {{id: A}}\n  - {LINE}\nrules: {{}}\n"),
    ("tools:\n- {id: A}\n", f"tools:\n- {{id: A}}\n- {LINE}\n"),
    ("tools:\n  - {id: A}", f"tools:\n  - {{id: A}}\n  - {LINE}\n"),  # no newline at the end
    ("tools:  # the knives\n    - {id: A}  # on the left\n\n# rules follow\nrules: {}\n",
     f"tools:  # the knives\n    - {{id: A}}  # on the left\n    - {LINE}\n\n# rules follow\nrules: {{}}\n"),
    ("tools:\n- id: A\n  kind: knife  # note\nrules: {}\n",
     f"tools:\n- id: A\n  kind: knife  # note\n- {LINE}\nrules: {{}}\n"),
    ("stations: []\ntools:\nhttp: {}\n", f"stations: []\ntools:\n  - {LINE}\nhttp: {{}}\n"),  # an empty list
])
def test_append_keeps_every_line_and_the_items_indent(text, expected):
    assert append_tools(text, [NEW], "w.yaml") == expected
    assert yaml.safe_load(expected)["tools"][-1]["tag"] == "04AA0000000001"  # quoted: never read as a number


@pytest.mark.parametrize(("text", "reason"), [
    ("stations: []\n", "no top-level tools: list"),
    ("tools: [{id: A}]  # flow\n", "one line"),
])
def test_append_refuses_what_it_cannot_extend(text, reason):
    with pytest.raises(ConfigError, match=reason):
        append_tools(text, [NEW], "w.yaml")
