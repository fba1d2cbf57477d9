"""``sebiao fleet update``'s progress display (edge_gateway/commands/fleet.py): on a terminal one line a station,
redrawn in place; otherwise plain lines, each written once; the verdict names the failed station and why."""

from __future__ import annotations

import io

from edge_gateway.commands import fleet


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _job(state: str, a: str, b: str, **more) -> dict:
    return {"id": 7, "version": "0.2.0", "state": state, "reason": more.get("reason"),
            "targets": [{"station": "rack-red-1", "wave": 0, "state": a, "progress": more.get("pa", ""),
                         "error": more.get("ea")},
                        {"station": "sink-red-1", "wave": 1, "state": b, "progress": "", "error": None}]}


class _Gateway:
    def __init__(self, jobs: list[dict]) -> None:
        self.jobs = jobs

    def ok(self, path: str, body: object = None, post: bool = False) -> object:
        assert path == "/api/fleet/jobs/7"
        return self.jobs.pop(0)


def _follow(monkeypatch, out: io.StringIO, jobs: list[dict]) -> dict:
    monkeypatch.setattr(fleet.sys, "stdout", out)
    monkeypatch.setattr(fleet, "POLL_SECONDS", 0)
    return fleet._follow(_Gateway(jobs[1:]), jobs[0])


SEQUENCE = [_job("running", "updating", "waiting", pa="sent"),
            _job("running", "updating", "waiting", pa="downloading 3/23"),
            _job("running", "updating", "waiting", pa="downloading 3/23"),
            _job("done", "done", "done", pa="confirmed")]


def test_on_a_terminal_the_lines_are_redrawn(monkeypatch):
    out = _Tty()
    assert _follow(monkeypatch, out, list(SEQUENCE))["state"] == "done"
    text = out.getvalue()
    assert text.count("\x1b[3F") == 3  # back over the job's line and the two stations', once a poll
    assert text.count("\x1b[2K") == 12
    assert "rack-red-1           更新中 / updating  downloading 3/23" in text


def test_elsewhere_each_line_is_written_once(monkeypatch):
    out = io.StringIO()
    _follow(monkeypatch, out, list(SEQUENCE))
    lines = out.getvalue().splitlines()
    assert "\x1b" not in out.getvalue() and len(lines) == len(set(lines))
    assert lines[-1] == "  第 2 批 / wave 2  sink-red-1           完成 / done"


def test_the_verdict_names_the_station_and_the_reason(capsys):
    failed = _job("failed", "failed", "not_started", ea="rolled_back (no confirmation)",
                  reason="rack-red-1: rolled_back (no confirmation)")
    assert fleet._verdict(failed) == 1
    err = capsys.readouterr().err
    assert "读卡站 rack-red-1 更新失败 / station rack-red-1 failed: rolled_back (no confirmation)" in err
    assert "not started, still on their version: sink-red-1" in err
    assert fleet._verdict(_job("done", "done", "done")) == 0
