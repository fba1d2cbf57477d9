"""A small HTML builder that escapes by default.

``Html`` marks a string as already safe markup; everything else that goes
through ``el`` or ``join`` (text, attribute values, numbers) is escaped, so a
page can only contain markup the code wrote itself.
"""

from __future__ import annotations

import html
from typing import Iterable, Union


class Html(str):
    """Markup that is already safe; plain ``str`` is text and gets escaped."""


Child = Union["Html", str, int, float, None, Iterable["Child"]]
VOID = frozenset({"input", "br", "meta", "link", "hr", "img"})


def esc(value: Child) -> Html:
    if value is None or value is False:
        return Html("")
    if isinstance(value, Html):
        return value
    if isinstance(value, (str, int, float)):
        return Html(html.escape(str(value), quote=True))
    return Html("".join(esc(v) for v in value))


def join(*children: Child) -> Html:
    return esc(children)


def el(tag: str, attrs: dict[str, object] | None = None, *children: Child) -> Html:
    """``<tag attrs>children</tag>``; an attribute set to True is written bare, None/False is left out."""
    parts = [tag]
    for key, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        parts.append(name if value is True else f'{name}="{html.escape(str(value), quote=True)}"')
    opening = "<" + " ".join(parts) + ">"
    if tag in VOID:
        return Html(opening)
    return Html(opening + esc(children) + f"</{tag}>")


def bi(zh: str, en: str) -> Html:
    """Chinese first, English second, the English in a quieter span; each marked with its language, so the
    page shows only the reader's (``labels.LANG_COOKIE``: Chinese unless English was chosen; cloud.css hides
    the other). Text that is not built by ``bi`` shows in both, as before."""
    return join(el("span", {"class": "zh", "lang": "zh-CN"}, zh), " ", el("span", {"class": "en", "lang": "en"}, en))
