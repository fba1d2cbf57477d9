"""An app factory for process managers that start several workers themselves (docs/deploy.md).

    SEBIAO_CLOUD_CONFIG=/etc/sebiao/cloud.yaml \\
        uvicorn --factory cloud_ingest.asgi:create --host 127.0.0.1 --port 8090 --workers 4 --no-proxy-headers

``--no-proxy-headers``: uvicorn would otherwise believe ``X-Forwarded-For``
from any peer on 127.0.0.1; the app reads it only from the config's
``trusted_proxies`` (``sebiao_common/proxies.py``).

Each worker process calls :func:`create`: its own connection pool and, with
``influx:``, its own drain thread (they share the outbox through ``FOR UPDATE
SKIP LOCKED``). The factory does not migrate: several processes starting at
once must not race on the schema, so ``sebiao cloud migrate`` runs first, once
per release, and a worker refuses to start on a database that is not at the
newest revision.
"""

from __future__ import annotations

import os

from starlette.applications import Starlette

from cloud_ingest.app import build_app
from cloud_ingest.config import load_cloud_config
from cloud_ingest.errors import StorageError
from cloud_ingest.store import db, migrate

ENV = "SEBIAO_CLOUD_CONFIG"


def create() -> Starlette:
    path = os.environ.get(ENV)
    if not path:
        raise SystemExit(f"{ENV} is not set: the path of the cloud config (YAML)")
    config = load_cloud_config(path)
    engine = db.make_engine(config.database_url)
    current, head = migrate.current(engine), migrate.head()
    if current != head:
        raise StorageError("数据库版本不是最新，请先运行 sebiao cloud migrate",
                           f"the database is at revision {current}, not {head}: run `sebiao cloud migrate` first")
    return build_app(engine, config)
