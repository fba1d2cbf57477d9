"""Reading the workshop config file: YAML from disk, then the pure model's validation.

The model and its checks are ``edge_gateway/model/workshop.py``; the contract is
``docs/config.md``. Sections owned by other parts (``influx``, ``cloud``,
``display``) are parsed by those parts from the loaded config. ``ConfigWatch`` tells
the running gateway that its file changed (``sebiao enroll``, the console's enrolment).

``enrol`` adds tools to the file (``model/enrolment.py`` makes them). It holds an exclusive lock
(``<config>.lock``, ``flock``) from reading to the rename, so enrolments at the same time (two
installers, the command and the console) are applied one after the other and none is lost. The file
is replaced atomically (temp file, fsync, rename, fsync of the directory); the previous versions are
kept as ``<config>.1`` .. ``<config>.5``; the new tools' ids are queued in ``<config>.labels-pending``
for ``sebiao labels --pending``.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import yaml

from edge_gateway.model.day import parse_day
from edge_gateway.model.enrolment import Request, append_tools, complete, tool_dict
from edge_gateway.model.station_settings import parse_station_settings
from edge_gateway.model.workshop import Tool, WorkshopConfig, parse_config
from sebiao_common.errors import ConfigError, SebiaoError
from sebiao_common.yamlfile import load_yaml

KEEP = 5  # previous versions of the file kept by an enrolment: <config>.1 (the newest) .. <config>.5


def load_config(path: str | Path) -> WorkshopConfig:
    config = parse_config(load_yaml(path), str(path))
    parse_day(config)  # the day: section is checked with the file, before anything starts (the engine keeps it)
    parse_station_settings(config)  # station_settings: likewise (model/station_settings.py)
    return config


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)  # an atomic replace is a new inode


def _digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class ConfigWatch:
    """Polled by the gateway: has the file changed into a config the gateway's parser accepts?

    Cheap when nothing changed (one ``stat``); a file saved again with the same bytes is no change. A file
    that changed but is refused (a hand edit half done) is reported once, and the gateway runs on with the
    config it has; a later good version is taken up."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.seen = _signature(self.path)
        self.digest = _digest(self.path)

    def changed(self) -> WorkshopConfig | SebiaoError | None:
        """None: unchanged (or reported already); a config: changed and valid; an error: changed, refused."""
        now = _signature(self.path)
        if now is None or now == self.seen:
            return None
        self.seen = now
        digest = _digest(self.path)
        if digest is None or digest == self.digest:
            return None
        self.digest = digest
        try:
            return load_config(self.path)
        except SebiaoError as exc:
            return exc


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<config>.lock`` (the config itself is replaced, so it cannot carry the lock)."""
    with open(path.with_name(path.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def enrol(path: str | Path, requests: list[Request], *, dry_run: bool = False) -> list[Tool]:
    """Add the requested tools to the config at ``path``; returns them as written. Nothing is written
    when any request or the resulting file is refused (ConfigError naming the file, field and reason)."""
    path = Path(path)
    try:
        return _enrol(path, requests, dry_run)
    except OSError as exc:  # e.g. a config the gateway's user may read but not write (docs/device-tooling.md)
        raise ConfigError(str(path), "", f"无法写入配置文件 / cannot write the config file or its copies: "
                                         f"{exc.strerror or exc} ({exc.filename or path})") from exc


def _enrol(path: Path, requests: list[Request], dry_run: bool) -> list[Tool]:
    with locked(path):
        data = load_yaml(path)
        config = parse_config(data, str(path))
        tools = complete(config, requests)
        text = path.read_text("utf-8")
        new_text = append_tools(text, tools, str(path))
        intended = dict(data, tools=list(data["tools"] or []) + [tool_dict(t) for t in tools])
        written = yaml.safe_load(new_text)
        if written != intended:
            raise ConfigError(str(path), "tools", "无法在保留原格式的情况下追加 / cannot append in the file's own "
                                                  "style: write tools: as a block list, one '- {...}' per line")
        parse_config(written, str(path))  # the gateway's parser on the whole file as it will be
        if dry_run:  # every check made, nothing written
            return tools
        _replace(path, new_text)
        try:
            _queue_labels(path, tools)
        except OSError as exc:  # the tools are enrolled: a label queue not written is said, not an enrolment failed
            logging.getLogger(__name__).warning("%s: the labels to print were not queued (%s): print them with "
                                                "sebiao labels", pending_path(path), exc.strerror or exc)
    return tools


def _replace(path: Path, text: str) -> None:
    """Keep the previous versions, then write ``text`` to a temp file, fsync, rename over ``path``."""
    for n in range(KEEP - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            os.replace(older, path.with_name(f"{path.name}.{n + 1}"))
    previous = path.with_name(f"{path.name}.1")
    st = os.stat(path)  # the copies keep the file's mode and owner: it holds the broker password and API token
    _write_synced(previous, path.read_bytes(), st)
    _write_synced(path, text.encode("utf-8"), st)


def _write_synced(path: Path, data: bytes, like: os.stat_result) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fchmod(fh.fileno(), stat.S_IMODE(like.st_mode))
        try:
            os.fchown(fh.fileno(), like.st_uid, like.st_gid)
        except PermissionError:  # not root: the file is ours already
            pass
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def pending_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".labels-pending")


def _queue_labels(path: Path, tools: list[Tool]) -> None:
    with open(pending_path(path), "a", encoding="utf-8") as fh:
        fh.writelines(f"{t.id}\n" for t in tools)
        fh.flush()
        os.fsync(fh.fileno())


def pending_labels(path: str | Path) -> list[str]:
    try:
        lines = pending_path(path).read_text("utf-8").splitlines()
    except FileNotFoundError:
        return []
    return list(dict.fromkeys(line.strip() for line in lines if line.strip()))
