"""The embedded MQTT broker (amqtt) that ``sebiao gateway`` runs when no broker is configured.

For the demo and small set-ups on one machine: it listens on loopback by
default, speaks MQTT 3.1.1 only, and keeps sessions, queues and retained
messages in memory (they end with the process). It refuses anonymous clients
and enforces the same accounts and ACL as the Mosquitto files from
``sebiao broker-config``; the credentials live in
``<data-dir>/broker/credentials.json``, created on first start.

It runs in a background thread with its own asyncio loop, so the gateway
(paho, threads) needs nothing asynchronous. For the gateway
(``start_embedded``) it hands every event a station publishes to the gateway's
pipeline in-process and acknowledges it to the station once committed: amqtt's
own routing acknowledges events it may then lose (``embedded_amqtt.py`` says
why and what else it changes in amqtt).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
from pathlib import Path

from amqtt.contexts import BrokerConfig, ListenerConfig, ListenerType
from amqtt.errors import BrokerError as AmqttBrokerError

from edge_gateway.broker.access import AccessPolicy, workshop_acl
from edge_gateway.broker.credentials import Credentials, ensure_credentials
from edge_gateway.broker.embedded_amqtt import EventIntake, SebiaoBroker
from edge_gateway.broker.embedded_plugins import plugins_config
from edge_gateway.broker.log_limit import LIMIT, limit_amqtt_logs
from edge_gateway.broker.mosquitto import password_hashes
from edge_gateway.errors import BrokerError
from edge_gateway.model.protocol import events_filter
from edge_gateway.model.workshop import BrokerSettings, WorkshopConfig

log = logging.getLogger(__name__)

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 1883
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class EmbeddedBroker:
    """``start()`` returns once the broker listens; ``stop()`` shuts it down. Also a context manager.

    With ``takes_events`` the events stations publish are handed to the intake
    given to :meth:`attach` (the gateway's pipeline), not routed to subscribers
    of the gateway's account; until it is attached they wait, unacknowledged.
    Without, it is a plain broker (tests).
    """

    def __init__(self, config: WorkshopConfig, directory: str | Path,
                 host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, takes_events: bool = False) -> None:
        self.config = config
        self.directory = Path(directory)  # holds credentials.json; the gateway uses <data-dir>/broker
        self.host = host
        self.port = port  # 0 picks a free port; the real one is here after start()
        self.takes_events = takes_events
        self._credentials: Credentials | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: SebiaoBroker | None = None
        self._error: BaseException | None = None

    @property
    def credentials(self) -> Credentials:
        if self._credentials is None:
            raise BrokerError("the embedded broker has not been started; its credentials are created on start")
        return self._credentials

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def dropped(self) -> int:
        """Messages dropped for clients that stopped acknowledging (never an event to the gateway)."""
        return self._broker.dropped if self._broker is not None else 0

    def attach(self, intake: EventIntake) -> None:
        """Where the events go from now on (``takes_events``); callable from any thread once started."""
        if not self.running or self._loop is None or self._broker is None:
            raise BrokerError("the embedded broker is not running")
        self._loop.call_soon_threadsafe(self._broker.attach, intake)

    def start(self) -> "EmbeddedBroker":
        if self.running:
            raise BrokerError(f"the embedded broker already runs on {self.host}:{self.port}")
        _quiet_libraries()
        self._check_port_free()
        self._credentials = ensure_credentials(self.config, self.directory)
        policy = AccessPolicy(password_hashes(self._credentials), workshop_acl(self.config, self._credentials))
        ready = threading.Event()
        self._error = None
        self._thread = threading.Thread(target=self._run, args=(policy, ready),
                                        name="sebiao-embedded-broker", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT):
            raise BrokerError(f"the embedded broker did not start within {START_TIMEOUT:g} s")
        if self._error is not None:
            self._thread.join(STOP_TIMEOUT)
            self._thread = None
            raise self._error
        log.info("embedded MQTT broker listening on %s:%d", self.host, self.port)
        return self

    def stop(self) -> None:
        if not self.running or self._loop is None or self._broker is None:
            return
        done = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
        try:
            done.result(STOP_TIMEOUT)
        except Exception as exc:  # whatever amqtt raised, the caller gets our error
            raise BrokerError(f"the embedded MQTT broker did not stop cleanly: {exc!r}") from exc
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(STOP_TIMEOUT)
            self._thread = None

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, policy: AccessPolicy, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            try:
                self._broker = loop.run_until_complete(self._start(policy))
            except (AmqttBrokerError, OSError) as exc:
                self._error = self._start_error(exc)
                return
            except BaseException as exc:  # handed to the thread that called start(), which raises it
                self._error = BrokerError(f"the embedded MQTT broker failed to start: {exc!r}")
                self._error.__cause__ = exc
                return
            finally:
                ready.set()
            loop.run_forever()
        finally:
            _cancel_all(loop)
            loop.close()

    async def _start(self, policy: AccessPolicy) -> SebiaoBroker:
        host = f"[{self.host}]" if ":" in self.host else self.host
        config = BrokerConfig(
            listeners={"default": ListenerConfig(type=ListenerType.TCP, bind=f"{host}:{self.port}")},
            plugins=plugins_config(policy),
        )
        events = events_filter(self.config.workshop.id) if self.takes_events else None
        broker = SebiaoBroker(policy, config, loop=asyncio.get_running_loop(), events=events)
        limit_amqtt_logs(LIMIT)  # a client must not be able to fill the disk with amqtt's lines
        await broker.start()
        self.port = broker.listening_port() or self.port
        return broker

    def _check_port_free(self) -> None:
        """Fail early with our message: amqtt would log a traceback for a taken port first."""
        if self.port == 0:
            return
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as asyncio's server does
            try:
                probe.bind((self.host, self.port))
            except OSError as exc:
                raise self._start_error(exc) from exc

    def _start_error(self, exc: BaseException) -> BrokerError:
        cause: BaseException | None = exc
        while cause is not None and not isinstance(cause, OSError):
            cause = cause.__cause__ or cause.__context__
        where = f"{self.host}:{self.port}"
        if isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE:
            return BrokerError(
                f"the embedded MQTT broker cannot listen on {where}: the port is already in use. "
                "Another broker (mosquitto?) may be running: stop it, or set broker.url in the workshop "
                f"config to use it. / 端口 {self.port} 已被占用")
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(exc)
        return BrokerError(f"the embedded MQTT broker cannot listen on {where}: {reason}")


def _quiet_libraries() -> None:
    # amqtt logs every connection and `transitions` every state change at INFO;
    # leave them at WARNING (refusals and denials) unless the application chose a level.
    for name in ("amqtt", "transitions"):
        library = logging.getLogger(name)
        if library.level == logging.NOTSET:
            library.setLevel(logging.WARNING)


def start_embedded(config: WorkshopConfig, directory: str | Path, host: str = DEFAULT_HOST,
                   port: int = DEFAULT_PORT) -> tuple[EmbeddedBroker, BrokerSettings]:
    """Start the embedded broker for the gateway, which then attaches its pipeline
    (``EmbeddedBroker.attach``); returns it and the settings the gateway connects with."""
    broker = EmbeddedBroker(config, directory, host, port, takes_events=True).start()
    gateway = broker.credentials.gateway
    return broker, BrokerSettings.parse(broker.url, gateway.username, gateway.password)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
