"""``sebiao labels``: print the colour labels of a workshop (tool labels, sink stickers) to a PDF."""

from __future__ import annotations

import argparse

from edge_gateway.config import load_config
from edge_gateway.tooling.labels import render_labels
from edge_gateway.tooling.labels.layout import BAND_H, BAND_W, SINK_SIZE, TOOL_H, TOOL_W
from edge_gateway.tooling.labels.sheet import HANDLE_FORMATS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="workshop YAML / 作坊配置文件")
    parser.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write / 输出 PDF")
    parser.add_argument("--font", metavar="FILE",
                        help="a TrueType CJK font to embed (.ttf/.ttc); default: the first of "
                             "wqy-microhei, wqy-zenhei, DroidSansFallback found / 中文字体文件")
    parser.add_argument("--handles", choices=HANDLE_FORMATS, default="band",
                        help="knives, scissors, brushes: a 90 × 12 mm band round the handle (default) or a "
                             "60 × 30 mm card / 刀、剪、刷：手柄色标环（默认）或标签卡")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    sheet = render_labels(config, args.out, font_file=args.font, handles=args.handles)
    print(f"wrote / 已生成: {sheet.path} ({sheet.pages} A4 pages / 页)")
    print(f"  {sheet.tools} tool labels / 器具标签 {TOOL_W:g} × {TOOL_H:g} mm, "
          f"{sheet.bands} handle bands / 手柄色标环 {BAND_W:g} × {BAND_H:g} mm, "
          f"{sheet.sinks} sink stickers / 清洗池色标贴 {SINK_SIZE:g} × {SINK_SIZE:g} mm")
    if sheet.font.embedded:
        print(f"  font / 字体: {sheet.font.path} (embedded / 已嵌入)")
    else:
        print("  font / 字体: STSong-Light, not embedded (no CJK TrueType font found; install "
              "fonts-wqy-microhei or pass --font) / 未嵌入字体")
    print("print at actual size (100 %) / 请按实际大小打印")
    return 0
