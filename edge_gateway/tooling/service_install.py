"""Installing the systemd units of ``service_units``: the steps, shown (dry run) or carried out.

Every change is a :class:`Step` with a sentence saying what it does, so a dry
run prints exactly what a real run would do. With ``root`` other than ``/``
(a staging tree, the tests) the units and the data dir are written under it,
and the steps that touch the host's accounts and owners are only printed.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from edge_gateway.tooling.service_units import (
    DEBIAN_MOSQUITTO_UNIT,
    GATEWAY_UNIT,
    MOSQUITTO_UNIT,
    UNIT_DIR,
    ServiceSettings,
    render_units,
)
from sebiao_common.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class Step:
    say: str  # what it does, 中文 / English
    do: Callable[[], None] = field(compare=False)
    host_only: bool = False  # touches the host's users or owners: skipped under a staging root


def _under(root: Path, path: Path | str) -> Path:
    return root / str(path).lstrip("/")


def _user_exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
        return True
    except KeyError:
        return False


def plan(settings: ServiceSettings, root: Path, config: Path, mosquitto_files: tuple[Path, ...] = (),
         unit_dir: Path | None = None) -> list[Step]:
    """The steps installing ``settings`` under ``root``, in order; the units into ``unit_dir`` (default
    ``root/etc/systemd/system``)."""
    steps: list[Step] = []
    user, data = settings.user, _under(root, settings.data_dir)
    if not _user_exists(user):
        nologin = shutil.which("nologin") or "/usr/sbin/nologin"
        steps.append(Step(say=f"创建系统用户 / create system user {user}", host_only=True, do=lambda: _run(
            ["useradd", "--system", "--user-group", "--home-dir", str(settings.data_dir), "--no-create-home",
             "--shell", nologin, user])))
    steps.append(Step(say=f"创建数据目录 / create the data dir {settings.data_dir} (0700)",
                      do=lambda: _mkdir(data, 0o700)))
    steps.append(Step(say=f"数据目录归 {user} 所有 / chown {user}: {settings.data_dir}", host_only=True,
                      do=lambda: _chown_tree(data, user, user)))
    steps.append(Step(say=f"配置文件可由 {user} 读取 / chgrp {user} + chmod 0640 {config}", host_only=True,
                      do=lambda: _share_with_group(config, user)))
    m = settings.mosquitto
    if m is not None:
        persistence = _under(root, m.persistence_dir)
        steps.append(Step(say=f"创建 Mosquitto 数据库目录 / create {m.persistence_dir} (0700)",
                          do=lambda: _mkdir(persistence, 0o700)))
        steps.append(Step(say=f"数据库目录归 {m.user} 所有 / chown {m.user}: {m.persistence_dir}", host_only=True,
                          do=lambda: _chown_tree(persistence, m.user, m.user)))
        for path in mosquitto_files:
            steps.append(Step(say=f"{m.user} 可读 / chgrp {m.user} + chmod 0640 {path}", host_only=True,
                              do=lambda path=path: _share_with_group(path, m.user)))
    unit_dir = unit_dir or _under(root, UNIT_DIR)
    for name, text in render_units(settings).items():
        steps.append(Step(say=f"写入 / write /{UNIT_DIR}/{name}",
                          do=lambda name=name, text=text: _write(unit_dir / name, text)))
    return steps


def apply(steps: list[Step], staging: bool, echo: Callable[[str], None]) -> None:
    for step in steps:
        if staging and step.host_only:
            echo(f"  跳过（暂存目录）/ skipped (staging root): {step.say}")
            continue
        echo(f"  {step.say}")
        step.do()


def next_commands(settings: ServiceSettings) -> list[str]:
    units = [MOSQUITTO_UNIT, GATEWAY_UNIT] if settings.mosquitto else [GATEWAY_UNIT]
    cmds = ["systemctl daemon-reload"]
    if settings.mosquitto:
        cmds.append(f"systemctl disable --now {DEBIAN_MOSQUITTO_UNIT}")
    cmds.append(f"systemctl enable --now {' '.join(units)}")
    cmds.append(f"systemctl restart {' '.join(units)}    # 重新安装后 / after a re-install")
    cmds.append(f"systemctl status {' '.join(units)}")
    cmds.append("journalctl -u sebiao-gateway -f")
    return cmds


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise ConfigError(argv[0], " ".join(argv), f"failed: {done.stderr.strip() or done.returncode}")


def _mkdir(path: Path, mode: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)  # mkdir's mode is masked by the umask, and an existing dir keeps its own


def _chown_tree(path: Path, user: str, group: str) -> None:
    for sub in [path, *path.rglob("*")]:
        shutil.chown(sub, user, group)


def _share_with_group(path: Path, group: str) -> None:
    shutil.chown(path, group=group)
    os.chmod(path, 0o640)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
