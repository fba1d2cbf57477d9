"""``sebiao gateway-key [--data-dir DIR]``: the gateway's signing key, made if missing; prints its public key.

The installer runs it once before the first start (or after it: the gateway
makes the same key at its first start) and gives the printed line to the
cloud's admin, who registers it with the workshop's gateway token
(``POST /api/v1/admin/tokens`` with ``public_key``, or
``POST /api/v1/admin/tokens/{id}/key`` for a token made before keys). An
existing key is never replaced.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default="sebiao-data", metavar="DIR",
                        help="the gateway's data dir (default ./sebiao-data) / 网关数据目录")


def run(args: argparse.Namespace) -> int:
    import os

    from edge_gateway.store.data_dir import PRIVATE
    from edge_gateway.store.signing_key import key_path, load_or_create
    from sebiao_common.batch_signature import key_id, public_text

    os.umask(PRIVATE)  # the data dir, if made here, is as private as the gateway makes it
    data = Path(args.data_dir)
    key, made = load_or_create(data)
    public = key.public_key()
    state = "新生成 / made now" if made else "已有 / already there, kept"
    print(f"# 网关签名密钥 / gateway signing key: {key_path(data)} ({state}); key id {key_id(public)}")
    print("# 请将下一行交给云端管理员登记 / give the next line to the cloud's admin to register:")
    print(public_text(public))
    return 0
