"""``sebiao cloud``: serve (default), migrate, or verify the evidence chain.

    sebiao cloud --config cloud.yaml            # migrate, then serve on the config's listen address
    sebiao cloud migrate --config cloud.yaml    # only bring the schema to the newest revision
    sebiao cloud verify --config cloud.yaml     # check the evidence chain; exit 1 naming the first broken entry
"""

from __future__ import annotations

import argparse
import logging


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="serve", choices=["serve", "migrate", "verify"],
                        help="serve (default) / migrate / verify")
    parser.add_argument("--config", required=True, help="the cloud config (YAML), see docs/cloud-ingest.md")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def run(args: argparse.Namespace) -> int:
    from cloud_ingest.app import build_app, prepare
    from cloud_ingest.config import load_cloud_config
    from cloud_ingest.store import db, evidence, migrate

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_cloud_config(args.config)
    engine = db.make_engine(config.database_url)
    if args.action == "migrate":
        print(f"sebiao cloud: 数据库版本 / schema revision {migrate.upgrade(engine)}")
        return 0
    if args.action == "verify":
        with db.read(engine) as conn:
            report = evidence.verify(conn)
        print(report.text())
        return 0 if report.ok else 1
    import uvicorn

    revision = prepare(engine, config)
    print(f"sebiao cloud: 数据库版本 / schema revision {revision}; http://{config.host}:{config.port}", flush=True)
    # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For from any local peer; the app
    # reads it from config.trusted_proxies only (sebiao_common/proxies.py)
    uvicorn.run(build_app(engine, config), host=config.host, port=config.port, log_level=args.log_level.lower(),
                proxy_headers=False)
    return 0
