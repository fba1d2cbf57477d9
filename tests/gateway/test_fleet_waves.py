"""The update job's wave model (edge_gateway/fleet/waves.py), table-tested: who starts when, who is done, failed or
too slow, the first failure stopping the job, a stop by the user, a retained old report not taken for a new one."""

from __future__ import annotations

import itertools

import pytest

from edge_gateway.fleet import waves
from edge_gateway.fleet.waves import Seen

V = "0.2.0"
READY = Seen(online=True, buffer_depth=0, fw="0.1.0")
T = 60_000  # the station timeout, ms


def _tokens():
    counter = itertools.count(1)
    return lambda: f"tok{next(counter)}"


def _job(stations=("a", "b", "c", "d", "e", "f"), wave_size=2) -> waves.Job:
    return waves.plan(1, "rel", V, tuple(stations), wave_size, T, now=0)


def _update(state: str, **more) -> Seen:
    return Seen(online=True, buffer_depth=0, fw=V if state == "confirmed" else "0.1.0",
                update={"version": V, "state": state, **more})


def _states(job: waves.Job) -> dict[str, str]:
    return {t.station: t.state for t in job.targets}


@pytest.mark.parametrize("count, size, expected", [
    (1, 5, [0]),
    (2, 5, [0, 1]),
    (6, 2, [0, 1, 1, 2, 2, 3]),
    (7, 5, [0, 1, 1, 1, 1, 1, 2]),
    (3, 1, [0, 1, 2]),
])
def test_the_first_station_alone_then_waves_of_n(count, size, expected):
    job = waves.plan(1, "rel", V, tuple(f"s{i}" for i in range(count)), size, T, now=0)
    assert [t.wave for t in job.targets] == expected


@pytest.mark.parametrize("stations, size, why", [((), 5, "no station"), (("a", "a"), 5, "twice"),
                                                  (("a",), 0, "wave_size")])
def test_a_plan_that_cannot_run_is_refused(stations, size, why):
    with pytest.raises(ValueError, match=why):
        waves.plan(1, "rel", V, stations, size, T, now=0)


@pytest.mark.parametrize("seen, starts", [
    (READY, True),
    (Seen(online=False, buffer_depth=0, fw="0.1.0"), False),
    (Seen(online=True, buffer_depth=3, fw="0.1.0"), False),
    (Seen(), False),  # never heard
])
def test_a_station_starts_only_online_with_an_empty_buffer(seen, starts):
    job, started = waves.step(_job(), {"a": seen}, 1000, _tokens())
    assert [t.station for t in started] == (["a"] if starts else [])
    assert _states(job)["a"] == ("updating" if starts else "waiting")
    if starts:
        assert started[0].token == "tok1" and started[0].attempt == 1 and job.tokens() == {"tok1": started[0]}


def test_only_the_first_wave_starts_then_the_next_once_it_is_done():
    job, started = waves.step(_job(), {s: READY for s in "abcdef"}, 1000, _tokens())
    assert [t.station for t in started] == ["a"]
    job, started = waves.step(job, {s: READY for s in "bcdef"}, 2000, _tokens())
    assert started == ()  # a still updating
    job = waves.on_status(job, "a", _update("downloading", done=3, of=20), 3000)
    assert job.target("a").progress == "downloading 3/20"
    job = waves.on_status(job, "a", _update("confirmed"), 4000)
    assert _states(job)["a"] == "done" and job.tokens() == {}
    job, started = waves.step(job, {s: READY for s in "bcdef"}, 5000, _tokens())
    assert [t.station for t in started] == ["b", "c"] and job.wave == 1
    for s in "bc":
        job = waves.on_status(job, s, _update("confirmed"), 6000)
    job, started = waves.step(job, {s: READY for s in "def"}, 7000, _tokens())
    assert [t.station for t in started] == ["d", "e"]
    for s in "de":
        job = waves.on_status(job, s, _update("confirmed"), 8000)
    job, started = waves.step(job, {"f": READY}, 9000, _tokens())
    job = waves.on_status(job, "f", _update("confirmed"), 9500)
    job, started = waves.step(job, {}, 10_000, _tokens())
    assert job.state == "done" and job.ended_at == 10_000 and set(_states(job).values()) == {"done"}


