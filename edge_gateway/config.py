"""Reading the workshop config file: YAML from disk, then the pure model's validation.

The model and its checks are ``edge_gateway/model/workshop.py``; the contract is
``docs/config.md``. Sections owned by other parts (``influx``, ``cloud``,
``display``) are parsed by those parts from the loaded config.
"""

from __future__ import annotations

from pathlib import Path

from edge_gateway.model.day import parse_day
from edge_gateway.model.workshop import WorkshopConfig, parse_config
from sebiao_common.yamlfile import load_yaml


def load_config(path: str | Path) -> WorkshopConfig:
    config = parse_config(load_yaml(path), str(path))
    parse_day(config)  # the day: section is checked with the file, before anything starts (the engine keeps it)
    return config
