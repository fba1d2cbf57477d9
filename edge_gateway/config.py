"""Reading the workshop config file: YAML from disk, then the pure model's validation.

The model and its checks are ``edge_gateway/model/workshop.py``; the contract is
``docs/config.md``. Sections owned by other parts (``influx``, ``cloud``,
``display``) are parsed by those parts from the loaded config.
"""

from __future__ import annotations

from pathlib import Path

from edge_gateway.model.workshop import WorkshopConfig, parse_config
from sebiao_common.yamlfile import load_yaml


def load_config(path: str | Path) -> WorkshopConfig:
    return parse_config(load_yaml(path), str(path))
