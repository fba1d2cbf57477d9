"""docs/installer-guide.md (安装指南), the installer's Chinese guide, stays true to the code and to docs/config.md.

- every config key it names (`section.key`, `stations[].kind`, …) is a key the real parsers accept, and every key
  they accept is named in it (from the parsers' own ``Node.mapping`` declarations, recorded while they load the
  guide's YAML blocks and the examples);
- every YAML block loads through the real loaders, merged into examples/workshop.yaml (the first is a whole file);
- every `sebiao …` command line in a shell block (and every inline one with options) parses with the real argparse
  (sebiao/cli.py); commands still being built are allowed only in the paragraphs marked ``<!-- planned: … -->``;
- every relative link resolves, each section of docs/config.md has its counterpart, and the troubleshooting table's
  quoted messages are what the code prints.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import io
import itertools
import re
import shlex
import tempfile
from pathlib import Path

import pytest
import yaml

from edge_gateway.config import load_config
from edge_gateway.intake.settings import intake_settings
from edge_gateway.model.workshop import parse_config
from edge_gateway.sinks.cloud.config import cloud_settings
from edge_gateway.sinks.influx.config import influx_settings
from edge_gateway.sinks.notify.config import notify_settings
from edge_gateway.timeserver.settings import parse_time_server
from edge_gateway.web.settings import display_settings
from sebiao.cli import SUBCOMMANDS, build_parser
from sebiao_common.domain import COLOR_CLASSES
from sebiao_common.errors import ConfigError
from sebiao_common.yamlfile import Node, load_yaml

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "installer-guide.md"
TEXT = GUIDE.read_text("utf-8")
EXAMPLES = [ROOT / "examples" / "workshop.yaml", ROOT / "examples" / "workshop-disinfect.yaml"]
EXAMPLE = yaml.safe_load(EXAMPLES[0].read_text("utf-8"))
# The commands the guide must walk through, in the order of the day.
REQUIRED_COMMANDS = ("broker-config", "service install", "firmware provision", "firmware deploy", "enroll", "labels",
                     "poster", "training add", "notify test")
REFUSED = {"workshop.grade"}  # named as a key the gateway refuses (the grade is the regulator's)
PLANNED: tuple[str, ...] = ()  # being built: a short marked paragraph each


def _blocks(lang: str, text: str = TEXT) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def _validate(data: dict, file: str) -> None:
    """What the gateway checks at start-up, through its own loader: the file (strict YAML), the config model and
    the day, then each section's own parser."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / file.replace(" ", "-").replace("/", "-")
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
        config = load_config(path)
    display_settings(config)
    intake_settings(config)
    parse_time_server(config.section("time_server"), file)
    cloud_settings(config)
    notify_settings(config)
    influx_settings(config)


def _strict(text: str) -> object:
    """A YAML block read as the gateway reads its file: a key given twice or a .nan is refused."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "block.yaml"
        path.write_text(text, "utf-8")
        return load_yaml(path)


def _merge(base: dict, fragment: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _guide_configs() -> list[dict]:
    """The guide's YAML blocks as whole configs: the first stands alone, the rest merge into the example."""
    blocks = [_strict(b) for b in _blocks("yaml")]
    return [blocks[0]] + [_merge(EXAMPLE, b) for b in blocks[1:]]


@functools.cache
def _known_keys() -> frozenset[str]:
    """Every key path the parsers accept (``notify.channels[].url``), recorded from their own declarations."""
    known: set[str] = set()
    real = Node.mapping

    def recording(self, required=(), optional=()):
        base = re.sub(r"\[\d+\]", "[]", self.path)
        known.update(f"{base}.{k}" if base else k for k in (*required, *optional))
        return real(self, required, optional)

    Node.mapping = recording
    try:
        for i, data in enumerate(_guide_configs()):
            _validate(data, f"installer-guide.md yaml block {i}")
        for path in EXAMPLES:
            _validate(yaml.safe_load(path.read_text("utf-8")), str(path))
    finally:
        Node.mapping = real
    return frozenset(known)


def _sections() -> set[str]:
    return {k for k in _known_keys() if "." not in k and "[" not in k}


KEY = re.compile(r"`([a-z_]+(?:\[\])?(?:\.[a-z_]+(?:\[\])?)+)(?::[^`]*)?`")


def _named_in_prose() -> set[str]:
    names = {m.group(1) for m in KEY.finditer(TEXT)}
    return {n for n in names if n.split(".")[0].split("[")[0] in _sections() and not re.search(r"\.(md|json|svg|yaml)$", n)}


def _paths(value: object, prefix: str = "") -> set[str]:
    """The key paths a YAML block shows (lists of mappings as ``[]``)."""
    out: set[str] = set()
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out |= {path} | _paths(child, path)
    elif isinstance(value, list):
        for item in value:
            out |= _paths(item, f"{prefix}[]")
    return out


