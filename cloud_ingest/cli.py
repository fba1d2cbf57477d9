"""``sebiao cloud``: serve (default), migrate, verify the evidence chain, make its signing key, sign its head.

    sebiao cloud --config cloud.yaml            # migrate, then serve on the config's listen address
    sebiao cloud migrate --config cloud.yaml    # only bring the schema to the newest revision
    sebiao cloud migrate --config owner.yaml --grant-to sebiao_app   # PostgreSQL: and grant the workers' role
    sebiao cloud keygen --config cloud.yaml     # the Ed25519 key of evidence.signing_key (0600) and KEY.pub
    sebiao cloud checkpoint --config cloud.yaml # sign the chain's head now (the service does it every few s)
    sebiao cloud verify --config cloud.yaml --public-key evidence.key.pub [--checkpoints COPY.jsonl]
                                                # exit 1 naming what was cut, rewritten or changed
"""

from __future__ import annotations

import argparse
import logging
import os
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when the command runs, so that `sebiao --help` stays fast
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from cloud_ingest.config import CloudConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", default="serve",
                        choices=["serve", "migrate", "verify", "keygen", "checkpoint"],
                        help="serve (default) / migrate / verify / keygen / checkpoint")
    parser.add_argument("--config", required=True, help="the cloud config (YAML), see docs/cloud-ingest.md")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--public-key", action="append", default=[], metavar="FILE",
                        help="verify: a public key (PEM) the checkpoints may be signed with; repeatable. "
                             "Default: evidence.signing_key + '.pub', when the config names a key")
    parser.add_argument("--checkpoints", action="append", default=[], metavar="FILE",
                        help="verify: a further checkpoint file (a copy kept elsewhere); repeatable. "
                             "The config's evidence.checkpoints is always read when it exists")
    parser.add_argument("--grant-to", metavar="ROLE", type=_role,
                        help="migrate, PostgreSQL: then grant the workers' login role what it needs, no more")


def _role(value: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", value):
        raise argparse.ArgumentTypeError("角色名只用小写字母、数字和 _ / a role name of lowercase letters, digits, '_'")
    return value


def run(args: argparse.Namespace) -> int:
    from cloud_ingest.app import build_app, prepare
    from cloud_ingest.config import load_cloud_config
    from cloud_ingest.store import anchor, audit, db, migrate, roles, sequencer
    from sebiao_common.clock import now_ms

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_cloud_config(args.config)
    if args.action == "keygen":
        key, pub, key_id = anchor.generate(config)
        print(f"sebiao cloud: 已生成签名私钥 {key}（0600）与公钥 {pub}，密钥编号 {key_id}；公钥另存一份交给核查方 / "
              f"signing key {key} (0600) and public key {pub} written, key id {key_id}; give a copy of the public "
              "key to whoever verifies")
        return 0
    engine = db.make_engine(config.database_url)
    if args.action == "migrate":
        print(f"sebiao cloud: 数据库版本 / schema revision {migrate.upgrade(engine, clock=now_ms)}")
        if args.grant_to:
            roles.grant(engine, args.grant_to)
            print(f"sebiao cloud: 已授予 {args.grant_to} 工作进程所需权限 / granted {args.grant_to} what the "
                  "workers need")
        return 0
    if args.action == "checkpoint":
        checkpoint = anchor.sign_head(engine, anchor.Signer(config), anchor.settings(config).checkpoints, now_ms())
        print(f"sebiao cloud: 已签名第 {checkpoint.seq} 条 / signed entry {checkpoint.seq}" if checkpoint
              else "sebiao cloud: 证据链为空，无需签名 / the evidence chain is empty: nothing to sign")
        return 0
    if args.action == "verify":
        keys, files = _verify_inputs(config, args)
        sequencer.chain(engine)  # entries a stopped worker staged and left unchained: chained first, as it would
        with db.read(engine) as conn:
            report = audit.audit(conn, keys=keys, files=files)
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


def _verify_inputs(config: "CloudConfig", args: argparse.Namespace) -> tuple[dict[str, "Ed25519PublicKey"], list[str]]:
    """The public keys by key id, and the checkpoint files (the config's, when it exists, and the given ones)."""
    from cloud_ingest.store import anchor

    paths = list(args.public_key)
    files = list(args.checkpoints)
    if config.evidence is not None:
        default = anchor.public_path(config.evidence.signing_key)
        if not paths and os.path.exists(default):
            paths.append(default)
            print(f"sebiao cloud: 用公钥 {default} 核对 / checking with the public key {default}")
        if os.path.exists(config.evidence.checkpoints):
            files.insert(0, config.evidence.checkpoints)
    keys: dict[str, Ed25519PublicKey] = {}
    for path in paths:
        key = anchor.load_public_key(path)
        keys[anchor.key_id(key)] = key
    return keys, files