@pytest.mark.parametrize("state, error, outcome, reason", [
    ("failed", "hash sebiao_station/app.py", "failed", "failed (hash sebiao_station/app.py)"),
    ("rolled_back", "no confirmation", "failed", "rolled_back (no confirmation)"),
    ("refused", "no space", "failed", "refused (no space)"),
    ("refused", "same version", "done", None),
    ("switching", None, "updating", None),
    ("trial", None, "updating", None),
])
def test_what_a_status_means(state, error, outcome, reason):
    job, _ = waves.step(_job(), {"a": READY}, 1000, _tokens())
    job = waves.on_status(job, "a", _update(state, **({"error": error} if error else {})), 2000)
    assert _states(job)["a"] == outcome
    if reason:
        assert job.target("a").error == reason and job.reason == f"a: {reason}" and job.state == "stopping"


def test_a_report_about_another_version_or_without_update_is_not_judged():
    job, _ = waves.step(_job(), {"a": READY}, 1000, _tokens())
    for seen in (Seen(online=True, fw="0.1.0"), Seen(online=False),
                 Seen(online=True, fw="0.1.0", update={"version": "0.1.9", "state": "failed", "error": "x"})):
        assert waves.on_status(job, "a", seen, 2000) == job


def test_the_old_outcome_still_retained_is_not_taken_for_the_new_attempt():
    old = {"version": V, "state": "failed", "error": "http 404"}
    seen = Seen(online=True, buffer_depth=0, fw="0.1.0", update=old)
    job, _ = waves.step(_job(), {"a": seen}, 1000, _tokens())
    assert waves.on_status(job, "a", seen, 1500) == job  # the same report: the last attempt's
    job = waves.on_status(job, "a", _update("downloading", done=0, of=20), 2000)
    failed = waves.on_status(job, "a", seen, 3000)  # the same words, after a sign of this attempt: this one's
    assert _states(failed)["a"] == "failed"


def test_the_first_failure_stops_the_job_and_the_rest_never_start():
    job = _job(("a", "b", "c"), wave_size=5)
    job, _ = waves.step(job, {s: READY for s in "abc"}, 1000, _tokens())
    job = waves.on_status(job, "a", _update("failed", error="signature"), 2000)
    job, started = waves.step(job, {s: READY for s in "bc"}, 3000, _tokens())
    assert started == () and job.state == "failed" and job.reason == "a: failed (signature)"
    assert _states(job) == {"a": "failed", "b": "not_started", "c": "not_started"}


def test_a_failure_in_a_wave_lets_the_others_of_the_wave_finish():
    job = _job(("a", "b", "c", "d"), wave_size=2)
    job, _ = waves.step(job, {"a": READY}, 0, _tokens())
    job = waves.on_status(job, "a", _update("confirmed"), 100)
    job, started = waves.step(job, {s: READY for s in "bcd"}, 200, _tokens())
    assert [t.station for t in started] == ["b", "c"]
    job = waves.on_status(job, "b", _update("rolled_back", error="timeout"), 300)
    job, started = waves.step(job, {"d": READY}, 400, _tokens())
    assert started == () and job.state == "stopping" and list(job.tokens().values())[0].station == "c"  # c still downloads
    job = waves.on_status(job, "c", _update("confirmed"), 500)
    job, _ = waves.step(job, {"d": READY}, 600, _tokens())
    assert job.state == "failed" and _states(job) == {"a": "done", "b": "failed", "c": "done", "d": "not_started"}


