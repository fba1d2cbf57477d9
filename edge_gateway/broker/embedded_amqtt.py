"""amqtt 0.12's broker and protocol handler, made to keep what they acknowledge.

``embedded.py`` runs :class:`SebiaoBroker`; ``tests/gateway/test_embedded_broker.py``,
``test_broker_client_ids.py`` and ``test_embedded_burst.py`` prove each point below.

Why the gateway takes the events in-process. amqtt acknowledges a QoS 1
PUBLISH as soon as it has put it on the publisher's in-memory queue, which is
dropped when that publisher disconnects; it then sends each message to every
subscriber at once (no in-flight limit), waits 5 s for the PUBACK and discards
the message if none came, logging a traceback each time. A burst of 3 stations
x 15,000 events, all acknowledged to the stations, lost about half of them on
the way to a gateway that commits more slowly than they arrive, and wrote
174 MB of log. Fixing amqtt's routing would mean rewriting it (an ordered,
bounded queue per subscriber, with back-pressure to every publisher). Instead,
with the gateway beside it in the same process, the broker hands each event a
station publishes straight to the gateway's pipeline (``EventIntake``) and
sends the station its PUBACK only once the pipeline has committed the event:
an acknowledged event is a stored event, at any rate. A connection with
``WINDOW`` events handed over and not yet committed is no longer read (TCP
back-pressure: the station keeps the rest in its flash), so memory stays
bounded. Other subscribers (the monitor) still get the events the usual way.

What still goes through amqtt's routing (status, wills, alarms, commands) no
longer expires: a QoS 1 message waits for its PUBACK as long as the connection
lives and is sent again (DUP) when a persistent session resumes. A client that
stops acknowledging gets at most ``MAX_UNACKED`` messages in flight and an
offline persistent session at most ``MAX_QUEUED`` queued; beyond that messages
to it are dropped and counted (``SebiaoBroker.dropped``), as Mosquitto does
past ``max_queued_messages``. Every log line a client can cause is rate-limited
(``log_limit.py``).

The other holes closed (each proven by a test):

1. amqtt deletes or takes over the session named by a CONNECT *before*
   authenticating it, and any account could take another's (predictable)
   client id. We authenticate first, then make the client id the user name,
   as Mosquitto's ``use_username_as_clientid``: an account reaches only its
   own session, and a new connection ends the account's earlier one.
2. On every connect amqtt sends the new client the retained messages of every
   filter *any* client subscribed, bypassing the ACL; we send only those of the
   client's own subscriptions (already ACL-checked).
3. Messages queued for an offline session were delivered with the retain flag
   set; MQTT says retain=0 for messages that match an existing subscription.
4. A QoS 1 message sent and not acknowledged was forgotten when the
   connection dropped; it is kept and sent again on resume (MQTT-4.4.0-1).
5. A SUBSCRIBE arriving while a message is broadcast broke the broadcast
   ("dictionary changed size during iteration"): the subscriptions are iterated
   as a snapshot (:class:`_SnapshotSubscriptions`).
6. A persistent CONNECT resumed a clean session its account had just left
   (amqtt forgets those only a second later), so the resumed session was
   thrown away at the next disconnect with whatever was queued for it.

Still open (docs/broker.md): nothing survives the process.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any, Callable, Coroutine

from amqtt.adapters import StreamReaderAdapter, StreamWriterAdapter
from amqtt.broker import Broker
from amqtt.contexts import BrokerConfig
from amqtt.errors import AMQTTError, MQTTError, NoDataError
from amqtt.mqtt.connack import NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.constants import QOS_1
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.session import INCOMING, OutgoingApplicationMessage, Session

from edge_gateway.broker.access import AccessPolicy, topic_matches
from edge_gateway.broker.log_limit import LIMIT

log = logging.getLogger(__name__)
log.addFilter(LIMIT)  # a client that stops acknowledging could otherwise cause a line per message

# A callable the gateway gives the broker: ``take(topic, payload, qos, settle)`` runs on the broker's
# thread and must not block; ``settle()`` (from any thread) says the event is committed.
EventIntake = Callable[[str, bytes, int, Callable[[], None]], None]

WINDOW = 100  # events of one connection handed to the gateway and not yet committed
MAX_UNACKED = 1000  # messages being sent to one client or awaiting its PUBACK (Mosquitto's max_inflight)
MAX_QUEUED = 1000  # QoS 1 messages kept for one offline persistent session
MAX_QOS = 1  # what the stations and the gateway use; QoS 2 deliveries would bring back amqtt's 5 s limits
TAKEOVER_SECONDS = 5.0  # how long a new connection waits for the broker to let go of the account's old one


class _HeldReader(StreamReaderAdapter):
    """A connection's reader that can stop reading its socket: TCP back-pressure to the publisher."""

    def __init__(self, reader: asyncio.StreamReader, transport: asyncio.BaseTransport) -> None:
        super().__init__(reader)
        self._transport = transport
        self.held = False

    def hold(self) -> None:
        if not self.held:
            self.held = True
            self._transport.pause_reading()  # type: ignore[attr-defined]

    def release(self) -> None:
        if self.held:
            self.held = False
            self._transport.resume_reading()  # type: ignore[attr-defined]

    async def read(self, n: int = -1) -> bytes:
        data = await super().read(n)
        if self.held and self._transport.is_reading():  # type: ignore[attr-defined]
            self._transport.pause_reading()  # type: ignore[attr-defined]  # StreamReader resumed its own pause
        return data


