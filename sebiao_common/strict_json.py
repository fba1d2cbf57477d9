"""Strict JSON: the one reader and the one writer of every JSON text sebiao takes in or gives out.

Python's ``json`` reads and writes ``NaN``, ``Infinity`` and ``-Infinity``,
which are not JSON (RFC 8259 §6); it turns ``1e400`` into infinity, lets a
lone UTF-16 surrogate through (``"\\ud800"``: no UTF-8 encoder, SQLite or
PostgreSQL takes it) and recurses once per level of nesting. Such a value, once
stored, breaks every strict reader after it: a browser's ``JSON.parse``, the
cloud's canonical JSON, the database. So ``loads`` refuses all of them where
the JSON comes in, naming where (``items[3].rssi``), and ``dumps`` never
writes a non-finite number.

Integers are taken as they come (Python itself refuses more than 4300 digits):
each reader bounds the integers it uses (a seq, a count) by its own rule.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from sebiao_common.errors import SebiaoError

MAX_DEPTH = 32  # levels of arrays and objects; sebiao's own documents use fewer than 6
Path = tuple[str | int, ...]

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # how a surrogate gets into JSON text at all
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # in a Python str a valid pair is one character already
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},:]')  # strings and structure; the rest is skipped


class JsonError(SebiaoError, ValueError):
    """Text that is not strict JSON. ``path`` leads to the offending value (``("items", 3, "rssi")``);
    ``zh`` and ``en`` say why. A ``ValueError`` too, as ``json``'s own errors are."""

    def __init__(self, path: Path, zh: str, en: str) -> None:
        self.path, self.zh, self.en = path, zh, en
        where = json_path(path)
        super().__init__(f"{where}: {en}" if where else en)


def json_path(path: Path, longest: int = 8) -> str:
    """``("items", 3, "rssi")`` as ``items[3].rssi`` (at most ``longest`` steps, then ``…``)."""
    out = ""
    for step in path[:longest]:
        out += f"[{step}]" if isinstance(step, int) else (f".{_printable(step)}" if out else _printable(step))
    return out + ("…" if len(path) > longest else "")


def loads(data: bytes | str, *, max_depth: int | None = MAX_DEPTH) -> Any:
    """The value of UTF-8 JSON text, or ``JsonError``.

    ``max_depth=None`` leaves the nesting to the parser's own recursion bound (past it: ``JsonError``,
    never ``RecursionError``); for a large document whose reader checks the shape of every value itself
    (the cloud's ingest batch), so that the common case costs no second walk."""
    if isinstance(data, str):
        text = data
    else:
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError((), "不是 UTF-8 文本", f"not UTF-8 text: {exc}") from exc
    try:
        value = _DECODER.decode(text)
    except _NotFinite as exc:
        raise JsonError(_locate_non_finite(text), "数值不能是 NaN 或无穷大",
                        f"{exc} is not a JSON number (NaN and infinities are refused)") from None
    except RecursionError:
        raise JsonError(_path_at(text, deeper_than=max_depth or MAX_DEPTH), "嵌套过深",
                        "nested too deep") from None
    except json.JSONDecodeError as exc:
        raise JsonError(_path_at(text, stop=exc.pos), "不是有效的 JSON", f"not valid JSON: {exc}") from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise JsonError((), "不是有效的 JSON", f"not valid JSON: {exc}"[:300]) from None
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    # Fewer opening brackets than max_depth cannot nest that deep (a bracket inside a string only overcounts):
    # the common small message skips the walk.
    deep = max_depth is not None and text.count("{") + text.count("[") >= max_depth
    if deep or surrogates:
        _check(value, max_depth, surrogates)
    return value


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` that refuses NaN and infinities (``JsonError``): what sebiao writes is always JSON."""
    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError as exc:
        raise JsonError((), "数值不能是 NaN 或无穷大", str(exc)) from exc


# -- the reading's refusals -----------------------------------------------------------------


class _NotFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotFinite(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400
        raise _NotFinite(text[:40])
    return value


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)  # made once, not per call


def _check(value: Any, max_depth: int | None, surrogates: bool) -> None:
    """Walks the value (without recursion) for nesting past ``max_depth`` and, with ``surrogates``,
    strings or keys holding a lone surrogate."""
    kinds = (dict, list, str) if surrogates else (dict, list)
    stack: list[tuple[Any, Path]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, (dict, list)) and max_depth is not None and len(path) >= max_depth:
            raise JsonError(path, f"嵌套超过 {max_depth} 层", f"nested deeper than {max_depth} levels")
        if isinstance(node, dict):
            for key, item in reversed(node.items()):
                if surrogates and _LONE_SURROGATE.search(key):
                    raise JsonError(path + (key,), "含有孤立的 UTF-16 代理码", "a key holds a lone UTF-16 surrogate")
                if isinstance(item, kinds):
                    stack.append((item, path + (key,)))
        elif isinstance(node, list):
            for index in range(len(node) - 1, -1, -1):
                if isinstance(node[index], kinds):
                    stack.append((node[index], path + (index,)))
        elif surrogates and isinstance(node, str) and _LONE_SURROGATE.search(node):
            raise JsonError(path, "含有孤立的 UTF-16 代理码", "a string holds a lone UTF-16 surrogate")


def _locate_non_finite(text: str) -> Path:
    """Where the first NaN or infinity is: read leniently, then walked (only when a refusal is explained)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return ()
    stack: list[tuple[Any, Path]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return path
        if isinstance(node, dict):
            stack.extend((item, path + (key,)) for key, item in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((node[i], path + (i,)) for i in range(len(node) - 1, -1, -1))
    return ()


def _path_at(text: str, *, stop: int | None = None, deeper_than: int | None = None) -> Path:
    """The path to the value being read at character ``stop``, or to the first container nested
    deeper than ``deeper_than``: a scan of the text's strings and brackets, for when parsing failed."""
    frames: list[list[Any]] = []  # [is_object, key or index]
    expect_key = False
    for match in _TOKEN.finditer(text):
        if stop is not None and match.start() >= stop:
            break
        token = match.group()
        if token in ("{", "["):
            frames.append([token == "{", None if token == "{" else 0])
            expect_key = token == "{"
            if deeper_than is not None and len(frames) > deeper_than:
                frames.pop()  # the path leads to this container, not into it
                break
        elif token in ("}", "]"):
            if frames:
                frames.pop()
            expect_key = False
        elif token == ",":
            if frames and frames[-1][0]:
                expect_key = True
            elif frames:
                frames[-1][1] += 1
        elif token == ":":
            expect_key = False
        elif expect_key and frames:
            frames[-1][1] = _key(token)
            expect_key = False
    return tuple(step for _, step in frames if step is not None)


def _key(token: str) -> str:
    try:
        return json.loads(token)
    except ValueError:
        return token[1:-1]


def _printable(key: str) -> str:
    """A key as it may be shown in an error (which is itself JSON, UTF-8): no lone surrogate, no control
    character, at most 64 characters."""
    safe = key.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in safe)[:64]
