"""What ``sebiao firmware install`` has done, so a second run resumes: ``<out>.install.json`` beside the
station configs' directory (``stations/`` -> ``stations.install.json``)::

    {"schema": 1, "workshop": "ws-demo",
     "stations": {"rack-red-1": {"result": "done", "port": "/dev/ttyUSB0", "board": "a4:cf:12:00:00:01",
                                 "reader": "mfrc522", "firmware": "1.4.0", "bundle_sha256": "…",
                                 "config_sha256": "…", "at": "2026-12-05T01:30:00Z", "error": ""}}}

A station counts as done while its entry says ``done`` for the same bundle (the manifest's SHA-256) and the
same ``config.json``; a new build or a changed config makes it to do again. The file holds no password.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sebiao_common import strict_json
from sebiao_common.errors import ConfigError

SCHEMA = 1


def record_path(out: Path) -> Path:
    out = Path(out).resolve()
    return out.with_name(out.name + ".install.json")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(kw_only=True)
class InstallRecord:
    path: Path
    workshop: str
    stations: dict[str, dict] = field(default_factory=dict)

    def is_done(self, station: str, bundle_sha256: str, config_sha256: str) -> bool:
        entry = self.stations.get(station) or {}
        return (entry.get("result") == "done" and entry.get("bundle_sha256") == bundle_sha256
                and entry.get("config_sha256") == config_sha256)

    def board_of(self, board_id: str) -> str | None:
        """The station a board was installed as in an earlier run (its chip id), None if none."""
        for station, entry in self.stations.items():
            if board_id and entry.get("board") == board_id:
                return station
        return None

    def note(self, station: str, entry: dict, now: float) -> None:
        self.stations[station] = {**entry, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
        self.save()

    def save(self) -> None:
        data = {"schema": SCHEMA, "workshop": self.workshop, "stations": self.stations}
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(strict_json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            raise ConfigError(str(self.path), "", f"cannot write the install record: {exc.strerror or exc}") from None


def load_record(path: Path, workshop: str) -> InstallRecord:
    """The record at ``path`` (empty when there is none); ConfigError when it is not one, or another workshop's."""
    if not path.exists():
        return InstallRecord(path=path, workshop=workshop)
    try:
        data = strict_json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(str(path), "", f"not a readable install record ({exc}): move it away to start afresh",
                          "安装记录无法读取，请移走后重新开始") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("stations"), dict):
        raise ConfigError(str(path), "schema", f"not an install record of schema {SCHEMA}: move it away",
                          "不是安装记录，请移走")
    other = data.get("workshop")
    if other != workshop:
        raise ConfigError(str(path), "workshop", f"this record is for workshop '{other}', the config is for "
                          f"'{workshop}': use another --out", f"这是作坊 '{other}' 的安装记录，请换一个 --out")
    return InstallRecord(path=path, workshop=workshop, stations=data["stations"])
