"""The update job in the running gateway: the releases it was given, the job, the download tokens.

``Fleet`` is one of the engine's projections (``core/projection.py``): every station status reaches it inside
the pipeline's transaction, where the wave model (``waves.py``) judges it and the job's row is written
(``jobs.py``). At each tick it asks the pipeline to run ``_step`` (``Pipeline.call``): the next stations are
started there, their ``update`` command published on their ``cmd`` topic after the batch commits, as the
stations API sends its test pattern. So the job changes on one thread, the pipeline's; the HTTP side reads
``self.job`` (a frozen value, replaced whole) and the release's bytes held in memory (at most 512 KiB).

A download token is 128 random bits per station and attempt, valid while that attempt runs and at most
15 minutes (``docs/fleet.md``). It is kept in the job's row: a gateway started again serves the station that
was downloading when it stopped.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import shutil
import threading
from dataclasses import replace
from pathlib import Path

from edge_gateway.core.engine import Engine, Outcome, Outgoing
from edge_gateway.core.pipeline import Pipeline
from edge_gateway.core.projection import AlarmFact, CycleFact, EventFact, SilencedFact, StatusFact, TickFact
from edge_gateway.fleet import jobs, waves
from edge_gateway.fleet.release import (
    FILES,
    MANIFEST,
    SIGNATURE,
    Release,
    ReleaseError,
    check_file,
    load_public_key,
    parse_manifest,
    read_release,
    verify_parts,
    write_release,
)
from edge_gateway.fleet.settings import FleetSettings
from edge_gateway.model.protocol import cmd_topic, encode_command
from edge_gateway.store.writer import Store
from sebiao_common import strict_json
from sebiao_common.clock import Clock
from sebiao_common.errors import SebiaoError

log = logging.getLogger(__name__)

TOKEN_MAX_MS = 15 * 60 * 1000
KEEP_RELEASES = 5  # the newest uploads kept in the data dir (and always the running job's): at most 512 KiB each
RELEASE_ID = re.compile(r"[0-9a-f]{16}")


class Refused(SebiaoError):
    """Answered to the API's caller with ``status`` (the pipeline passes a ``SebiaoError`` on to the future)."""

    def __init__(self, status: int, zh: str, en: str) -> None:
        super().__init__(f"{zh} / {en}")
        self.status = status


