"""Opening the database and running transactions; SQLAlchemy errors stop here.

``write(engine)`` is one transaction that will write: on SQLite it starts with
``BEGIN IMMEDIATE`` (the write lock is taken at once, so two writers queue
instead of failing half-way), on PostgreSQL it is an ordinary transaction.
``read(engine)`` is a transaction that only reads. Both convert SQLAlchemy's
errors (``converted``): an integrity violation to ``Conflict``, a value the
database cannot hold to ``BadRequest``, anything else to ``StorageError``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError

from cloud_ingest.errors import BadRequest, Conflict, StorageError


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # we say BEGIN ourselves (below)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if url != "sqlite://":
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")  # durable across crashes in WAL mode
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

        return engine
    # Connections kept open: the default (5 kept, 10 more opened and closed again on demand) made a busy
    # worker open and close a PostgreSQL connection (a new server process) for most requests. As many are kept
    # as the threads that run the requests (anyio's 40), and 16 more for the ingest's 12 threads
    # (api/http_api.py) and the background threads (the evidence sequencer, the drains, the watchers). They are
    # opened when first needed. Size PostgreSQL's max_connections for 56 per worker (docs/deploy.md).
    return create_engine(url, pool_pre_ping=True, pool_size=40, max_overflow=16)


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    with converted(), engine.connect() as conn:
        conn.execution_options(write=True)
        with conn.begin():
            yield conn


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    with converted(), engine.connect() as conn, conn.begin():
        yield conn


@contextmanager
def converted() -> Iterator[None]:
    """SQLAlchemy's errors as ours, around work on a connection not opened by ``read`` or ``write``."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict("与已有数据冲突", f"conflicts with existing data: {_first_line(exc.orig)}") from exc
    except DataError as exc:
        # Out of range, too long, a NUL in text: the request's value, not the server's fault. Bodies are
        # checked before they get here (wire/batch.py); this keeps a value missed there from becoming a 5xx
        # that a gateway would send again for ever.
        raise BadRequest("", "数据库无法保存其中的某个值", f"the database cannot hold a value: {_first_line(exc.orig)}"
                         ) from exc
    except SQLAlchemyError as exc:
        raise StorageError("数据库不可用", f"the database failed: {_first_line(exc)}") from exc


def _first_line(exc: object) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
