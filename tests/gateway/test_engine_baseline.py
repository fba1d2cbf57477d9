"""Judging under the last accepted rules (``core/baseline.py``), in-process with a controlled clock: what a
relaxed requirement silences is found, once, and nothing changes locally."""

from __future__ import annotations

import yaml
from workshop_sim import EXAMPLE, Sim

from edge_gateway.core.engine import Engine
from edge_gateway.core.projection import SilencedFact
from edge_gateway.model.workshop import parse_config

SEED = {"version": None, "rules": {"overdue_after_minutes": 240, "station_offline_after_seconds": 90,
                                   "wash_required": ["brush", "cloth", "container", "cutting_board", "knife", "scissors"],
                                   "exceptions": []}}


class Collected:
    """A projection that keeps the silenced facts (and ignores the rest)."""

    def __init__(self) -> None:
        self.facts: list[SilencedFact] = []

    def silenced(self, fact: SilencedFact) -> None:
        self.facts.append(fact)

    def event(self, fact) -> None: ...  # type: ignore[no-untyped-def]
    def alarm(self, fact) -> None: ...  # type: ignore[no-untyped-def]
    def status(self, fact) -> None: ...  # type: ignore[no-untyped-def]
    def tick(self, fact) -> None: ...  # type: ignore[no-untyped-def]


def _sim(tmp_path, **rules):  # type: ignore[no-untyped-def]
    data = yaml.safe_load(EXAMPLE.read_text("utf-8"))
    data["rules"].update(rules)
    sim = Sim(tmp_path, parse_config(data, "w.yaml")).all_online()
    collected = Collected()
    sim.engine.projections = (collected,)
    return sim, collected.facts


def test_a_longer_overdue_is_silenced_once_per_outing_under_the_seed_rules(tmp_path):
    sim, silenced = _sim(tmp_path, overdue_after_minutes=480)
    assert sim._run(lambda out: sim.engine.accepted_setup(SEED, sim.now, out)).messages == []
    assert sim.last_result is True and sim.engine.baseline is not None
    sim.at(0).event("rack-red-1", "KN-R-01", "removed")
    for minute in range(30, 481, 30):
        sim.at(minute * 60).heartbeat().tick()
    assert [(f.raised.type, f.raised.subject, f.relaxed, f.accepted_version) for f in silenced] == [
        ("overdue", "KN-R-01", True, None)]  # at 241 minutes, once, though ticks went on
    assert sim.raised == []  # nothing shown locally before the owner's own 480 minutes
    sim.at(481 * 60).heartbeat().tick()
    assert sim.raised == [("overdue", "KN-R-01", "minor")] and len(silenced) == 1
    sim.at(482 * 60).event("sink-red-1", "KN-R-01", "placed")
    sim.at(483 * 60).event("sink-red-1", "KN-R-01", "removed")
    sim.at(484 * 60).event("rack-red-1", "KN-R-01", "placed")
    sim.at(485 * 60).event("rack-red-1", "KN-R-01", "removed")  # a new outing: silenced again once due
    sim.at((485 + 241) * 60).heartbeat().tick()
    assert len(silenced) == 2


def test_the_same_rules_or_rules_that_do_not_fit_judge_nothing_twice(tmp_path):
    sim, silenced = _sim(tmp_path)
    sim._run(lambda out: sim.engine.accepted_setup(SEED, sim.now, out))
    assert sim.last_result is True and sim.engine.baseline is None  # the owner relaxed nothing
    other = {"version": 2, "rules": {**SEED["rules"], "exceptions": [{"station": "sink-red-9", "reason": "x",
                                                                       "color": "green"}]}}
    sim._run(lambda out: sim.engine.accepted_setup(other, sim.now, out))
    assert sim.last_result is False and sim.engine.baseline is None
    assert sim.store.meta("accepted_setup") is not None  # kept as the cloud said it, read back at start


def test_the_accepted_rules_survive_a_restart(tmp_path):
    sim, _ = _sim(tmp_path, wash_required=["knife"])
    sim._run(lambda out: sim.engine.accepted_setup(SEED, sim.now, out))
    engine = Engine(sim.config, sim.store, sim.now)  # a restart over the same store, the cloud away
    assert engine.baseline is not None and engine.baseline.version is None
    assert "container" in engine.baseline.config.rules.wash_required
