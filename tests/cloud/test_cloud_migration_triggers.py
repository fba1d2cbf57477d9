"""The append-only guards the migrations create, frozen as the database holds them (SQLite and PostgreSQL).

A fresh database upgraded to head holds exactly these triggers (and, on
PostgreSQL, these trigger functions), word for word: databases upgraded before
the migrations shared ``migrations/append_only.py`` hold this text, so a
migration must keep emitting it. A downgrade to 0005 leaves only 0001's guard
of the evidence log, and one to the base leaves nothing.
"""

from __future__ import annotations

from alembic import command
from cloud_fixtures import *  # noqa: F401,F403 - fixtures
from sqlalchemy import create_engine, text

from cloud_ingest.store import migrate

TABLES = ("evidence_log", "evidence_checkpoints", "workshop_grades", "signed_batches", "workshop_records")
TABLES += ("data_outages", "data_outage_ends")  # 0017: the outages of silent gateways
KEY_ONCE = "a gateway token''s public key is set once"

SQLITE_HEAD = {
    "api_tokens_key_once": "CREATE TRIGGER api_tokens_key_once BEFORE UPDATE OF public_key, key_id ON api_tokens "
                           f"WHEN OLD.public_key IS NOT NULL BEGIN SELECT RAISE(ABORT, '{KEY_ONCE}'); END",
    "evidence_checkpoints_no_delete": "CREATE TRIGGER evidence_checkpoints_no_delete BEFORE DELETE ON "
                                      "evidence_checkpoints BEGIN SELECT RAISE(ABORT, 'evidence_checkpoints is "
                                      "append-only'); END",
    "evidence_checkpoints_no_update": "CREATE TRIGGER evidence_checkpoints_no_update BEFORE UPDATE ON "
                                      "evidence_checkpoints BEGIN SELECT RAISE(ABORT, 'evidence_checkpoints is "
                                      "append-only'); END",
    "evidence_log_no_delete": "CREATE TRIGGER evidence_log_no_delete BEFORE DELETE ON evidence_log BEGIN SELECT "
                              "RAISE(ABORT, 'evidence_log is append-only'); END",
    "evidence_log_no_update": "CREATE TRIGGER evidence_log_no_update BEFORE UPDATE ON evidence_log BEGIN SELECT "
                              "RAISE(ABORT, 'evidence_log is append-only'); END",
    "signed_batches_no_delete": "CREATE TRIGGER signed_batches_no_delete BEFORE DELETE ON signed_batches BEGIN "
                                "SELECT RAISE(ABORT, 'signed_batches is append-only'); END",
    "signed_batches_no_update": "CREATE TRIGGER signed_batches_no_update BEFORE UPDATE ON signed_batches BEGIN "
                                "SELECT RAISE(ABORT, 'signed_batches is append-only'); END",
    "workshop_grades_no_delete": "CREATE TRIGGER workshop_grades_no_delete BEFORE DELETE ON workshop_grades BEGIN "
                                 "SELECT RAISE(ABORT, 'workshop_grades is append-only'); END",
    "workshop_grades_no_update": "CREATE TRIGGER workshop_grades_no_update BEFORE UPDATE ON workshop_grades BEGIN "
                                 "SELECT RAISE(ABORT, 'workshop_grades is append-only'); END",
    "workshop_records_no_delete": "CREATE TRIGGER workshop_records_no_delete BEFORE DELETE ON workshop_records "
                                  "BEGIN SELECT RAISE(ABORT, 'workshop_records is append-only'); END",
    "workshop_records_no_update": "CREATE TRIGGER workshop_records_no_update BEFORE UPDATE ON workshop_records "
                                  "BEGIN SELECT RAISE(ABORT, 'workshop_records is append-only'); END",
}
# migration 0015: the on-site inspections and the spot checks' draws, append-only
INSPECTION_TABLES = ("inspection_visits", "inspection_items", "inspection_photos", "spot_draws")
TABLES += INSPECTION_TABLES
for _t in INSPECTION_TABLES:
    for _verb in ("update", "delete"):
        SQLITE_HEAD[f"{_t}_no_{_verb}"] = (f"CREATE TRIGGER {_t}_no_{_verb} BEFORE {_verb.upper()} ON {_t} BEGIN "
                                           f"SELECT RAISE(ABORT, '{_t} is append-only'); END")
