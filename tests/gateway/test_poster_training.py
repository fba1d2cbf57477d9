"""The staff poster (its PDF's text holds the workshop's tools, racks and zones) and the training records
command (``sebiao training add``/``list`` on a real store)."""

from __future__ import annotations

import pdfplumber
import pytest

from edge_gateway.config import load_config
from edge_gateway.store.writer import Store
from sebiao import cli
from sebiao_common import strict_json
from sebiao_common.domain import COLOR_CLASSES
from tests.support.workshop_sim import EXAMPLE


def _text(path) -> str:
    with pdfplumber.open(path) as pdf:
        assert len(pdf.pages) == 1
        page = pdf.pages[0]
        assert (round(page.width), round(page.height)) == (595, 842)  # A4
        return page.extract_text()


def test_poster_names_every_tool_its_home_rack_and_every_colour_with_its_shape(tmp_path, capsys):
    out = tmp_path / "poster.pdf"
    assert cli.main(["poster", "--config", str(EXAMPLE), "--out", str(out)]) == 0
    text = _text(out)
    config = load_config(EXAMPLE)
    for tool in config.tools:
        assert tool.id in text
    for station in config.stations:
        assert station.id in text
    for zone in COLOR_CLASSES:  # name and shape, never colour alone
        assert zone.zh in text and zone.shape_zh in text
    assert text.index("色标管理") < text.index("Colour-coded")  # Chinese first
    assert "红灯" in text and "蜂鸣" in text and f"至少停留 {config.rules.wash_min_seconds} 秒" in text
    assert "wrote" in capsys.readouterr().out


def test_poster_follows_the_config(tmp_path):
    """Another workshop's tools and dwell reach the poster (it is not a fixed text)."""
    source = EXAMPLE.read_text(encoding="utf-8").replace("KN-R-01", "KN-R-77")
    source += "\n" if not source.endswith("\n") else ""
    config = tmp_path / "workshop.yaml"
    config.write_text(source, encoding="utf-8")
    out = tmp_path / "poster.pdf"
    assert cli.main(["poster", "--config", str(config), "--out", str(out)]) == 0
    text = _text(out)
    assert "KN-R-77" in text and "KN-R-01" not in text


@pytest.fixture
def data_dir(tmp_path):
    Store(tmp_path / "gateway.sqlite3").close()  # a gateway ran here once
    return tmp_path


def test_training_add_then_list(data_dir, capsys):
    assert cli.main(["training", "add", "--data-dir", str(data_dir), "--who", "张三", "--topic", "色标分区与清洗",
                     "--by", "李店长", "--day", "2026-12-01"]) == 0
    assert cli.main(["training", "add", "--data-dir", str(data_dir), "--who", "王五", "--topic", "消毒柜使用",
                     "--by", "李店长"]) == 0
    capsys.readouterr()
    assert cli.main(["training", "list", "--data-dir", str(data_dir), "--json"]) == 0
    records = strict_json.loads(capsys.readouterr().out)
    assert [(r["who"], r["topic"], r["by"]) for r in records] == [
        ("王五", "消毒柜使用", "李店长"), ("张三", "色标分区与清洗", "李店长")]
    assert records[1]["day"] == "2026-12-01" and len(records[0]["day"]) == 10


@pytest.mark.parametrize("args, reason", [
    (["--who", " ", "--topic", "x", "--by", "y"], "who"),
    (["--who", "张三", "--topic", "x", "--by", "y", "--day", "2026-13-01"], "day"),
    (["--who", "张三", "--topic", "x" * 201, "--by", "y"], "topic"),
])
def test_training_refuses_bad_records(data_dir, capsys, args, reason):
    assert cli.main(["training", "add", "--data-dir", str(data_dir), *args]) == 2
    assert reason in capsys.readouterr().err
    assert cli.main(["training", "list", "--data-dir", str(data_dir), "--json"]) == 0
    assert strict_json.loads(capsys.readouterr().out) == []


def test_training_without_a_store_says_so(tmp_path, capsys):
    assert cli.main(["training", "list", "--data-dir", str(tmp_path)]) == 2
    assert "start the gateway once" in capsys.readouterr().err


def test_training_records_are_append_only(data_dir):
    cli.main(["training", "add", "--data-dir", str(data_dir), "--who", "张三", "--topic", "t", "--by", "b"])
    store = Store(data_dir / "gateway.sqlite3")
    with pytest.raises(Exception, match="append-only"):
        store.conn.execute("DELETE FROM training")
    store.close()
