"""The embedded MQTT broker (amqtt) that ``sebiao gateway`` runs when no broker is configured.

For the demo and small set-ups on one machine: it listens on loopback by
default, speaks MQTT 3.1.1 only, and keeps sessions, queues and retained
messages in memory (they end with the process). It refuses anonymous clients
and enforces the same accounts and ACL as the Mosquitto files from
``sebiao broker-config``; the credentials live in
``<data-dir>/broker/credentials.json``, created on first start.

It runs in a background thread with its own asyncio loop, so the gateway
(paho, threads) needs nothing asynchronous.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
from pathlib import Path

from amqtt.broker import Broker
from amqtt.contexts import BrokerConfig, ListenerConfig, ListenerType
from amqtt.errors import AMQTTError, MQTTError, NoDataError
from amqtt.errors import BrokerError as AmqttBrokerError
from amqtt.mqtt.connack import NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.session import OUTGOING, Session
from amqtt.utils import gen_client_id

from edge_gateway.broker.access import AccessPolicy, workshop_acl
from edge_gateway.broker.credentials import Credentials, ensure_credentials
from edge_gateway.broker.embedded_plugins import plugins_config
from edge_gateway.broker.mosquitto import password_hashes
from edge_gateway.errors import BrokerError
from edge_gateway.model.workshop import BrokerSettings, WorkshopConfig

log = logging.getLogger(__name__)

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 1883
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class EmbeddedBroker:
    """``start()`` returns once the broker listens; ``stop()`` shuts it down. Also a context manager."""

    def __init__(self, config: WorkshopConfig, directory: str | Path,
                 host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        self.config = config
        self.directory = Path(directory)  # holds credentials.json; the gateway uses <data-dir>/broker
        self.host = host
        self.port = port  # 0 picks a free port; the real one is here after start()
        self._credentials: Credentials | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: _SebiaoBroker | None = None
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

    async def _start(self, policy: AccessPolicy) -> "_SebiaoBroker":
        host = f"[{self.host}]" if ":" in self.host else self.host
        config = BrokerConfig(
            listeners={"default": ListenerConfig(type=ListenerType.TCP, bind=f"{host}:{self.port}")},
            plugins=plugins_config(policy),
        )
        broker = _SebiaoBroker(policy, config, loop=asyncio.get_running_loop())
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
    """Start the embedded broker; returns it and the settings the gateway connects with."""
    broker = EmbeddedBroker(config, directory, host, port).start()
    gateway = broker.credentials.gateway
    return broker, BrokerSettings.parse(broker.url, gateway.username, gateway.password)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


class _SebiaoHandler(BrokerProtocolHandler):
    """Hole 4: amqtt 0.12 forgets a QoS 1 message sent but not acknowledged when the
    connection drops, so a resumed session never gets it again. The gateway
    acknowledges only after its commit: such a message must come back (MQTT-4.4.0-1)."""

    async def _handle_qos1_message_flow(self, app_message) -> None:
        try:
            await super()._handle_qos1_message_flow(app_message)
        except asyncio.CancelledError:
            # the connection ended before the PUBACK: keep it for _retry_deliveries on resume
            if app_message.direction == OUTGOING and self.session is not None and app_message.puback_packet is None:
                self.session.inflight_out[app_message.packet_id] = app_message
            raise


class _SnapshotSubscriptions(dict):
    """amqtt's ``Broker._subscriptions`` (filter -> [(session, qos)]), iterated as a
    snapshot: ``_run_broadcast`` walks ``items()`` and awaits the ACL plugin for
    each match (asyncio.gather: other tasks run), and the connect path walks the
    keys around awaits too, so a SUBSCRIBE adding a filter meanwhile raised
    "dictionary changed size during iteration" and the message was lost for every
    filter after that point. Iterating copies (of the lists too, so a session
    unsubscribing mid-broadcast does not shift the one being walked) makes each
    pass see the subscriptions as they were when it began; a client subscribing
    during a broadcast gets the messages published after its SUBACK."""

    def items(self):  # type: ignore[override]
        return [(k, list(v)) for k, v in dict.items(self)]

    def __iter__(self):
        return iter(list(dict.keys(self)))

    def keys(self):  # type: ignore[override]
        return list(dict.keys(self))


class _SebiaoBroker(Broker):
    """amqtt's broker with five holes closed (amqtt 0.12; each proven by tests/gateway/test_embedded_broker.py).

    1. amqtt deletes or takes over the session named by a CONNECT *before*
       authenticating it, so an anonymous client using the gateway's client id
       could wipe the gateway's queued messages. We authenticate first, and
       refuse a client id whose session belongs to another user.
    2. On every connect amqtt sends the new client the retained messages of
       every filter *any* client subscribed, bypassing the ACL. We send only
       those of the client's own subscriptions (already ACL-checked).
    3. Messages queued for an offline session are delivered with the retain
       flag set; MQTT says retain=0 for messages that match an existing
       subscription, and Mosquitto does so.
    4. Unacknowledged QoS 1 messages are lost when a connection drops
       (:class:`_SebiaoHandler`).
    5. A SUBSCRIBE arriving while a message is broadcast broke the broadcast
       ("dictionary changed size during iteration"): the subscriptions are
       iterated as a snapshot (:class:`_SnapshotSubscriptions`).

    Still open (docs/broker.md): messages arriving *while* a persistent session
    resumes may be lost or reordered, and nothing survives the process.
    """

    def __init__(self, policy: AccessPolicy, config: BrokerConfig, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(config, loop=loop)
        self._policy = policy
        self._subscriptions = _SnapshotSubscriptions()

    def listening_port(self) -> int | None:
        for server in self._servers.values():
            for sock in getattr(server.instance, "sockets", None) or ():
                return sock.getsockname()[1]
        return None

    async def _initialize_client_session(self, reader, writer, remote_address: str, remote_port: int):
        # Mirrors amqtt 0.12's Broker._initialize_client_session with a check
        # before any session bookkeeping (hole 1 above).
        try:
            handler, session = await _SebiaoHandler.init_from_connect(reader, writer, self.plugins_manager)
        except AMQTTError as exc:
            raise AMQTTError(exc) from exc
        except MQTTError as exc:
            await writer.close()
            raise MQTTError(exc) from exc
        except NoDataError as exc:
            raise AMQTTError(exc) from exc

        refusal = self._refusal(session)
        if refusal:
            self.logger.warning("refused %s:%s (client %r, user %r): %s",
                                remote_address, remote_port, session.client_id, session.username, refusal)
            await ConnackPacket.build(0, NOT_AUTHORIZED).to_stream(writer)
            await writer.close()
            raise MQTTError(refusal)

        if session.clean_session:
            if session.client_id:
                await self._delete_session(session.client_id)
            else:
                session.client_id = gen_client_id()
            session.parent = 0
        elif session.client_id in self._sessions:
            existing, _ = self._sessions[session.client_id]
            # the new connection brings its own will, keep-alive and credentials
            for name in ("will_flag", "will_message", "will_topic", "will_qos", "will_retain",
                         "keep_alive", "username", "password"):
                setattr(existing, name, getattr(session, name))
            session = existing
            session.parent = 1
        else:
            session.parent = 0
        delay = self.config.get("timeout-disconnect-delay", 0)
        if session.keep_alive > 0 and isinstance(delay, int):
            session.keep_alive += delay
        return handler, session

    def _refusal(self, session: Session) -> str | None:
        if not self._policy.authenticate(session.username, session.password):
            return "no credentials" if not session.username else "bad user name or password"
        existing = self._sessions.get(session.client_id) if session.client_id else None
        if existing is not None and existing[0].username != session.username:
            return f"client id {session.client_id!r} belongs to another user's session"
        return None

    async def _publish_retained_messages_for_subscription(self, subscription: tuple[str, int],
                                                          session: Session) -> None:
        # Hole 2: only filters this session holds; each passed the subscribe ACL.
        holders = self._subscriptions.get(subscription[0], ())
        if any(holder.client_id == session.client_id for holder, _ in holders):
            await super()._publish_retained_messages_for_subscription(subscription, session)

    async def _publish_session_retained_messages(self, session: Session) -> None:
        # Hole 3: queued messages go out in order with retain=0.
        handler = self._get_handler(session)
        if handler is None:
            return
        sends = []
        while not session.retained_messages.empty():
            message = session.retained_messages.get_nowait()
            sends.append(asyncio.ensure_future(handler.mqtt_publish(message.topic, message.data, message.qos,
                                                                    retain=False)))
        if sends:
            await asyncio.wait(sends)
