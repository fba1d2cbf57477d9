"""Real servers and clients for tests and benchmarks: Mosquitto and a paho-mqtt client.

Plain helpers, no pytest: ``tests/conftest.py`` wraps them in fixtures, and
benchmarks import them directly::

    from tests.servers import MosquittoServer, MqttClient
    with MosquittoServer(load_config("examples/workshop.yaml"), Path(tmp)) as broker:
        with MqttClient.connect(broker.host, broker.port, *broker.account("rack-red-1")) as station:
            station.publish(event_topic("ws-demo", "rack-red-1"), b"...", qos=1)

Each Mosquitto runs the files of ``broker_config.generate`` for its
WorkshopConfig, on a free loopback port, in its own directory.

On a busy machine a port found free may be taken by another program before the
server binds it. A server is ready only once its own process holds the
listening socket (``listens``: not whatever answers on the port), and one
that could not bind is started again on a new port.
"""

from __future__ import annotations

import ctypes
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from edge_gateway.broker.credentials import Account, Credentials
from edge_gateway.broker.mosquitto import BrokerFiles, generate
from edge_gateway.config import load_config
from edge_gateway.model.protocol import cmd_topic, event_topic
from edge_gateway.model.workshop import WorkshopConfig

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = ROOT / "examples" / "workshop.yaml"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def example_config() -> WorkshopConfig:
    return load_config(EXAMPLE_CONFIG)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def listens(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a TCP socket listening on ``port`` (Linux: /proc/net, /proc/PID/fd)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except OSError:
            continue
    return False


def bind_failed(log_text: str) -> bool:
    """A server's log says it could not bind its port (Mosquitto, influxd, VictoriaMetrics, PostgreSQL)."""
    return "address already in use" in log_text.lower()


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:
    # A crashed or killed test run must not leave brokers behind.
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class ServerProcess:
    """A server subprocess (``_proc``) logging to ``workdir/<name>.log``; ``with`` kills it at the end."""

    name = "server"
    stop_seconds = 10.0
    workdir: Path
    _proc: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        """What the server logged after ``offset`` (a ``log_size()``): this start's lines."""
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def start(self, timeout: float = 10.0) -> "ServerProcess":
        raise NotImplementedError

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM and wait (``stop_seconds`` unless given), then SIGKILL."""
        if self.running:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout or self.stop_seconds)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()


class MosquittoServer(ServerProcess):
    """A real ``mosquitto`` with the generated config; ``stop()``/``start()`` keep port and persistence.

    ``stop()`` is a clean stop: mosquitto saves its database, queued messages survive a start();
    after ``kill()`` what it had not saved (autosave_interval) is lost.
    """

    name = "mosquitto"

    def __init__(self, config: WorkshopConfig, workdir: Path, host: str = "127.0.0.1",
                 port: int | None = None) -> None:
        if not Path(MOSQUITTO).exists():
            raise FileNotFoundError(f"{MOSQUITTO} not found: install Debian's mosquitto (apt-get install mosquitto)")
        self.config = config
        self.workdir = Path(workdir)
        self.host = host
        self._fixed_port = port is not None
        self.files = self._generate(port or free_port(host))
        self._proc: subprocess.Popen | None = None
        self._starts = 0

    def _generate(self, port: int) -> BrokerFiles:
        return generate(self.config, self.workdir / "broker", listen=f"{self.host}:{port}",
                        persistence_dir=self.workdir / "persistence",
                        run_as="root" if os.geteuid() == 0 else None)  # as root it would switch to 'mosquitto'

    # -- what tests need to connect -------------------------------------------------

    @property
    def port(self) -> int:
        return self.files.listen_port

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def config_dir(self) -> Path:
        return self.files.directory

    @property
    def credentials(self) -> Credentials:
        return self.files.credentials

    @property
    def gateway(self) -> Account:
        return self.credentials.gateway

    def station(self, station_id: str) -> Account:
        return self.credentials.station(station_id)

    def account(self, name: str) -> tuple[str, str]:
        return account(self.credentials, name)

    def client(self, name: str | None, **kwargs: Any) -> "MqttClient":
        """A connected client logged in as ``"gateway"``, ``"monitor"``, a station id, or anonymous (None)."""
        return login(self, name, **kwargs)

    # -- life cycle -------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> "MosquittoServer":
        if self.running:
            return self
        for attempt in range(3):
            try:
                self._spawn(timeout)
                self._starts += 1
                return self
            except PortTaken:
                # Another process took our free port between choosing and binding it.
                if self._fixed_port or self._starts or attempt == 2:
                    raise
                self.files = self._generate(free_port(self.host))
        raise AssertionError("unreachable")

    def _spawn(self, timeout: float) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        offset = self.log_size()
        log = open(self.log_path, "ab")
        try:
            main = threading.current_thread() is threading.main_thread()
            self._proc = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.files.conf)], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.workdir,
                # PDEATHSIG fires when the forking *thread* ends: only safe from the main thread.
                preexec_fn=_die_with_parent if main else None)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while not listens(self._proc.pid, self.port):  # our mosquitto, not whoever else took the port
            if self._proc.poll() is not None:
                text = self.log_since(offset)
                if bind_failed(text):
                    raise PortTaken(f"port {self.port} is taken")
                raise RuntimeError(f"mosquitto exited with {self._proc.returncode}:\n{text[-2000:]}")
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(f"mosquitto did not listen on {self.host}:{self.port} within {timeout} s")
            time.sleep(0.01)

    def restart(self, timeout: float = 10.0) -> "MosquittoServer":
        self.stop(timeout)
        return self.start(timeout)


class PortTaken(OSError):
    pass


class MosquittoPool:
    """Starts servers on demand and kills them all at the end (fixture teardown)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.servers: list[MosquittoServer] = []

    def start(self, config: WorkshopConfig | None = None, **kwargs: Any) -> MosquittoServer:
        server = MosquittoServer(config or example_config(), self.workdir / f"mosquitto-{len(self.servers)}",
                                 **kwargs)
        self.servers.append(server)
        return server.start()

    def close(self) -> None:
        for server in self.servers:
            server.kill()


class ConnectRefused(ConnectionError):
    def __init__(self, reason: ReasonCode) -> None:
        self.reason = reason
        super().__init__(f"CONNACK refused: {reason} ({reason.value})")


class MqttClient:
    """A paho-mqtt 2.x client (VERSION2 callbacks, MQTT 3.1.1) with blocking helpers.

    Received messages go to ``messages`` (a queue); ``expect`` and
    ``receive_until`` take from it with timeouts instead of sleeps.
    """

    def __init__(self, client_id: str = "", clean_session: bool = True, reconnect: bool = False,
                 manual_ack: bool = False) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_session,
                                  protocol=mqtt.MQTTv311, reconnect_on_failure=reconnect, manual_ack=manual_ack)
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.connack = threading.Event()  # a CONNACK arrived (success or refusal); never cleared
        self.connected = threading.Event()  # connected now (set on a successful CONNACK)
        self.disconnected = threading.Event()
        self.connect_reason: ReasonCode | None = None
        self.session_present = False
        self._acks: dict[int, threading.Event] = {}
        self._granted: dict[int, list[ReasonCode]] = {}
        self._lock = threading.Lock()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = lambda _c, _u, msg: self.messages.put(msg)
        self.client.on_subscribe = self._on_subscribe

    @classmethod
    def connect(cls, host: str, port: int, username: str | None = None, password: str | None = None, *,
                client_id: str = "", clean_session: bool = True, keepalive: int = 30,
                will: tuple[str, bytes, int, bool] | None = None, reconnect: bool = False,
                manual_ack: bool = False, nodelay: bool = True, timeout: float = 5.0) -> "MqttClient":
        """Connected, or raises ConnectRefused with the CONNACK reason (e.g. 'Not authorized').

        With ``manual_ack`` QoS 1 messages stay unacknowledged until ``ack(message)``.
        """
        self = cls(client_id, clean_session, reconnect, manual_ack)
        if username is not None:
            self.client.username_pw_set(username, password)
        if will is not None:
            topic, payload, qos, retain = will
            self.client.will_set(topic, payload, qos, retain)
        self.client.connect(host, port, keepalive)
        if nodelay:
            self.client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.loop_start()
        if not self.connack.wait(timeout):
            self.close()
            raise TimeoutError(f"no CONNACK from {host}:{port} within {timeout} s")
        if self.connect_reason.is_failure:
            self.close()
            raise ConnectRefused(self.connect_reason)
        return self

    def _on_connect(self, _c, _u, flags, reason: ReasonCode, _props) -> None:
        self.connect_reason = reason
        self.session_present = bool(flags.session_present)
        self.connack.set()
        if not reason.is_failure:
            self.disconnected.clear()
            self.connected.set()

    def wait_connected(self, timeout: float = 10.0) -> None:
        """After an outage (with ``reconnect=True``): wait until connected again."""
        if not self.connected.wait(timeout):
            raise TimeoutError(f"not reconnected within {timeout} s")

    def _on_disconnect(self, _c, _u, _flags, _reason, _props) -> None:
        self.connected.clear()
        self.disconnected.set()

    def _on_subscribe(self, _c, _u, mid: int, reasons: list[ReasonCode], _props) -> None:
        with self._lock:
            self._granted[mid] = reasons
            event = self._acks.setdefault(mid, threading.Event())
        event.set()

    def subscribe(self, topic: str, qos: int = 1, timeout: float = 5.0) -> list[ReasonCode]:
        """Subscribe and wait for the SUBACK; returns its reason codes (QoS granted or a failure)."""
        with self._lock:
            result, mid = self.client.subscribe(topic, qos)
            if result != mqtt.MQTT_ERR_SUCCESS:
                raise ConnectionError(f"subscribe {topic!r}: {mqtt.error_string(result)}")
            event = self._acks.setdefault(mid, threading.Event())
        if not event.wait(timeout):
            raise TimeoutError(f"no SUBACK for {topic!r} within {timeout} s")
        with self._lock:
            return self._granted.pop(mid)

    def publish(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                timeout: float = 5.0) -> None:
        """Publish; for QoS 1 and 2, wait until the broker acknowledged it."""
        info = self.client.publish(topic, payload, qos, retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise ConnectionError(f"publish {topic!r}: {mqtt.error_string(info.rc)}")
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise TimeoutError(f"publish {topic!r} not acknowledged within {timeout} s")

    def ack(self, message: mqtt.MQTTMessage) -> None:
        self.client.ack(message.mid, message.qos)

    def expect(self, topic: str | None = None, timeout: float = 5.0) -> mqtt.MQTTMessage:
        """The next message (on ``topic`` if given: others before it are dropped)."""
        return self.receive_until(lambda m: topic is None or m.topic == topic, timeout)[-1]

    def receive_until(self, last: Callable[[mqtt.MQTTMessage], bool], timeout: float = 5.0
                      ) -> list[mqtt.MQTTMessage]:
        """All messages up to and including the first for which ``last`` is true."""
        got: list[mqtt.MQTTMessage] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                msg = self.messages.get(timeout=max(remaining, 0))
            except queue.Empty:
                raise TimeoutError(f"the awaited message did not arrive within {timeout} s; "
                                   f"got {[m.topic for m in got]}") from None
            got.append(msg)
            if last(msg):
                return got

    def drain(self) -> list[mqtt.MQTTMessage]:
        """What has arrived so far, without waiting."""
        out = []
        while True:
            try:
                out.append(self.messages.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        """A clean DISCONNECT (no last will)."""
        if self.client.is_connected():
            self.client.disconnect()
        self.client.loop_stop()

    def drop(self) -> None:
        """Cut the TCP connection without DISCONNECT: the broker publishes the last will."""
        sock = self.client.socket()
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        self.client.loop_stop()

    def __enter__(self) -> "MqttClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def account(creds: Credentials, name: str) -> tuple[str, str]:
    """``(username, password)`` of ``"gateway"``, ``"monitor"`` (read-only) or a station id."""
    acc = creds.gateway if name == "gateway" else creds.monitor if name == "monitor" else creds.station(name)
    return acc.username, acc.password


def login(broker: Any, name: str | None, **kwargs: Any) -> MqttClient:
    """Connect to any broker with ``host``, ``port`` and ``credentials`` (Mosquitto or embedded)
    as ``"gateway"``, ``"monitor"``, a station id, or anonymously (None)."""
    user, password = account(broker.credentials, name) if name else (None, None)
    return MqttClient.connect(broker.host, broker.port, user, password, **kwargs)


def connack_reason(host: str, port: int, username: str | None = None, password: str | None = None,
                   client_id: str = "", timeout: float = 5.0) -> ReasonCode:
    """The CONNACK reason the broker answers with (success or refusal); the client disconnects."""
    try:
        client = MqttClient.connect(host, port, username, password, client_id=client_id, timeout=timeout)
    except ConnectRefused as refused:
        return refused.reason
    reason = client.connect_reason
    client.close()
    return reason


def secrets_then_marker(gateway: MqttClient, reader: MqttClient, ws: str) -> list[tuple[str, bytes]]:
    """The gateway sends rack-white-1 a cmd and an event (b"secret"), then rack-red-1 a cmd (b"marker"):
    (topic, payload) of what ``reader`` got up to the marker. One sender's messages arrive in order, so
    anything let through would come before it."""
    gateway.publish(cmd_topic(ws, "rack-white-1"), b"secret", qos=1)
    gateway.publish(event_topic(ws, "rack-white-1"), b"secret", qos=1)
    gateway.publish(cmd_topic(ws, "rack-red-1"), b"marker", qos=1)
    return [(m.topic, m.payload) for m in reader.receive_until(lambda m: m.payload == b"marker")]
