"""The gateway's HTTP API and pages served from a thread (``Gateway.serve`` blocks its caller)."""

from __future__ import annotations

import threading
import time

import uvicorn

from edge_gateway.gateway import Gateway
from sebiao_common.errors import SebiaoError

START_TIMEOUT = 10.0


class HttpThread:
    def __init__(self, gateway: Gateway) -> None:
        options = gateway.options
        app = gateway.build_app()
        # no proxy_headers: X-Forwarded-For is believed only from display.trusted_proxies (web/app.py)
        self.server = uvicorn.Server(uvicorn.Config(app, host=options.http_host, port=options.http_port,
                                                    log_level="warning", access_log=False,
                                                    proxy_headers=False))
        self.where = f"{options.http_host}:{options.http_port}"
        self.thread = threading.Thread(target=self.server.run, name="sebiao-demo-http", daemon=True)

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
