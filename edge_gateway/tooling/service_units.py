"""systemd units for a workshop gateway host: the gateway and its Mosquitto, rendered as text.

Pure: :func:`render_units` turns :class:`ServiceSettings` into file names and
contents; ``service_install`` writes them and prepares the user and the
directories. Why each setting is there is said beside it, and in
``docs/deploy.md`` ("The gateway as a service").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from sebiao_common.errors import ConfigError

GATEWAY_UNIT = "sebiao-gateway.service"
MOSQUITTO_UNIT = "sebiao-mosquitto.service"
DEBIAN_MOSQUITTO_UNIT = "mosquitto.service"
UNIT_DIR = "etc/systemd/system"
# A stop gives the gateway this long to close the store and the broker session before SIGKILL; its own
# shutdown takes a second or two, the rest is margin for a slow SD card. Mosquitto writes its whole
# persistence database on a clean exit, which is the larger job on a full queue.
GATEWAY_STOP_SECONDS = 30
MOSQUITTO_STOP_SECONDS = 60
RESTART_SECONDS = 3
# Characters that would need systemd quoting or specifier escaping in a path; such paths are refused
# rather than escaped, so what the unit says is what the installer typed.
_UNSAFE = re.compile(r"[\s\"'\\%$;]")

# Hardening both services share. Each line still lets the service work: the gateway needs only its
# data dir writable, its config readable and IP sockets; Mosquitto the same for its database.
# The gateway and its broker carry every alarm from the rack to the red LED: ahead of the box's other work.
ALARM_PATH_NICE = -5

HARDENING = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=read-only",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "CapabilityBoundingSet=",
    "UMask=0077",
)


# The gateway is the workshop's time source (edge_gateway/timeserver): it answers SNTP on UDP 123, which an
# unprivileged user binds only with CAP_NET_BIND_SERVICE, the one capability it keeps. It reads whether the
# host's clock is synchronised with adjtimex(2) (read-only, no capability needed), which ProtectClock= would
# filter out with the whole @clock group; without CAP_SYS_TIME the gateway cannot set the clock anyway.
GATEWAY_HARDENING = tuple(line for line in HARDENING if line not in ("ProtectClock=yes", "CapabilityBoundingSet=")) + (
    "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
    "AmbientCapabilities=CAP_NET_BIND_SERVICE",
)


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    workshop: str
    user: str
    exec_start: tuple[str, ...]  # the gateway's command line, absolute program first
    data_dir: PurePosixPath
    mosquitto: "MosquittoUnit | None" = None


@dataclass(frozen=True, kw_only=True)
class MosquittoUnit:
    program: PurePosixPath
    conf: PurePosixPath
    persistence_dir: PurePosixPath
    user: str = "mosquitto"


def checked_path(value: str, what: str) -> PurePosixPath:
    """An absolute path fit for a unit file, or a ConfigError naming the option."""
    path = PurePosixPath(value)
    if not path.is_absolute():
        raise ConfigError(what, value, "must be an absolute path / 须为绝对路径")
    if _UNSAFE.search(value):
        raise ConfigError(what, value, "has a space, quote, %, $, ; or backslash, which a systemd unit would "
                                       "read differently; choose a plain path / 路径含空格或特殊字符")
    return path


def gateway_command(program: tuple[str, ...], config: PurePosixPath, data_dir: PurePosixPath,
                    http: str) -> tuple[str, ...]:
    return (*program, "gateway", "--config", str(config), "--data-dir", str(data_dir), "--http", http)


def render_gateway(s: ServiceSettings) -> str:
    after = "network.target" + (f" {MOSQUITTO_UNIT}" if s.mosquitto else "")
    wants = f"Wants={MOSQUITTO_UNIT}\n" if s.mosquitto else ""
    return f"""\
