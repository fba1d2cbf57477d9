"""The workshop's setup as evidence: stations, tools and rules (exceptions included) as one canonical value.

Seed 六(五): a workshop may deviate from the rules, but the regulator sees every
rule and every change to it (备案). The setup is taken from the *parsed* config,
field by field of its dataclasses, not from a fixed key list: a key a later
version adds to ``Station``, ``Tool`` or ``Rules`` (a new station kind, a new
requirement) is in the snapshot without a change here. Defaults are written
out, so a config that spells a default and one that leaves it out are the same
setup.

Canonical JSON (keys sorted, no whitespace, UTF-8) and its SHA-256 are what
the cloud recomputes and chains (``docs/cloud-ingest.md``, the ``setup`` item);
the cloud's ``canonical_json`` writes the same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from enum import Enum
from typing import Any

from edge_gateway.model.workshop import WorkshopConfig
from sebiao_common import strict_json


def plain(value: Any) -> Any:
    """A JSON value of a config value: dataclasses by field (private ones left out), sets sorted, enums by
    value, and a tuple of ``(name, value)`` pairs (``Rules.severity``) as a mapping."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not f.name.startswith("_")}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, (tuple, list)):
        if value and all(isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) for v in value):
            return {k: plain(v) for k, v in value}
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def setup_of(config: WorkshopConfig) -> dict[str, Any]:
    """The setup: ``stations``, ``tools`` and ``rules`` (with ``rules.exceptions``) of the parsed config."""
    return {"stations": plain(config.stations), "tools": plain(config.tools), "rules": plain(config.rules)}


def setup_json(setup: dict[str, Any]) -> str:
    return strict_json.dumps(setup, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def setup_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