def test_the_parsers_declare_the_sections_an_installer_touches():
    assert {"workshop", "broker", "http", "stations", "tools", "rules", "day", "notify", "time_server", "influx",
            "cloud", "display", "intake"} <= _sections()
    assert {"stations[].zone", "notify.channels[].url", "rules.disinfect.cabinet.temp_c"} <= _known_keys()


def test_the_refused_keys_the_guide_names_are_refused():
    for key in REFUSED:
        section, name = key.split(".")
        data = copy.deepcopy(EXAMPLE)
        data[section][name] = "金榜"
        with pytest.raises(ConfigError, match=re.escape(key)):
            _validate(data, "workshop.yaml")
        assert key not in _known_keys()


def test_every_zone_colour_is_given_with_its_name_and_shape():
    for c in COLOR_CLASSES:
        assert f"`{c.key}` {c.zh} {c.symbol} {c.shape_zh}" in TEXT, c.key


def test_the_error_example_is_what_the_gateway_says():
    (text,) = _blocks("text")
    data = copy.deepcopy(EXAMPLE)
    data["tools"][3]["home"] = "rack-red-9"
    with pytest.raises(ConfigError) as info:
        parse_config(data, "workshop.yaml")
    assert str(info.value) == text.strip()


def test_every_yaml_block_is_a_valid_config_fragment():
    blocks = _blocks("yaml")
    assert len(blocks) >= 6 and yaml.safe_load(blocks[0]).keys() >= {"workshop", "stations", "tools", "rules"}
    for i, data in enumerate(_guide_configs()):
        _validate(data, f"installer-guide.md yaml block {i}")  # ConfigError names the block, the field, the reason


def test_every_config_key_named_in_the_guide_exists():
    unknown = sorted(_named_in_prose() - _known_keys() - REFUSED)
    assert not unknown, f"installer-guide.md names keys no parser accepts: {unknown}"


def test_every_key_the_parsers_accept_is_in_the_guide():
    shown = _named_in_prose() | {p for b in _blocks("yaml") for p in _paths(yaml.safe_load(b))}
    missing = sorted(_known_keys() - shown)
    assert not missing, f"installer-guide.md does not name these config keys: {missing}"


def _shell_lines(text: str) -> list[str]:
    lines = []
    for block in _blocks("sh", text):
        for line in block.replace("\\\n", " ").splitlines():
            argv = shlex.split(line, comments=True)
            if argv[:2] == ["sudo", "-u"]:
                argv = argv[3:]
            elif argv[:1] == ["sudo"]:
                argv = argv[1:]
            if argv[:1] == ["sebiao"]:
                lines.append(argv)
    return lines


def _parses(argv: list[str]) -> bool:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            build_parser().parse_args(argv)
        except SystemExit as exit:
            return exit.code == 0
    return True


def _planned_paragraphs() -> dict[str, str]:
    return {m.group(1): m.group(2) for m in re.finditer(r"<!-- planned: (sebiao [a-z -]+?) -->\n(.*?)(?:\n\n|\Z)",
                                                         TEXT, re.S)}


def test_every_command_line_in_a_code_block_parses():
    lines = _shell_lines(TEXT)
    for argv in lines:
        assert argv[1] in SUBCOMMANDS, f"installer-guide.md: `{shlex.join(argv)}`: no such command"
        assert _parses(argv[1:]), f"installer-guide.md: `{shlex.join(argv)}` does not parse (sebiao/cli.py)"
    shown = {" ".join(a[1:3]) for a in lines} | {a[1] for a in lines}
    missing = [c for c in REQUIRED_COMMANDS if c not in shown]
    assert not missing, f"installer-guide.md: no command line for {missing}"


INLINE = re.compile(r"`(?:sudo (?:-u \S+ )?)?(sebiao [^`]+)`")


def _command(words: list[str]):
    """The argparse parser of ``sebiao WORDS`` (``["firmware", "deploy"]``), or None when there is no such command."""
    parser = build_parser()
    for word in words:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or word not in subs[0].choices:
            return None
        parser = subs[0].choices[word]
    return parser


def test_every_inline_command_exists_or_is_marked_planned():
    """`sebiao …` in the prose: the command exists and knows each option named (or it is a marked planned one)."""
    planned = _planned_paragraphs()
    assert set(planned) == set(PLANNED), f"the marked paragraphs: {sorted(planned)}"
    for name, paragraph in planned.items():
        assert name in paragraph and len(paragraph) < 400, f"{name}: a short paragraph naming it"
    for m in INLINE.finditer(TEXT):
        argv = shlex.split(m.group(1).replace("…", ""))[1:]
        words = list(itertools.takewhile(lambda a: not a.startswith("-"), argv))[:2]
        parser = _command(words)
        if parser is None:  # not (yet) a command: only in a paragraph marked as planned
            assert any(m.group(0) in p for p in planned.values()), f"installer-guide.md: `{m.group(1)}`: no such command"
            continue
        options = {o for a in parser._actions for o in a.option_strings}
        for option in (a.split("=")[0] for a in argv if a.startswith("-")):
            assert option in options, f"installer-guide.md: `{m.group(1)}`: no option {option}"


