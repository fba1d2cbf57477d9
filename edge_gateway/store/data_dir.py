"""The gateway's data dir at start-up: private, locked, with room to write, or one line saying why not.

Everything in it is the workshop's record or a secret: the store (staff names,
alarm comments), the embedded broker's station passwords, the console's
session key. So the gateway's files are created private (umask 077: the dir
0700, files 0600; SQLite gives its ``-wal`` and ``-shm`` the database's mode),
and the modes of what an older version or a copy left wider are narrowed at
every start.

A data dir that cannot be used — a file in its place, no permission, a full
disk — stops start-up with one line naming the path and the reason, before
anything else starts.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import stat
from pathlib import Path
from typing import IO

from edge_gateway.errors import StoreError

log = logging.getLogger(__name__)

PRIVATE = 0o077  # the umask: nobody but the gateway's user reads or writes what it creates
MIN_FREE_BYTES = 1024 * 1024  # less than this on the data dir's disk is a full disk
LOCK_FILE = ".lock"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def open_data_dir(path: Path) -> IO[str]:
    """Creates ``path`` (0700) or narrows its modes, checks its disk, and locks it for this process;
    returns the lock file, held open for the process' life."""
    os.umask(PRIVATE)
    if path.exists() and not path.is_dir():
        raise StoreError(f"{path}: 数据目录是一个文件，不是目录；请用 --data-dir 指定目录 / "
                         "the data dir is a file, not a directory: give a directory with --data-dir")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    except OSError as exc:
        raise StoreError(f"{path}: 无法创建或使用数据目录 / cannot create or use the data dir: {_reason(exc)}") from None
    _narrow_modes(path)
    free = shutil.disk_usage(path).free
    if free < MIN_FREE_BYTES:
        raise StoreError(f"{path}: 数据目录所在磁盘已满（剩余 {free // 1024} KiB），请先腾出空间 / the disk of the data "
                         f"dir is full ({free // 1024} KiB free): free some space first")
    return _lock(path)


def _narrow_modes(root: Path) -> None:
    """Takes group and other permissions off everything the gateway's user owns under ``root``."""
    me = os.geteuid()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            target = os.path.join(dirpath, name)
            try:
                info = os.lstat(target)
                if stat.S_ISLNK(info.st_mode) or info.st_uid != me or not info.st_mode & 0o077:
                    continue
                os.chmod(target, stat.S_IMODE(info.st_mode) & 0o700)
            except OSError as exc:  # a file that vanished, or one we may not change: the dir is 0700 anyway
                log.warning("%s: cannot narrow its mode: %s", target, _reason(exc))


def _lock(path: Path) -> IO[str]:
    lock_path = path / LOCK_FILE
    try:
        handle = open(lock_path, "a+")  # noqa: SIM115 - held for the process' life
    except OSError as exc:
        raise StoreError(f"{lock_path}: 无法创建锁文件 / cannot create the lock file: {_reason(exc)}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        raise StoreError(f"{path}: 另一个网关正在使用此数据目录 / another gateway is running on this data dir") from exc
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
    except OSError as exc:
        handle.close()
        raise StoreError(f"{lock_path}: 无法写入 / cannot write: {_reason(exc)}") from None
    return handle
