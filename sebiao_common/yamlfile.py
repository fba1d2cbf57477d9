"""Reading YAML config files strictly, and walking them with a field path.

Every error names the file, the field path (``tools[3].home``) and the reason; the checks here also give the
reason in Chinese, said first (``ConfigError``): the owner and the installer read these lines.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from sebiao_common.errors import ConfigError


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which YAML would silently overwrite, and NaN and infinities
    (``.nan``, ``.inf``, ``1.0e+400``), which no setting means and which compare false with every bound."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


def _finite_float(loader: _StrictLoader, node: yaml.ScalarNode) -> float:
    value = loader.construct_yaml_float(node)
    if not math.isfinite(value):
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a finite number (NaN and infinities are refused)", node.start_mark)
    return value


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _finite_float)


def load_yaml(path: str | Path) -> Any:
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(name, "", f"cannot read the file: {exc.strerror or exc}", "无法读取文件") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(name, "", f"not UTF-8 text: {exc}", "不是 UTF-8 文本") from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        zh = f"第 {mark.line + 1} 行第 {mark.column + 1} 列 YAML 格式错误" if mark else "YAML 格式错误"
        raise ConfigError(name, "", f"{where}invalid YAML: {problem}", zh) from exc


@dataclass(frozen=True)
class Node:
    """A value in a config file with its field path, for precise errors."""

    file: str
    path: str
    value: Any

    def fail(self, reason: str, zh: str = "") -> ConfigError:
        """The error at this field; ``zh``: the reason in Chinese, said first."""
        return ConfigError(self.file, self.path, reason, zh)

    def child(self, key: str | int) -> "Node":
        value = self.value[key]
        if isinstance(key, int):
            return Node(self.file, f"{self.path}[{key}]", value)
        return Node(self.file, f"{self.path}.{key}" if self.path else key, value)

    def mapping(self, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()) -> "Node":
        if not isinstance(self.value, dict):
            raise self.fail(f"must be a mapping, got {_type_name(self.value)}", f"必须是键值表，实际是{_type_zh(self.value)}")
        for key in self.value:
            if key not in required and key not in optional:
                known = ", ".join(required + optional)
                raise self.child(key).fail(f"unknown key (known keys: {known})", f"未知的键（可用的键：{known}）")
        for key in required:
            if key not in self.value:
                raise self.fail(f"missing required key '{key}'", f"缺少必填的键 '{key}'")
        return self

    def get(self, key: str) -> "Node | None":
        if key in self.value and self.value[key] is not None:
            return self.child(key)
        return None

    def items(self) -> Iterator["Node"]:
        if not isinstance(self.value, list):
            raise self.fail(f"must be a list, got {_type_name(self.value)}", f"必须是列表，实际是{_type_zh(self.value)}")
        for index in range(len(self.value)):
            yield self.child(index)

    def string(self, pattern: str | None = None, hint: str = "") -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.fail(f"must be a non-empty string, got {_type_name(self.value)}",
                            f"必须是非空文字，实际是{_type_zh(self.value)}")
        if pattern and not re.fullmatch(pattern, self.value):
            raise self.fail(f"{self.value!r} is not valid: {hint or 'must match ' + pattern}", f"{self.value!r} 格式不对")
        return self.value

    def integer(self, low: int | None = None, high: int | None = None) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.fail(f"must be a whole number, got {_type_name(self.value)}",
                            f"必须是整数，实际是{_type_zh(self.value)}")
        if low is not None and self.value < low:
            raise self.fail(f"must be at least {low}, got {self.value}", f"不能小于 {low}，实际是 {self.value}")
        if high is not None and self.value > high:
            raise self.fail(f"must be at most {high}, got {self.value}", f"不能大于 {high}，实际是 {self.value}")
        return self.value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail(f"must be true or false, got {_type_name(self.value)}",
                            f"必须是 true 或 false，实际是{_type_zh(self.value)}")
        return self.value

    def choice(self, choices: Any) -> str:
        options = list(choices)
        if not isinstance(self.value, str) or self.value not in options:
            raise self.fail(f"{self.value!r} is not one of: {', '.join(options)}",
                            f"{self.value!r} 不是可选值之一（{', '.join(options)}）")
        return self.value

    def convert(self, parse: Callable[[Any], Any]) -> Any:
        try:
            return parse(self.value)
        except ValueError as exc:  # "中文 / English" from a parser that speaks both: each goes to its place
            zh, _, en = str(exc).partition(" / ")
            raise (self.fail(en, zh) if en and CJK.search(zh) else self.fail(str(exc))) from exc


CJK = re.compile(r"[\u4e00-\u9fff]")


def _type_zh(value: Any) -> str:
    if value is None:
        return "空值"
    return {dict: "键值表", list: "列表", str: "文字", bool: "布尔值", int: "数字", float: "数字"}.get(
        type(value), type(value).__name__)


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)