def _settle(loop: asyncio.AbstractEventLoop, done: asyncio.Future[None]) -> None:
    """Called by the gateway (any thread) once the event is committed."""
    def resolve() -> None:
        if not done.done():
            done.set_result(None)
    try:
        loop.call_soon_threadsafe(resolve)
    except RuntimeError:
        pass  # the broker has stopped: the station sends the event again to the next one


class _SebiaoHandler(BrokerProtocolHandler):
    """One client connection: events handed to the gateway, sends that wait for their PUBACK."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.broker: SebiaoBroker | None = None  # set by the broker once the CONNECT is accepted
        self.served = asyncio.Event()  # the broker is done with this connection
        self._handing = 0  # events handed to the gateway and not yet committed
        self._unacked = 0  # messages being sent or awaiting their PUBACK (mqtt_publish)
        self._closing = False
        self._background: set[asyncio.Task[Any]] = set()

    # -- from the client -----------------------------------------------------------------

    async def _handle_qos0_message_flow(self, app_message) -> None:
        if app_message.direction == INCOMING:
            await self._hand_over(app_message)
        await super()._handle_qos0_message_flow(app_message)

    async def _handle_qos1_message_flow(self, app_message) -> None:
        if app_message.direction == INCOMING:
            await self._hand_over(app_message)  # the PUBACK (in amqtt's flow) only after the commit
            await super()._handle_qos1_message_flow(app_message)
        else:
            await self._send_qos1(app_message)

    async def _handle_qos2_message_flow(self, app_message) -> None:
        if app_message.direction == INCOMING:
            await self._hand_over(app_message)  # before the PUBREC, which ends the publisher's duty
        await super()._handle_qos2_message_flow(app_message)

    async def _hand_over(self, message) -> None:
        broker = self.broker
        if broker is None or self.session is None or not broker.claims(self.session, message.topic):
            return
        self._handing += 1
        if self._handing >= WINDOW and isinstance(self.reader, _HeldReader):
            self.reader.hold()
        try:
            await broker.hand_over(message.topic, bytes(message.data), message.qos or 0)
        finally:
            self._handing -= 1
            if self._handing < WINDOW and isinstance(self.reader, _HeldReader):
                self.reader.release()

    # -- to the client ---------------------------------------------------------------------

    async def mqtt_publish(self, topic: str, data: bytes | bytearray, qos: int | None, retain: bool,
                           ack_timeout: int | None = None) -> OutgoingApplicationMessage | None:
        """amqtt's broadcast and retained deliveries come here, each as a task of its own."""
        if self._unacked >= MAX_UNACKED:
            if self.broker is not None and self.session is not None:
                self.broker.drop(self.session, topic, f"{MAX_UNACKED} messages to it not yet acknowledged")
            return None
        self._unacked += 1
        try:
            return await super().mqtt_publish(topic, data, qos, retain)  # no ack_timeout: wait for the PUBACK
        finally:
            self._unacked -= 1

    def send_queued(self, topic: str, data: bytes | bytearray, qos: int) -> None:
        """A message queued while the session was offline: in flight from now on, sent in order."""
        if self.session is None:
            return
        message = OutgoingApplicationMessage(self.session.next_packet_id if qos else None, topic, qos, data, False)
        if qos:
            self.session.inflight_out[message.packet_id] = message  # sent again on resume if cancelled
        self._run(self._handle_message_flow(message))

    async def _send_qos1(self, app_message: OutgoingApplicationMessage) -> None:
        """Send and wait for the PUBACK as long as the connection lives (amqtt gave up after 5 s and
        discarded the message). Unacknowledged when the connection ends: kept for the resume."""
        session, pid = self.session, app_message.packet_id
        if session is None or pid is None:
            return
        session.inflight_out[pid] = app_message
        if self._closing or self._reader_stopped.is_set():
            return  # the connection is ending: sent again when the session resumes
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._puback_waiters[pid] = waiter  # before sending: the PUBACK may come back at once
        try:
            packet = app_message.build_publish_packet(dup=app_message.publish_packet is not None)
            await self._send_packet(packet)
            app_message.publish_packet = packet
            app_message.puback_packet = await waiter
        finally:
            if self._puback_waiters.get(pid) is waiter:
                del self._puback_waiters[pid]
        session.inflight_out.pop(pid, None)

    async def _retry_deliveries(self) -> None:
        """[MQTT-4.4.0-1] On resume, what was sent and not acknowledged goes again (DUP), oldest
        first, in the background and without amqtt's 10 s limit."""
        if self.session is None:
            return
        for message in [*self.session.inflight_in.values(), *self.session.inflight_out.values()]:
            self._run(self._handle_message_flow(message))

    def _run(self, flow: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(flow)
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("a delivery to %s failed: %r", self.session.client_id if self.session else "?",
                        task.exception())

    async def stop(self) -> None:
        self._closing = True
        for task in list(self._background):
            task.cancel()
        if isinstance(self.reader, _HeldReader):
            self.reader.release()
        await super().stop()


class _SnapshotSubscriptions(dict):
    """amqtt's ``Broker._subscriptions`` (filter -> [(session, qos)]), iterated as a
    snapshot: ``_run_broadcast`` walks ``items()`` and awaits the ACL plugin for
    each match (other tasks run), and the connect path walks the keys around
    awaits too, so a SUBSCRIBE adding a filter meanwhile raised "dictionary
    changed size during iteration" and the message was lost for every filter
    after that point. Iterating copies (of the lists too) makes each pass see
    the subscriptions as they were when it began."""

    def items(self):  # type: ignore[override]
        return [(k, list(v)) for k, v in dict.items(self)]

    def __iter__(self):
        return iter(list(dict.keys(self)))

    def keys(self):  # type: ignore[override]
        return list(dict.keys(self))


class SebiaoBroker(Broker):
    def __init__(self, policy: AccessPolicy, config: BrokerConfig, loop: asyncio.AbstractEventLoop,
                 events: str | None = None) -> None:
        super().__init__(config, loop=loop)
        self._policy = policy
        self._subscriptions = _SnapshotSubscriptions()
        self._events = events  # the topic filter of the events handed to the gateway; None: a plain broker
        self._intake: EventIntake | None = None
        self._intake_ready = asyncio.Event()
        self.dropped = 0  # messages dropped for clients that stopped acknowledging

    def attach(self, intake: EventIntake) -> None:
        """On the broker's loop: events wait (unacknowledged) until this is called."""
        self._intake = intake
        self._intake_ready.set()

    def claims(self, session: Session, topic: str) -> bool:
        return (self._events is not None and topic_matches(topic, self._events)
                and self._policy.may_publish(session.username, topic))

    async def hand_over(self, topic: str, payload: bytes, qos: int) -> None:
        if self._intake is None:
            await self._intake_ready.wait()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._intake(topic, payload, qos, partial(_settle, loop, done))
        await done

    def drop(self, session: Session, topic: str, why: str) -> None:
        self.dropped += 1
        log.warning("消息已丢弃 / dropped a message on %s for %s: %s (%d dropped so far)", topic,
                    session.client_id, why, self.dropped)

    def listening_port(self) -> int | None:
        for server in self._servers.values():
            for sock in getattr(server.instance, "sockets", None) or ():
                return sock.getsockname()[1]
        return None

    async def stream_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                               listener_name: str) -> None:
        await self._client_connected(listener_name, _HeldReader(reader, writer.transport),
                                     StreamWriterAdapter(writer))

    async def _handle_client_session(self, reader, writer, client_session, handler, server, listener_name) -> None:
        try:
            await super()._handle_client_session(reader, writer, client_session, handler, server, listener_name)
        finally:
            handler.served.set()

    async def _initialize_client_session(self, reader, writer, remote_address: str, remote_port: int):
        # Mirrors amqtt 0.12's Broker._initialize_client_session with the
        # account's check before any session bookkeeping (holes 1 and 6).
        try:
            handler, session = await _SebiaoHandler.init_from_connect(reader, writer, self.plugins_manager)
        except AMQTTError as exc:
            raise AMQTTError(exc) from exc
        except MQTTError as exc:
            await writer.close()
            raise MQTTError(exc) from exc
        except NoDataError as exc:
            raise AMQTTError(exc) from exc

        if not self._policy.authenticate(session.username, session.password):
            refusal = "no credentials" if not session.username else "bad user name or password"
            self.logger.warning("refused %s:%s (client %r, user %r): %s",
                                remote_address, remote_port, session.client_id, session.username, refusal)
            await ConnackPacket.build(0, NOT_AUTHORIZED).to_stream(writer)
            await writer.close()
            raise MQTTError(refusal)
        session.client_id = session.username  # the account's one session, whatever id it sent
        handler.broker = self

        existing = self._sessions.get(session.client_id)
        if existing is not None and existing[0].transitions.is_connected():
            await self._end_connection(existing[1])
        if session.clean_session or existing is None or existing[0].clean_session:
            await self._delete_session(session.client_id)
            session.parent = 0
        else:
            resumed = existing[0]
            # the new connection brings its own will, keep-alive and credentials
            for name in ("will_flag", "will_message", "will_topic", "will_qos", "will_retain",
                         "keep_alive", "username", "password"):
                setattr(resumed, name, getattr(session, name))
            session = resumed
            session.parent = 1
        delay = self.config.get("timeout-disconnect-delay", 0)
        if session.keep_alive > 0 and isinstance(delay, int):
            session.keep_alive += delay
        return handler, session

    async def _end_connection(self, handler: BrokerProtocolHandler) -> None:
        """The account connects again: its earlier connection ends (as in Mosquitto), and the new one
        waits until the broker has finished with it, so that nothing of the old one touches the session
        the new one takes."""
        await handler.handle_connection_closed()
        await handler.stop()
        if isinstance(handler, _SebiaoHandler):
            try:
                await asyncio.wait_for(handler.served.wait(), TAKEOVER_SECONDS)
            except asyncio.TimeoutError:
                self.logger.warning("the earlier connection of %r did not end within %g s",
                                    handler.session.client_id if handler.session else "?", TAKEOVER_SECONDS)

    async def add_subscription(self, subscription: tuple[str, int], session: Session) -> int:
        topic_filter, qos = subscription
        return await super().add_subscription((topic_filter, min(qos, MAX_QOS)), session)

    async def _broadcast_message(self, session, topic, data, force_qos: int | None = None) -> None:
        await super()._broadcast_message(session, topic, data, None if force_qos is None else min(force_qos, MAX_QOS))

    async def _retain_broadcast_message(self, broadcast: dict[str, Any], qos: int, target_session: Session) -> None:
        if target_session.retained_messages.qsize() >= MAX_QUEUED:
            self.drop(target_session, broadcast["topic"], f"{MAX_QUEUED} messages already queued while offline")
            return
        await super()._retain_broadcast_message(broadcast, qos, target_session)

    async def _publish_retained_messages_for_subscription(self, subscription: tuple[str, int],
                                                          session: Session) -> None:
        # Hole 2: only filters this session holds; each passed the subscribe ACL.
        holders = self._subscriptions.get(subscription[0], ())
        if any(holder.client_id == session.client_id for holder, _ in holders):
            await super()._publish_retained_messages_for_subscription(subscription, session)

    async def _publish_session_retained_messages(self, session: Session) -> None:
        # Hole 3: queued messages go out in order with retain=0, after the resent ones.
        handler = self._get_handler(session)
        if not isinstance(handler, _SebiaoHandler):
            return
        while not session.retained_messages.empty():
            message = session.retained_messages.get_nowait()
            handler.send_queued(message.topic, message.data, min(message.qos or 0, QOS_1))
