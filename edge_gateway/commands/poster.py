"""``sebiao poster``: the one-page staff poster (PDF, A4, Chinese first) from the workshop config."""

from __future__ import annotations

import argparse

from edge_gateway.config import load_config
from edge_gateway.tooling.poster import render_poster


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="workshop YAML / 作坊配置文件")
    parser.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write / 输出 PDF")
    parser.add_argument("--font", metavar="FILE", help="a TrueType CJK font to embed (.ttf/.ttc) / 中文字体文件")


def run(args: argparse.Namespace) -> int:
    poster = render_poster(load_config(args.config), args.out, font_file=args.font)
    embedded = "embedded / 已嵌入" if poster.font.embedded else "not embedded / 未嵌入"
    print(f"wrote / 已生成: {poster.path} (A4, font / 字体 {poster.font.path or poster.font.name}, {embedded})")
    return 0