# 色标 sebiao gateway for workshop '{s.workshop}'. Written by `sebiao service install`; re-run it rather
# than editing by hand (local changes: `systemctl edit {GATEWAY_UNIT}`).
[Unit]
Description=sebiao workshop gateway ({s.workshop}) / 色标作坊网关
# network.target, not network-online.target: the gateway listens on its own and reconnects to the
# broker by itself, and a workshop without internet must not wait for a network that never comes.
# No time-sync.target either: with systemd-time-wait-sync enabled it blocks until an NTP server
# answers, which in an offline workshop is never; events carry the stations' own timestamps.
After={after}
{wants}# A gateway that keeps failing is still retried: it is the workshop's only record.
StartLimitIntervalSec=0

[Service]
Type=simple
User={s.user}
Group={s.user}
ExecStart={" ".join(s.exec_start)}
# always, not on-failure: whatever ended it (a crash, an OOM kill, an exit), the workshop needs it back.
Restart=always
RestartSec={RESTART_SECONDS}
# SIGTERM lets the gateway commit, close its store and its broker session; SIGKILL only after this.
KillSignal=SIGTERM
KillMode=mixed
TimeoutStopSec={GATEWAY_STOP_SECONDS}
Environment=PYTHONUNBUFFERED=1
# The alarm path first: on a box that also runs a kiosk browser, InfluxDB or Grafana (docs/deploy.md).
Nice={ALARM_PATH_NICE}
StandardOutput=journal
StandardError=journal
SyslogIdentifier=sebiao-gateway
ReadWritePaths={s.data_dir}
{chr(10).join(GATEWAY_HARDENING)}

[Install]
WantedBy=multi-user.target
"""


def render_mosquitto(s: ServiceSettings) -> str:
    m = s.mosquitto
    assert m is not None
    return f"""\
# Mosquitto for 色标 sebiao workshop '{s.workshop}', with the files of `sebiao broker-config`.
# Written by `sebiao service install`; re-run it rather than editing by hand.
[Unit]
Description=Mosquitto MQTT broker for sebiao ({s.workshop}) / 色标 MQTT 服务器
After=network.target
# Debian's own mosquitto.service would hold the same port with another config.
Conflicts={DEBIAN_MOSQUITTO_UNIT}
StartLimitIntervalSec=0

[Service]
# Debian's mosquitto is built with systemd support: it reports ready once it listens.
Type=notify
NotifyAccess=main
User={m.user}
Group={m.user}
ExecStart={m.program} -c {m.conf}
# SIGHUP re-reads the password file and the ACL after `sebiao broker-config` ran again.
ExecReload=/bin/kill -HUP $MAINPID
Restart=always
RestartSec={RESTART_SECONDS}
# Mosquitto writes its database (the stations' queued events) on a clean exit.
TimeoutStopSec={MOSQUITTO_STOP_SECONDS}
Nice={ALARM_PATH_NICE}
StandardOutput=journal
StandardError=journal
SyslogIdentifier=sebiao-mosquitto
ReadWritePaths={m.persistence_dir}
{chr(10).join(HARDENING)}

[Install]
WantedBy=multi-user.target
"""


def render_units(s: ServiceSettings) -> dict[str, str]:
    """File name -> contents, for the unit directory."""
    units = {GATEWAY_UNIT: render_gateway(s)}
    if s.mosquitto:
        units[MOSQUITTO_UNIT] = render_mosquitto(s)
    return units


def exec_start(unit_text: str) -> list[str]:
    """The ``ExecStart=`` command line of a unit, split as systemd splits it (no quoting is ever written)."""
    for line in unit_text.splitlines():
        if line.startswith("ExecStart="):
            return line.removeprefix("ExecStart=").split()
    raise ValueError("no ExecStart= line")


def persistence_location(conf_text: str) -> str | None:
    """The ``persistence_location`` of a mosquitto.conf, if it names one."""
    for line in conf_text.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2 and parts[0] == "persistence_location":
            return parts[1].strip()
    return None
