"""The gateway imports only what its config uses (docs/performance.md, "Memory"): ``sebiao gateway``'s
start-up path, run in a fresh interpreter on a config with an external broker and no ``influx:``,
``cloud:`` or ``notify:``, leaves out the other commands' modules (PDF, labels, firmware, the cloud
service), the sinks' workers and HTTP clients, the embedded broker, SQLAlchemy, the QR code and cryptography."""

from __future__ import annotations

import subprocess
import sys

from servers import ROOT

# What the process imports up to a started gateway, short of binding ports and threads: the command's
# parser as ``sebiao gateway`` builds it, the command module, the composition root, the web app's modules.
STARTUP = """
import sys
from sebiao import cli
args = cli.build_parser(cli._chosen(["gateway"])).parse_args(
    ["gateway", "--config", "examples/workshop.yaml", "--broker", "mqtt://127.0.0.1:1"])
module = cli._load(args._module)
from edge_gateway.config import load_config
from edge_gateway.gateway import Gateway, GatewayOptions
import edge_gateway.web
gateway = Gateway(load_config(args.config), GatewayOptions(broker_url=args.broker))
gateway._projections(None)
print("\\n".join(sorted(sys.modules)))
"""

NOT_NEEDED = (
    "cloud_ingest", "dashboards", "sqlalchemy", "reportlab", "PIL", "segno", "amqtt", "urllib3", "httpx",
    "influxdb_client", "edge_gateway.tooling", "edge_gateway.broker.embedded", "edge_gateway.commands.labels",
    "edge_gateway.commands.firmware", "edge_gateway.sinks.cloud.push", "edge_gateway.sinks.cloud.grade",
    "edge_gateway.sinks.cloud.client", "edge_gateway.sinks.influx.drain", "edge_gateway.sinks.notify.send",
    "sebiao_common.influx.writer", "sebiao_common.fonts", "cryptography",
    "edge_gateway.fleet",  # firmware updates: only with a fleet: section
)


def _modules(code: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def test_a_minimal_gateway_imports_only_what_it_uses():
    modules = _modules(STARTUP)
    assert "edge_gateway.gateway" in modules and "paho.mqtt.client" in modules  # the path did run
    loaded = sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in NOT_NEEDED))
    assert not loaded, f"imported by a gateway that does not use them: {loaded}"


def test_every_command_is_still_built_for_the_help_and_the_docs():
    modules = _modules("import sys\nfrom sebiao import cli\ncli.build_parser()\nprint('\\n'.join(sys.modules))")
    assert "edge_gateway.commands.labels" in modules and "cloud_ingest.cli" in modules
