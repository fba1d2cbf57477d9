"""The Alembic migrations of the cloud database, run from code (no alembic.ini needed).

``sebiao cloud migrate --config FILE`` and the service's start both call
``upgrade``; the tests build every database through it, never ``create_all``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from cloud_ingest.errors import StorageError
from sebiao_common.clock import now_ms

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head() or ""


def current(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise StorageError("无法读取数据库版本", f"cannot read the schema revision: {exc}") from exc


def upgrade(engine: Engine, revision: str = "head", clock: Callable[[], int] = now_ms) -> str:
    """Brings the schema to ``revision``; returns the revision now in force. ``clock`` gives the time of
    what a migration writes into the evidence chain (0006)."""
    cfg = _config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            cfg.attributes["now"] = clock()
            command.upgrade(cfg, revision)
    except (SQLAlchemyError, CommandError) as exc:
        raise StorageError("数据库迁移失败", f"the migration failed: {exc}") from exc
    return current(engine) or ""