def test_a_station_that_takes_too_long_has_failed():
    job, _ = waves.step(_job(("a", "b")), {"a": READY}, 1000, _tokens())
    job = waves.on_status(job, "a", _update("downloading", done=1, of=20), 2000)
    job, _ = waves.step(job, {"b": READY}, 1000 + T, _tokens())
    assert _states(job)["a"] == "updating"  # at the limit, not past it
    job, _ = waves.step(job, {"b": READY}, 1001 + T, _tokens())
    assert job.state == "failed" and job.target("a").error == "timeout: no outcome within 60 s (last: downloading 1/20)"
    assert job.tokens() == {}


@pytest.mark.parametrize("seen, why", [
    (Seen(online=False), "offline"),
    (Seen(online=True, buffer_depth=4, fw="0.1.0"), "unsent events (buffer_depth 4)"),
])
def test_a_station_never_ready_fails_after_the_timeout(seen, why):
    job, started = waves.step(_job(("a", "b")), {"a": seen}, T, _tokens())
    assert started == () and job.state == "running"
    job, _ = waves.step(job, {"a": seen}, T + 1, _tokens())
    assert job.state == "failed" and job.target("a").error == f"not started within 60 s: {why}"


def test_a_station_on_the_version_already_is_done_without_a_command():
    job, started = waves.step(_job(("a",)), {"a": Seen(online=False, fw=V)}, 1000, _tokens())
    assert started == () and job.state == "done" and job.target("a").progress == "same version"


def test_stop_starts_nothing_more_and_waits_for_those_updating():
    job, _ = waves.step(_job(("a", "b")), {"a": READY}, 0, _tokens())
    job = waves.stop(job, 100)
    assert job.state == "stopping" and job.reason == "stopped by the user"
    job = waves.on_status(job, "a", _update("confirmed"), 200)
    job, started = waves.step(job, {"b": READY}, 300, _tokens())
    assert started == () and job.state == "stopped" and _states(job) == {"a": "done", "b": "not_started"}
    assert waves.stop(job, 400) == job


def test_a_job_survives_its_json():
    job, _ = waves.step(_job(), {"a": READY}, 1000, _tokens())
    assert waves.Job.from_json(job.to_json()) == job


def test_abandon_ends_at_once():
    job, _ = waves.step(_job(("a", "b")), {"a": READY}, 0, _tokens())
    job = waves.abandon(job, 50, "release gone")
    assert job.state == "failed" and job.tokens() == {} and _states(job) == {"a": "failed", "b": "not_started"}


def test_the_wave_model_is_pure():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(waves.__file__).read_text("utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not names & {"time", "datetime", "os", "random", "secrets", "socket", "sqlite3", "threading"}


@pytest.mark.parametrize("why", ["unsent events", "probe cycle", "busy"])
def test_a_passing_refusal_is_asked_again_later_within_the_waves_time(why):
    job, first = waves.step(_job(("a",)), {"a": READY}, 0, _tokens())
    job = waves.on_status(job, "a", _update("refused", error=why), 1000)
    target = job.target("a")
    assert target.state == "waiting" and target.progress == f"refused ({why})" and job.tokens() == {}
    job, started = waves.step(job, {"a": READY}, 1000 + waves.RETRY_MS - 1, _tokens())
    assert started == ()
    held = Seen(online=True, buffer_depth=0, fw="0.1.0", update={"version": V, "state": "refused", "error": why})
    job, started = waves.step(job, {"a": held}, 1000 + waves.RETRY_MS, _tokens())
    assert [t.attempt for t in started] == [2] and started[0].before is not None
    # its status says the same refusal still: the same words again are this attempt's answer
    job = waves.on_status(job, "a", held, 40_000)
    assert job.target("a").state == "waiting"
    job, started = waves.step(job, {"a": held}, 40_000 + waves.RETRY_MS, _tokens())
    assert started == () and job.state == "failed"  # its wave's minute is over: not asked a third time
    assert job.state == "failed" and job.target("a").error == f"not started within 60 s: refused ({why})", job
