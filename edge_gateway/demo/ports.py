"""Fail before starting anything when a port the demo needs is taken."""

from __future__ import annotations

import socket

from sebiao_common.errors import SebiaoError


def require_free(host: str, port: int, option: str, what: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers themselves do
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SebiaoError(f"{what} cannot listen on {host}:{port}: {exc.strerror or exc}. "
                              f"Choose another port with {option} HOST:PORT / 端口 {port} 已被占用，"
                              f"请用 {option} 另选端口") from None
