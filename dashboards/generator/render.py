"""Build every dashboard to JSON and write it with the provisioning files.

``build_files()`` is pure (relative path -> text) so a test can compare a fresh
build with the committed reference output in the repository's ``dashboards/``.
"""

from __future__ import annotations

from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards.generator import provisioning
from dashboards.generator.catalog import DASHBOARDS
from sebiao_common import strict_json
from sebiao_common.errors import SebiaoError


def dashboard_json(stem: str) -> dict:
    """One dashboard as Grafana's JSON model, panels numbered 1..n (Grafana wants unique ids)."""
    model = strict_json.loads(strict_json.dumps(DASHBOARDS[stem]().build(), cls=JSONEncoder))
    for number, panel in enumerate(model.get("panels", []), start=1):
        panel["id"] = number
    return model


def build_files() -> dict[str, str]:
    out = {f"json/{stem}.json": strict_json.dumps(dashboard_json(stem), ensure_ascii=False, indent=2) + "\n"
           for stem in DASHBOARDS}
    out.update(provisioning.files())
    return out


def write(out_dir: Path) -> list[Path]:
    """Write the files under ``out_dir``; returns the paths written."""
    written = []
    try:
        for relative, text in build_files().items():
            path = out_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
            written.append(path)
    except OSError as exc:
        raise SebiaoError(f"cannot write the dashboards to {out_dir}: {exc.strerror or exc}") from exc
    return written
