"""The gateway's HTTP API and pages served from a thread (``Gateway.serve`` blocks its caller)."""

from __future__ import annotations

import threading
import time

from edge_gateway.gateway import Gateway
from sebiao_common.errors import SebiaoError

START_TIMEOUT = 10.0


class HttpThread:
    def __init__(self, gateway: Gateway) -> None:
        """``gateway`` started: its socket is bound, and served with the gateway's own limits."""
        self.server = gateway.http_server()
        self.where = f"{gateway.options.http_host}:{gateway.http_port}"
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [gateway.listener]},
                                       name="sebiao-demo-http", daemon=True)

    def start(self) -> "HttpThread":
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise SebiaoError(f"the gateway's HTTP API did not start on {self.where}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5.0)