for _t in ("data_outages", "data_outage_ends"):
    for _verb in ("delete", "update"):
        SQLITE_HEAD[f"{_t}_no_{_verb}"] = (f"CREATE TRIGGER {_t}_no_{_verb} BEFORE {_verb.upper()} ON {_t} BEGIN "
                                           f"SELECT RAISE(ABORT, '{_t} is append-only'); END")
PG_HEAD = {
    "api_tokens_key_once": "CREATE TRIGGER api_tokens_key_once BEFORE UPDATE ON public.api_tokens FOR EACH ROW "
                           "EXECUTE FUNCTION api_tokens_key_once()",
    "api_tokens_key_once()": "CREATE OR REPLACE FUNCTION public.api_tokens_key_once()\n RETURNS trigger\n LANGUAGE "
                             "plpgsql\nAS $function$ BEGIN IF OLD.public_key IS NOT NULL AND (NEW.public_key IS "
                             "DISTINCT FROM OLD.public_key OR NEW.key_id IS DISTINCT FROM OLD.key_id) THEN RAISE "
                             f"EXCEPTION '{KEY_ONCE}'; END IF; RETURN NEW; END $function$\n",
}
for _t in TABLES:
    PG_HEAD[f"{_t}_append_only"] = (f"CREATE TRIGGER {_t}_append_only BEFORE DELETE OR UPDATE ON public.{_t} "
                                    f"FOR EACH ROW EXECUTE FUNCTION {_t}_append_only()")
    PG_HEAD[f"{_t}_no_truncate"] = (f"CREATE TRIGGER {_t}_no_truncate BEFORE TRUNCATE ON public.{_t} "
                                    f"FOR EACH STATEMENT EXECUTE FUNCTION {_t}_append_only()")
    PG_HEAD[f"{_t}_append_only()"] = (f"CREATE OR REPLACE FUNCTION public.{_t}_append_only()\n RETURNS trigger\n "
                                      f"LANGUAGE plpgsql\nAS $function$ BEGIN RAISE EXCEPTION '{_t} is append-only'; "
                                      "END $function$\n")
AT_0005 = {"sqlite": ("evidence_log_no_delete", "evidence_log_no_update"),
           "postgresql": ("evidence_log_append_only", "evidence_log_append_only()")}


def _guards(conn) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every trigger (and PostgreSQL trigger function, its name ending in ``()``) with its definition."""
    if conn.dialect.name == "sqlite":
        return dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all())
    triggers = conn.execute(text("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal"))
    functions = conn.execute(text("SELECT p.proname || '()', pg_get_functiondef(p.oid) FROM pg_proc p "
                                  "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'"))
    return dict(triggers.all()) | dict(functions.all())


def _downgrade(engine, revision: str) -> None:  # type: ignore[no-untyped-def]
    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_the_guards_are_the_ones_the_migrations_always_wrote(cloud_url: str) -> None:
    engine = create_engine(cloud_url)
    try:
        migrate.upgrade(engine, clock=lambda: 1)
        head = SQLITE_HEAD if engine.dialect.name == "sqlite" else PG_HEAD
        with engine.connect() as conn:
            assert _guards(conn) == head
        _downgrade(engine, "0005")
        with engine.connect() as conn:
            assert _guards(conn) == {name: head[name] for name in AT_0005[engine.dialect.name]}
        _downgrade(engine, "base")
        with engine.connect() as conn:
            assert _guards(conn) == {}
        migrate.upgrade(engine, clock=lambda: 1)  # and up again, from nothing
        with engine.connect() as conn:
            assert _guards(conn) == head
    finally:
        engine.dispose()