def test_broker_config_options_are_all_explained():
    sub = build_parser()._subparsers._group_actions[0].choices["broker-config"]
    options = [o for a in sub._actions for o in a.option_strings if o.startswith("--") and o != "--help"]
    assert options and all(f"`{o}" in TEXT or f" {o} " in TEXT for o in options), options


def test_every_link_resolves():
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", TEXT)
    assert len(links) > 10
    for target in links:
        if re.match(r"[a-z]+://", target):
            continue
        assert (GUIDE.parent / target).exists(), f"installer-guide.md: link {target!r} does not resolve"
    for svg in ("mount-rack.svg", "mount-sink.svg", "mount-cabinet.svg"):
        assert f"../hardware_docs/{svg}" in links, f"installer-guide.md: no link to {svg}"


def _headings(text: str, level: str) -> list[str]:
    return re.findall(rf"^{level} (.+)$", text, re.M)


def test_each_section_of_config_md_has_its_counterpart():
    config = (ROOT / "docs" / "config.md").read_text("utf-8")
    headings = _headings(TEXT, "#{2,4}")
    for title in _headings(config, "##"):
        assert any(title in h for h in headings), f"docs/config.md '## {title}' has no heading in the guide"
    sections = re.findall(r"^\*\*([a-z_]+)\*\* —", config, re.M)
    other = re.search(r"^Other sections \(([^)]*)\)", config, re.M)
    assert other and len(sections) >= 9
    sections += re.findall(r"`([a-z_]+)`", other.group(1))
    for name in sections:
        assert any(f"`{name}`" in h for h in _headings(TEXT, "####")), f"config.md's **{name}** has no '#### `{name}`'"
    assert set(sections) <= _sections()


# docs/broker.md's sections: where the guide covers each, or why an installer does not need it
BROKER_SECTIONS = {
    "One session per account / 每个账号一个会话": "每个账号一个会话（One session per account）",
    "Production with Mosquitto": "### 3.1 安装与生成配置（Production with Mosquitto",
    "Access control": "### 3.2 账号与访问控制（Accounts and ACL, access control）",
    "Queue sizing": "### 3.4 队列大小（Queue sizing）",
    "The embedded broker": "### 3.0 内置代理与 Mosquitto（The embedded broker）",
    "Why `set_tcp_nodelay true`": None,  # why the generated file says so: nothing for the installer to do
    "For tests and benchmarks": None,  # the test fixtures
}


def test_each_section_of_broker_md_is_covered_or_said_why_not():
    broker = (ROOT / "docs" / "broker.md").read_text("utf-8")
    assert set(_headings(broker, "##")) == set(BROKER_SECTIONS), "docs/broker.md's sections changed: map them here"
    for title, counterpart in BROKER_SECTIONS.items():
        assert counterpart is None or counterpart in TEXT, f"docs/broker.md '## {title}': no '{counterpart}' in the guide"


def test_the_references_point_to_the_guide():
    for doc in ("config.md", "broker.md"):
        head = (ROOT / "docs" / doc).read_text("utf-8").split("\n\n", 2)[:2]
        assert any("中文版" in p and "(installer-guide.md)" in p for p in head), f"docs/{doc}: 中文版 at its top"
    assert "(docs/installer-guide.md)" in (ROOT / "README.md").read_text("utf-8")
    assert "(../docs/installer-guide.md)" in (ROOT / "hardware_docs" / "README.md").read_text("utf-8")


def _source() -> str:
    files = [*ROOT.glob("edge_gateway/**/*.py"), *ROOT.glob("sebiao_common/**/*.py")]
    return "\n".join(p.read_text("utf-8") for p in files)


def test_the_troubleshooting_table_quotes_what_the_code_prints():
    table = TEXT[TEXT.index("| 现象 symptom |"):]
    quoted = re.findall(r"^\| ((?:`[^`]+`(?: / )?)+) \|", table, re.M)
    assert len(quoted) >= 15
    source = _source()
    for cell in quoted:
        for message in re.findall(r"`([^`]+)`", cell):
            for piece in message.split("…"):  # … stands for what varies (a name, a path)
                piece = piece.strip(" '[]().,;:：")
                if len(piece) >= 4:
                    assert piece in source or _reason(piece) in source, f"troubleshooting: {piece!r} is not in the code"


def _reason(piece: str) -> str:
    """``field: reason`` (``field：原因``): ConfigError joins the field path and the reason; the code has the reason."""
    return re.split(r": |：", piece, maxsplit=1)[-1].strip()
