"""Reading the workshop config file: YAML from disk, then the pure model's validation.

The model and its checks are ``edge_gateway/model/workshop.py``; the contract is
``docs/config.md``. Sections owned by other parts (``influx``, ``cloud``,
``display``) are parsed by those parts from the loaded config. ``ConfigWatch`` tells
the running gateway that its file changed (``sebiao enroll``, the console's enrolment).
"""

from __future__ import annotations

import os
from pathlib import Path

from edge_gateway.model.workshop import WorkshopConfig, parse_config
from sebiao_common.errors import SebiaoError
from sebiao_common.yamlfile import load_yaml


def load_config(path: str | Path) -> WorkshopConfig:
    return parse_config(load_yaml(path), str(path))


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)  # an atomic replace is a new inode


class ConfigWatch:
    """Polled by the gateway: has the file changed into a config the gateway's parser accepts?

    A file that changed but is refused (a hand edit half done) is reported once, and the gateway
    runs on with the config it has; a later good version is taken up."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.seen = _signature(self.path)

    def changed(self) -> WorkshopConfig | SebiaoError | None:
        """None: unchanged (or reported already); a config: changed and valid; an error: changed, refused."""
        now = _signature(self.path)
        if now is None or now == self.seen:
            return None
        self.seen = now
        try:
            return load_config(self.path)
        except SebiaoError as exc:
            return exc
