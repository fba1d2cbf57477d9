"""The house stays in order: the import rules of ``docs/architecture.md``, checked on the source.

Every import is read with ``ast`` (module level and inside functions alike), so
a rule broken by a lazy import is still found.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sebiao", "sebiao_common", "edge_gateway", "cloud_ingest", "dashboards")

# Which top-level packages each may import (besides itself, the standard library and third parties).
PACKAGE_RULES: dict[str, set[str]] = {
    "sebiao_common": set(),
    "edge_gateway": {"sebiao_common"},
    "cloud_ingest": {"sebiao_common"},
    "dashboards": {"sebiao_common"},
    "sebiao": {"sebiao_common", "edge_gateway", "cloud_ingest", "dashboards"},
}

# edge_gateway's rooms, and the rooms each may import (besides itself and sebiao_common).
GATEWAY_RULES: dict[str, set[str]] = {
    "errors": set(),
    "model": {"errors"},
    "config": {"model", "errors"},
    "store": {"model", "errors"},
    "core": {"model", "store", "errors"},
    "intake": {"core", "model", "errors"},
    "sinks": {"core", "store", "model", "errors"},
    "broker": {"model", "errors"},
    "web": {"core", "store", "model", "errors"},
    "tooling": {"broker", "model", "errors"},
    "vstation": {"tooling", "model", "errors"},
    "timeserver": {"model", "errors"},
    "fleet": {"core", "store", "model", "errors"},
    "gateway": {"intake", "core", "store", "sinks", "broker", "web", "timeserver", "fleet", "model", "config",
                "errors"},
    "demo": {"gateway", "vstation", "tooling", "broker", "web", "timeserver", "fleet", "core", "store", "model",
             "config", "errors"},
}
GATEWAY_RULES["commands"] = set(GATEWAY_RULES)  # a subcommand may import any room
# The pure model reads no clock and does no I/O: these standard modules are not for it.
IMPURE = {"time", "datetime", "threading", "socket", "sqlite3", "os", "pathlib", "subprocess", "asyncio",
          "random", "logging", "io", "shutil", "urllib.request"}
MAX_TOP_LEVEL = 12
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                out[_module_name(path)] = path
    return out


SOURCES = _sources()


def _imports(name: str, path: Path) -> set[str]:
    """Every module this one imports, absolute; ``from pkg import mod`` counts as ``pkg.mod`` when it is one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            modules = {f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in SOURCES}
            # ``from pkg import mod`` imports the module; its package's __init__ runs for any of its modules
            found |= modules if len(modules) == len(node.names) else modules | {base}
    return found


GRAPH = {name: _imports(name, path) for name, path in SOURCES.items()}


def _ours(target: str) -> str | None:
    top = target.split(".")[0]
    return top if top in PACKAGES else None


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_sources_are_found():
    assert {"edge_gateway.core.engine", "cloud_ingest.app", "sebiao_common.domain", "sebiao.cli",
            "dashboards.generator.render"} <= set(SOURCES)


@pytest.mark.parametrize("package", sorted(PACKAGE_RULES))
def test_each_package_imports_only_what_it_may(package):
    wrong = sorted(f"{name} imports {target}" for name, targets in GRAPH.items() if name.split(".")[0] == package
                   for target in targets
                   if _ours(target) not in (None, package) and _ours(target) not in PACKAGE_RULES[package])
    assert not wrong, "\n".join(wrong)


def test_nothing_imports_the_command_line_package():
    wrong = sorted(name for name, targets in GRAPH.items() if not name.startswith("sebiao.") and name != "sebiao"
                   and any(t == "sebiao" or t.startswith("sebiao.") for t in targets))
    assert not wrong


def test_the_gateway_rooms_import_only_what_they_may():
    rooms = {_room(name) for name in GRAPH if name.startswith("edge_gateway.")}
    assert rooms <= set(GATEWAY_RULES), f"a new room needs its rule here and in docs/architecture.md: " \
                                        f"{rooms - set(GATEWAY_RULES)}"
    wrong = []
    for name, targets in GRAPH.items():
        if not name.startswith("edge_gateway.") or name.count(".") == 0:
            continue
        room = _room(name)
        for target in targets:
            if target.startswith("edge_gateway.") and _room(target) not in (room, *GATEWAY_RULES[room]):
                wrong.append(f"{name} ({room}) imports {target} ({_room(target)})")
    assert not wrong, "\n".join(sorted(wrong))


def test_a_sink_never_imports_another_sink():
    wrong = [f"{name} imports {target}" for name, targets in GRAPH.items() if name.startswith("edge_gateway.sinks.")
             for target in targets if target.startswith("edge_gateway.sinks.")
             and name.split(".")[2] != target.split(".")[2] and target.count(".") > 2
             and target.split(".")[2] in ("influx", "cloud") and name.count(".") > 2]
    assert not wrong, "\n".join(wrong)


def test_the_model_is_pure():
    wrong = [f"{name} imports {target}" for name, targets in GRAPH.items()
             if name.startswith("edge_gateway.model") for target in targets
             if target in IMPURE or target.split(".")[0] in IMPURE]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle():
    """Tarjan's strongly connected components over the module graph: every component is one module."""
    nodes = {n: {t for t in GRAPH[n] if t in GRAPH and t != n} for n in GRAPH}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles = []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in nodes[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    assert not cycles, cycles


@pytest.mark.parametrize("package", ["edge_gateway", "cloud_ingest"])
def test_at_most_twelve_modules_at_the_top_of_a_side(package):
    modules = sorted(p.name for p in (ROOT / package).glob("*.py"))
    assert len(modules) <= MAX_TOP_LEVEL, modules


def test_no_module_over_500_lines():
    folders = [*PACKAGES, "tests", "benchmarks", "scripts", "firmware"]
    long = sorted(f"{path.relative_to(ROOT)}: {n}" for folder in folders for path in (ROOT / folder).rglob("*.py")
                  if "node_modules" not in path.parts
                  and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES)
    assert not long, long


def test_every_package_says_what_lives_there():
    bare = sorted(str(path.relative_to(ROOT)) for name, path in SOURCES.items() if path.name == "__init__.py"
                  and not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))))
    assert not bare, bare
