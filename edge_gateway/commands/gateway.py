"""``sebiao gateway``: run the workshop gateway.

While it runs it watches its config file (``--watch-config``): when the file changes into a config the
parser accepts (``sebiao enroll``, the console's enrolment, an edit), the gateway stops as on SIGTERM
(everything committed) and starts again in the same process (``exec``) on the new file. The config is
woven through the engine, the intake, the sinks and the web pages: a fresh start is the one way to apply
it that cannot leave half the gateway on the old one; the stations' events wait in their buffers and
the broker meanwhile (docs/device-tooling.md, "Enrolling tags").
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path

from edge_gateway.config import ConfigWatch, load_config
from sebiao_common.errors import ConfigError
from sebiao_common.net import is_loopback, parse_listen


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="the workshop config (YAML)")
    parser.add_argument("--broker", help="MQTT broker URL, e.g. mqtt://127.0.0.1:1883 "
                                         "(default: the config's broker, else an embedded broker)")
    parser.add_argument("--data-dir", default="sebiao-data", help="where the gateway keeps its store")
    parser.add_argument("--embedded-broker", default="127.0.0.1:1883", metavar="HOST:PORT",
                        help="where the embedded broker listens when no broker is configured "
                             "(loopback only; port 0: a free one; station passwords in "
                             "DATA-DIR/broker/credentials.json)")
    parser.add_argument("--http", default="127.0.0.1:8080",
                        help="HOST:PORT of the HTTP API (port 0: a free one; the ports bound are written to "
                             "DATA-DIR/listening.json)")
    parser.add_argument("--watch-config", type=float, default=2.0, metavar="SECONDS",
                        help="check the config file this often and restart on a valid change (0: never) / "
                             "配置文件变更后自动重启以生效")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])


def run(args: argparse.Namespace) -> int:
    from edge_gateway.gateway import Gateway, GatewayOptions

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = load_config(args.config)
    host, port = parse_listen(args.http, any_port=True)
    embedded_host, embedded_port = parse_listen(args.embedded_broker, "--embedded-broker", any_port=True)
    if not is_loopback(embedded_host):
        raise ConfigError("--embedded-broker", "", f"{embedded_host} is not a loopback address: the embedded "
                                                   "broker is for one machine; use Mosquitto beyond it")
    gateway = Gateway(config, GatewayOptions(data_dir=Path(args.data_dir), broker_url=args.broker,
                                             http_host=host, http_port=port,
                                             embedded_host=embedded_host, embedded_port=embedded_port))
    watch = ConfigWatch(args.config)  # before start: a change while starting is seen at the first check
    gateway.start()
    where = f"[{host}]" if ":" in host else host
    print(f"sebiao gateway: workshop {config.workshop.id} ({config.workshop.name}), "
          f"HTTP on http://{where}:{gateway.http_port}", flush=True)
    server = gateway.http_server()
    restart = threading.Event()
    if args.watch_config > 0:
        threading.Thread(target=_watch, args=(watch, args.watch_config, server, restart), daemon=True,
                         name="config-watch").start()
    # a port 0 chose a free one: the restart binds the same again, the one clients and stations know
    bound = {"http": f"{where}:{gateway.http_port}"}
    if gateway.embedded is not None:
        bound["embedded_broker"] = f"{gateway.embedded.host}:{gateway.embedded.port}"
    gateway.serve(server)  # SIGTERM: everything stopped and committed, then the process ends by it
    if restart.is_set():
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "sebiao.cli", *_command_line(args, bound)])
    return 0


def _command_line(args: argparse.Namespace, bound: dict[str, str]) -> list[str]:
    """This command's arguments, as parsed (a console script and ``python -m sebiao.cli`` both come back
    as the latter, with the same environment and working directory)."""
    line = ["gateway", "--config", args.config, "--data-dir", args.data_dir, "--http", bound["http"],
            "--embedded-broker", bound.get("embedded_broker", args.embedded_broker),
            "--watch-config", str(args.watch_config),
            "--log-level", args.log_level]
    return line + (["--broker", args.broker] if args.broker else [])


def _watch(watch: ConfigWatch, every: float, server, restart: threading.Event) -> None:
    log = logging.getLogger("edge_gateway.config")
    while not server.should_exit:
        threading.Event().wait(every)
        found = watch.changed()
        if found is None:
            continue
        if isinstance(found, Exception):
            log.error("配置文件已修改但无效，继续使用原配置 / the config file changed but is refused; running on "
                      "the config loaded at start: %s", found)
            continue
        log.warning("配置文件已修改，网关重启以生效 / the config file changed (%d tools): restarting to apply it",
                    len(found.tools))
        restart.set()
        server.should_exit = True
        return
