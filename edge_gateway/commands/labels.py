"""``sebiao labels``: print the colour labels of a workshop (tool labels, sink stickers) to a PDF."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from edge_gateway.config import load_config, locked, pending_labels, pending_path
from edge_gateway.model.workshop import WorkshopConfig
from edge_gateway.tooling.labels import render_labels
from edge_gateway.tooling.labels.layout import BAND_H, BAND_W, SINK_SIZE, TOOL_H, TOOL_W
from edge_gateway.tooling.labels.sheet import HANDLE_FORMATS
from sebiao_common.domain import StationKind
from sebiao_common.errors import SebiaoError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="workshop YAML / 作坊配置文件")
    parser.add_argument("--out", required=True, metavar="FILE.pdf", help="the PDF to write / 输出 PDF")
    parser.add_argument("--font", metavar="FILE",
                        help="a TrueType CJK font to embed (.ttf/.ttc); default: the first of "
                             "wqy-microhei, wqy-zenhei, DroidSansFallback found / 中文字体文件")
    parser.add_argument("--handles", choices=HANDLE_FORMATS, default="band",
                        help="knives, scissors, brushes: a 90 × 12 mm band round the handle (default) or a "
                             "60 × 30 mm card / 刀、剪、刷：手柄色标环（默认）或标签卡")
    parser.add_argument("--pending", action="store_true",
                        help="only the tools enrolled since the last --pending print (sebiao enroll), no sink "
                             "stickers; the queue is emptied once the PDF is written / 仅打印新登记器具的标签")


def _pending_only(config: WorkshopConfig, path: str) -> WorkshopConfig:
    """The tools queued by ``sebiao enroll`` that are still in the config, and no sink."""
    queued = set(pending_labels(path))
    if not queued:
        raise SebiaoError(f"{pending_path(path)}: 没有待打印的标签 / no labels are waiting to be printed")
    return replace(config, tools=tuple(t for t in config.tools if t.id in queued),
                   stations=tuple(s for s in config.stations if s.kind is not StationKind.SINK))


def run(args: argparse.Namespace) -> int:
    if args.pending:  # under the enrolments' lock: an id queued while the PDF is made is not emptied away
        with locked(Path(args.config)):
            sheet = render_labels(_pending_only(load_config(args.config), args.config), args.out,
                                  font_file=args.font, handles=args.handles)
            pending_path(args.config).unlink(missing_ok=True)
    else:
        sheet = render_labels(load_config(args.config), args.out, font_file=args.font, handles=args.handles)
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