class Fleet:
    def __init__(self, *, settings: FleetSettings, store: Store, data_dir: Path, stations: tuple[str, ...],
                 clock: Clock) -> None:
        self.settings, self.store, self.stations, self.clock = settings, store, stations, clock
        self.key = load_public_key(settings.release_key)
        self.releases = data_dir / "fleet" / "releases"
        self.pipeline: Pipeline | None = None
        self.port = settings.port or 0  # set by attach(): the gateway's HTTP port unless fleet.port says
        self._queued = False  # a _step is in the pipeline's inbox already
        self._upload_lock = threading.Lock()
        self.served: tuple[str, dict[str, bytes]] = ("", {})  # the running job's release: id, then name -> bytes
        self.job = jobs.newest(store.conn)
        if self.job is not None and not self.job.ended:
            self._resume(self.job)

    def _resume(self, job: waves.Job) -> None:
        """A job the gateway was running when it stopped: on with it, or ended when its release is gone."""
        try:
            self.served = self.prepared(job.release)
            log.info("update job %d (%s) goes on after the restart", job.id, job.version)
        except (ReleaseError, Refused) as exc:
            with self.store.transaction():
                self._save(waves.abandon(job, self.clock(), f"release {job.release}: {exc}"))
            log.error("update job %d ended: its release cannot be served: %s", job.id, exc)

    def attach(self, pipeline: Pipeline, http_port: int) -> None:
        self.pipeline = pipeline
        self.port = self.settings.port or http_port

    # -- releases --------------------------------------------------------------------------------------------

    def load_release(self, release_id: str) -> Release:
        if not RELEASE_ID.fullmatch(release_id):
            raise Refused(404, f"没有发布包 {release_id!r}", f"no release {release_id!r}"[:100])
        directory = self.releases / release_id
        if not directory.is_dir():
            raise Refused(404, f"没有发布包 {release_id}：请先上传", f"no release {release_id}: upload it first")
        return read_release(directory, self.key)

    def take(self, manifest: bytes, signature: bytes, files: dict[str, bytes]) -> Release:
        """An uploaded release, verified with the configured release key before it is kept (ReleaseError)."""
        release = verify_parts(manifest, signature, files, self.key, self.releases)
        release = replace(release, directory=self.releases / release.id)
        with self._upload_lock:
            if not release.directory.is_dir():
                release.directory.parent.mkdir(parents=True, exist_ok=True)
                write_release(release.directory, manifest, signature, files)
                log.info("release %s (%s, %d files) taken", release.id, release.version, len(release.files))
            release.directory.touch()  # the newest upload, even when it was there already
            self._prune(keep=release.id)
        return release

    def _prune(self, keep: str) -> None:
        """The releases past the newest ``KEEP_RELEASES`` removed, never the one just taken or the running
        job's: a gateway's storage is small, and an old release can be uploaded again."""
        job = self.job
        busy = {keep} | ({job.release} if job is not None and not job.ended else set())
        found = sorted((d for d in self.releases.iterdir() if d.is_dir() and RELEASE_ID.fullmatch(d.name)),
                       key=lambda d: d.stat().st_mtime_ns, reverse=True)
        for old in found[KEEP_RELEASES:]:
            if old.name not in busy:
                shutil.rmtree(old, ignore_errors=True)
                log.info("release %s removed (only the newest %d are kept)", old.name, KEEP_RELEASES)

    def prepared(self, release_id: str) -> tuple[str, dict[str, bytes]]:
        """A release verified and read into memory as it will be served (off the pipeline thread): the bytes
        served are the bytes checked."""
        release = self.load_release(release_id)
        names = {MANIFEST: release.manifest, SIGNATURE: release.signature}
        for entry in release.files:
            path = release.directory / FILES / entry.path
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise ReleaseError(str(path), "无法读取", exc.strerror or str(exc)) from None
            check_file(entry, data, str(path))
            names[f"{FILES}/{entry.path}"] = data
        return release.id, names

    def download(self, token: str, name: str) -> tuple[bytes, str] | None:
        """What ``/fw/{token}/{name}`` serves: the bytes and their type, or None (404) for anything but a
        valid token of a station updating now and a name of its release."""
        job, (release_id, names) = self.job, self.served
        if job is None or job.ended or release_id != job.release:
            return None
        target = None
        for valid, candidate in job.tokens().items():
            if hmac.compare_digest(valid.encode(), token.encode("utf-8", "replace")):
                target = candidate
        if target is None or self.clock() - target.started_at > min(job.timeout_ms, TOKEN_MAX_MS):
            return None
        data = names.get(name)
        if data is None:
            return None
        return data, "application/json" if name == MANIFEST else "application/octet-stream"

    # -- the job, on the pipeline thread ---------------------------------------------------------------------

    def start(self, served: tuple[str, dict[str, bytes]], stations: tuple[str, ...], wave_size: int | None,
              engine: Engine, now: int, out: Outcome) -> waves.Job:
        if self.job is not None and not self.job.ended:
            raise Refused(409, f"更新任务 {self.job.id} 正在进行", f"update job {self.job.id} is running: wait for "
                                                              "it to end, or stop it")
        try:
            version = parse_manifest(served[1][MANIFEST], MANIFEST)[0]
            job = waves.plan(jobs.next_id(self.store.conn), served[0], version, stations or self.stations,
                             wave_size or self.settings.wave_size, self.settings.station_timeout_seconds * 1000, now)
        except ValueError as exc:
            raise Refused(400, "任务无效", str(exc)) from None
        self.served = served
        self._save(job)
        log.info("update job %d: %s to %d stations, waves of %d", job.id, job.version, len(job.targets),
                 job.wave_size)
        self._step(engine, now, out)
        return self.job or job

    def stop(self, now: int) -> waves.Job:
        if self.job is None or self.job.ended:
            raise Refused(409, "没有进行中的更新任务", "no update job is running")
        self._save(waves.stop(self.job, now))
        log.info("update job %d stopped by the user", self.job.id)
        return self.job

    def _step(self, engine: Engine, now: int, out: Outcome) -> None:
        self._queued = False
        job = self.job
        if job is None or job.ended:
            return
        seen = {t.station: self._seen(engine, t.station) for t in job.targets if t.state == waves.WAITING}
        after, starts = waves.step(job, seen, now, lambda: secrets.token_hex(16))
        if after != job:
            self._save(after)
        for target in starts:
            fields: dict[str, object] = {"version": after.version, "port": self.port, "path": f"/fw/{target.token}/"}
            if self.settings.host:
                fields["host"] = self.settings.host
            out.messages.append(Outgoing(topic=cmd_topic(engine.ws, target.station),
                                         payload=encode_command("update", **fields)))
            log.info("update job %d: %s started (attempt %d, wave %d)", after.id, target.station, target.attempt,
                     target.wave)

    @staticmethod
    def _seen(engine: Engine, station: str) -> waves.Seen:
        state = engine.stations.get(station)
        if state is None:
            return waves.Seen()
        try:
            health = strict_json.loads(state.health_json or "{}")
        except ValueError:
            health = {}
        return waves.Seen.of(state.online, state.buffer_depth, health if isinstance(health, dict) else {})

    def _save(self, job: waves.Job) -> None:
        before = self.job
        self.job = job
        jobs.save(self.store.conn, job)
        if job.ended and (before is None or not before.ended or before.id != job.id):
            self.served = ("", {})
            log.log(logging.INFO if job.state == waves.FINISHED else logging.WARNING, "update job %d %s%s",
                    job.id, job.state, f": {job.reason}" if job.reason else "")

    # -- the projection: statuses and ticks inside the pipeline's transaction --------------------------------

    def status(self, fact: StatusFact) -> None:
        job = self.job
        if job is None or job.ended or fact.health is None:
            return
        target = job.target(fact.station.id)
        if target is None or target.state != waves.UPDATING:
            return
        after = waves.on_status(job, fact.station.id, waves.Seen.of(fact.state.online, fact.state.buffer_depth,
                                                                     fact.health), fact.now)
        if after != job:
            self._save(after)
            ended = after.target(fact.station.id)
            if ended is not None and ended.state != waves.UPDATING:
                log.info("update job %d: %s %s%s", job.id, ended.station, ended.state,
                         f": {ended.error}" if ended.error else "")

    def tick(self, fact: TickFact) -> None:
        if self.pipeline is not None and self.job is not None and not self.job.ended and not self._queued:
            self._queued = True
            self.pipeline.call(self._step)

    def event(self, fact: EventFact) -> None:
        pass

    def alarm(self, fact: AlarmFact) -> None:
        pass

    def silenced(self, fact: SilencedFact) -> None:
        pass

    def cycle(self, fact: CycleFact) -> None:
        pass


def public_job(job: waves.Job) -> dict[str, object]:
    """A job as the API shows it: the download tokens left out (they are the stations' capabilities)."""
    return {**{k: v for k, v in vars(job).items() if k != "targets"},
            "targets": [{k: v for k, v in vars(t).items() if k not in ("token", "before")} for t in job.targets]}
