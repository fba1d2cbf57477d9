"""The update job in waves, as pure functions (``docs/fleet.md``, "Waves"): table-tested, no clock, no I/O.

One station first (wave 0), then the rest in waves of ``wave_size``, never all at once. A wave starts once
every station of the one before ended well. A station is started (sent the ``update`` command) only while it is
online and its last status said ``buffer_depth: 0``; a station that does not get there within ``timeout_ms`` of
its wave's start, or does not end within ``timeout_ms`` of being started, has failed. The first failure stops
the job: no station is started after it; the stations updating already are followed to their end (their
download tokens stay valid until then), then the job ends ``failed``. ``stop`` does the same for the user.

A refusal for a reason that passes (unsent events, a probe cycle, busy) sends the station back to wait: it is
asked again after ``RETRY_MS`` with a new token, while its wave's time lasts. A station's outcome comes from its status (``update``: version, state, error; ``fw``). Its ``update`` field is
retained from its last attempt, so a report the same as the one it held when it was started, before any sign
of the new attempt (``downloading``, ``switching``, ``trial``), is the old one and not judged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sebiao_common import strict_json

# a station in the job
WAITING, UPDATING, DONE, FAILED, NOT_STARTED = "waiting", "updating", "done", "failed", "not_started"
# the job
RUNNING, STOPPING, FINISHED, JOB_FAILED, STOPPED = "running", "stopping", "done", "failed", "stopped"
ENDED = (FINISHED, JOB_FAILED, STOPPED)
IN_PROGRESS = ("downloading", "switching", "trial")  # a station's update.state while it works on it
# A refusal that passes (docs/fleet.md, ``refused``): the station is asked again, not before RETRY_MS, while its
# wave's time lasts; "same version" is an end, any other reason a failure.
PASSING = ("unsent events", "probe cycle", "busy")
RETRY_MS = 30_000


@dataclass(frozen=True, kw_only=True)
class Seen:
    """A station as the gateway last heard it."""

    online: bool = False
    buffer_depth: int = 0
    fw: str | None = None
    update: Mapping[str, object] | None = None  # the status' ``update`` field

    @classmethod
    def of(cls, online: bool, buffer_depth: int, health: Mapping[str, object]) -> Seen:
        fw, update = health.get("fw"), health.get("update")
        return cls(online=online, buffer_depth=buffer_depth, fw=fw if isinstance(fw, str) else None,
                   update=update if isinstance(update, dict) else None)


@dataclass(frozen=True, kw_only=True)
class Target:
    station: str
    wave: int
    state: str = WAITING
    attempt: int = 0
    token: str | None = None  # the download token of the attempt in progress
    started_at: int = 0
    ended_at: int = 0
    before: str | None = None  # the station's ``update`` field when started (compact JSON), to tell an old report
    progressed: bool = False  # a sign of this attempt came (downloading, switching, trial)
    progress: str = ""  # the station's last reported state, e.g. "downloading 3/21"
    error: str | None = None
    not_before: int = 0  # refused for a passing reason: not asked again before this

    def to_json(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items()}


@dataclass(frozen=True, kw_only=True)
class Job:
    id: int
    release: str  # the release's id at the gateway
    version: str
    targets: tuple[Target, ...]
    wave_size: int
    timeout_ms: int
    state: str = RUNNING
    created_at: int = 0
    wave: int = 0  # the wave under way
    wave_started_at: int = 0
    ended_at: int = 0
    reason: str | None = None  # why it failed or stopped: names the station

    def target(self, station: str) -> Target | None:
        return next((t for t in self.targets if t.station == station), None)

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    def tokens(self) -> dict[str, Target]:
        """The download tokens valid now: one per station updating."""
        return {t.token: t for t in self.targets if t.state == UPDATING and t.token}

    def to_json(self) -> dict[str, object]:
        return {**{k: v for k, v in vars(self).items() if k != "targets"},
                "targets": [t.to_json() for t in self.targets]}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Job:
        """A job as ``to_json`` wrote it (the store's row); fields added later take their defaults."""
        return cls(**{**doc, "targets": tuple(Target(**t) for t in doc["targets"])})


def plan(job_id: int, release: str, version: str, stations: tuple[str, ...], wave_size: int, timeout_ms: int,
         now: int) -> Job:
    """A new job: the first station alone, then waves of ``wave_size``."""
    if not stations:
        raise ValueError("no station to update")
    if len(set(stations)) != len(stations):
        raise ValueError("a station is named twice")
    if wave_size < 1:
        raise ValueError("wave_size must be at least 1")
    targets = tuple(Target(station=s, wave=0 if i == 0 else 1 + (i - 1) // wave_size) for i, s in enumerate(stations))
    return Job(id=job_id, release=release, version=version, targets=targets, wave_size=wave_size,
               timeout_ms=timeout_ms, created_at=now, wave_started_at=now)


def _key(update: Mapping[str, object] | None) -> str | None:
    return None if update is None else strict_json.dumps(update, sort_keys=True, separators=(",", ":"))


def _with(job: Job, target: Target) -> Job:
    return replace(job, targets=tuple(target if t.station == target.station else t for t in job.targets))


def _fail(job: Job, target: Target, error: str, now: int) -> Job:
    """The station failed: the job stops starting stations; it ends once none is updating."""
    job = _with(job, replace(target, state=FAILED, error=error, ended_at=now, token=None))
    if job.state == RUNNING:
        job = replace(job, state=STOPPING, reason=f"{target.station}: {error}")
    return job


def on_status(job: Job, station: str, seen: Seen, now: int) -> Job:
    """A status from ``station``: judged when the station is updating and the report is about this version."""
    target = job.target(station)
    if target is None or target.state != UPDATING or seen.update is None:
        return job
    update = seen.update
    if update.get("version") != job.version:
        return job
    state, error = update.get("state"), update.get("error")
    error = error if isinstance(error, str) else ""
    if state in IN_PROGRESS:
        done, of = update.get("done"), update.get("of")
        progress = f"{state} {done}/{of}" if state == "downloading" and isinstance(done, int) \
            and isinstance(of, int) else str(state)
        return _with(job, replace(target, progressed=True, progress=progress))
    # a refusal answers a command (a stale one at worst sends the station back to wait: see above)
    if state == "refused" and error == "same version":
        return _with(job, replace(target, state=DONE, progress="same version", ended_at=now, token=None))
    if state == "refused" and error in PASSING:
        return _with(job, replace(target, state=WAITING, progress=f"refused ({error})", token=None,
                                  not_before=now + RETRY_MS))
    if not target.progressed and _key(update) == target.before:
        return job  # the last attempt's outcome, still retained: not this attempt's
    if state == "confirmed" and seen.fw == job.version:
        return _with(job, replace(target, state=DONE, progress="confirmed", ended_at=now, token=None))
    if state in ("failed", "rolled_back", "refused"):
        return _fail(job, replace(target, progress=str(state)), f"{state}" + (f" ({error})" if error else ""), now)
    return job


def step(job: Job, seen: Mapping[str, Seen], now: int, new_token: Callable[[], str]) -> tuple[Job, tuple[Target, ...]]:
    """Time passing: timeouts, the next wave, the stations to start now (each with its new token, ``attempt``
    counted); returns the job and the targets to send ``update`` to."""
    if job.ended:
        return job, ()
    for target in job.targets:
        if target.state == UPDATING and now - target.started_at > job.timeout_ms:
            job = _fail(job, target, f"timeout: no outcome within {job.timeout_ms // 1000} s"
                                     + (f" (last: {target.progress})" if target.progress else ""), now)
    if job.state == RUNNING:
        job = _next_wave(job, now)
    starts: list[Target] = []
    if job.state == RUNNING:
        for target in job.targets:
            if target.wave != job.wave or target.state != WAITING:
                continue
            job, started = _try_start(job, target, seen.get(target.station, Seen()), now, new_token)
            if started is not None:
                starts.append(started)
            if job.state != RUNNING:
                break
    if job.state == RUNNING and not starts:  # a wave of stations on the version already: on to the next
        job = _next_wave(job, now)
    return _maybe_end(job, now), tuple(starts)


def _next_wave(job: Job, now: int) -> Job:
    while all(t.state == DONE for t in job.targets if t.wave == job.wave):
        if job.wave >= max(t.wave for t in job.targets):
            return replace(job, state=FINISHED, ended_at=now)
        job = replace(job, wave=job.wave + 1, wave_started_at=now)
    return job


def _try_start(job: Job, target: Target, seen: Seen, now: int,
               new_token: Callable[[], str]) -> tuple[Job, Target | None]:
    if seen.fw == job.version:  # it runs the version already: nothing to send
        return _with(job, replace(target, state=DONE, progress="same version", ended_at=now)), None
    if now - job.wave_started_at > job.timeout_ms:  # its wave's time is up, refusals asked again included
        why = "offline" if not seen.online else f"unsent events (buffer_depth {seen.buffer_depth})" \
            if seen.buffer_depth else target.progress
        return _fail(job, target, f"not started within {job.timeout_ms // 1000} s: {why}", now), None
    if seen.online and seen.buffer_depth == 0 and now >= target.not_before:
        started = replace(target, state=UPDATING, attempt=target.attempt + 1, token=new_token(), started_at=now,
                          before=_key(seen.update), progressed=False, progress="sent")
        return _with(job, started), started
    return job, None


def _maybe_end(job: Job, now: int) -> Job:
    """A job stopping ends once no station is updating: what was not started never is."""
    if job.state != STOPPING or any(t.state == UPDATING for t in job.targets):
        return job
    targets = tuple(replace(t, state=NOT_STARTED) if t.state == WAITING else t for t in job.targets)
    failed = any(t.state == FAILED for t in targets)
    return replace(job, targets=targets, state=JOB_FAILED if failed else STOPPED, ended_at=now)


def stop(job: Job, now: int, by: str = "stopped by the user") -> Job:
    """The user stops the job: nothing more is started; the stations updating are followed to their end."""
    if job.state != RUNNING:
        return job
    return _maybe_end(replace(job, state=STOPPING, reason=by), now)


def abandon(job: Job, now: int, reason: str) -> Job:
    """The job cannot go on (its release is gone): it ends failed at once; no station is started again."""
    targets = tuple(replace(t, state=NOT_STARTED) if t.state == WAITING else
                    replace(t, state=FAILED, error=reason, ended_at=now, token=None) if t.state == UPDATING else t
                    for t in job.targets)
    return replace(job, targets=targets, state=JOB_FAILED, reason=reason, ended_at=now)
