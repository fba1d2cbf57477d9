"""Wiring of one workshop gateway: store, engine, pipeline, MQTT link, HTTP API.

A sink's workers and projections (InfluxDB, the cloud push and grade, notify) are imported only when
the config has their section: their HTTP clients and formats cost memory a workshop without them
should not pay (docs/performance.md, "Memory"; ``tests/gateway/test_gateway_imports.py``).

Threads: paho's network thread receives; the pipeline thread commits, acks and
publishes; the caller's thread serves HTTP (uvicorn) and handles signals.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from prometheus_client import Gauge
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from edge_gateway.config import enrol
from edge_gateway.core.engine import Engine
from edge_gateway.core.metrics import CloudMetrics, Metrics
from edge_gateway.core.pipeline import Inbound, Pipeline
from edge_gateway.core.projection import Projection
from edge_gateway.core.sink_status import RunningSink, SinkStatus
from edge_gateway.intake.guard import StationGuard
from edge_gateway.intake.mqtt_link import MqttLink
from edge_gateway.intake.rates import StationRates
from edge_gateway.intake.settings import intake_settings
from edge_gateway.model.enrolment import Request
from edge_gateway.model.protocol import events_filter, subscriptions
from edge_gateway.model.rules import Clear, Raise
from edge_gateway.model.setup import setup_hash, setup_json, setup_of
from edge_gateway.model.workshop import BrokerSettings, Tool, WorkshopConfig
from edge_gateway.sinks.cloud.config import cloud_settings
from edge_gateway.sinks.influx.config import influx_settings
from edge_gateway.sinks.notify.config import notify_settings
from edge_gateway.store import setup_versions
from edge_gateway.store.checkpoint import Checkpointer
from edge_gateway.store.data_dir import open_data_dir
from edge_gateway.store.signing_key import key_path, load_or_create_apart
from edge_gateway.store.writer import DeadLetterBound, Store
from edge_gateway.timeserver.own_clock import read_own_clock
from edge_gateway.timeserver.server import TimeMetrics, TimeServer, clock_health
from edge_gateway.timeserver.settings import parse_time_server
from edge_gateway.web.api import ApiContext, build_app
from edge_gateway.web.hosts import HostCheck, allowed_hosts
from edge_gateway.web.server import HttpRefusals, bound_port, http_server, listen
from edge_gateway.web.settings import display_settings
from sebiao_common import strict_json
from sebiao_common.clock import Clock, now_ms
from sebiao_common.errors import ConfigError
from sebiao_common.influx.settings import InfluxSettings
from sebiao_common.net import is_loopback

if TYPE_CHECKING:
    import uvicorn
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from edge_gateway.broker.embedded import EmbeddedBroker
    from edge_gateway.fleet.service import Fleet
    from edge_gateway.fleet.settings import FleetSettings

log = logging.getLogger(__name__)

EMBEDDED_HOST, EMBEDDED_PORT = "127.0.0.1", 1883
SWITCH_INTERVAL = float(os.environ.get("SEBIAO_SWITCH_INTERVAL", "0.0005"))
LISTENING_FILE = "listening.json"  # in the data dir: the ports bound (port 0 picks a free one)


@dataclass(frozen=True, kw_only=True)
class GatewayOptions:
    data_dir: Path = Path("sebiao-data")
    broker_url: str | None = None  # overrides the config's broker.url
    http_host: str = "127.0.0.1"
    http_port: int = 8080  # 0: a free port, reported in DATA-DIR/listening.json
    embedded_host: str = EMBEDDED_HOST
    embedded_port: int = EMBEDDED_PORT
    extra_routes: list[BaseRoute] = field(default_factory=list)
    clock: Clock = now_ms  # ms since the epoch; the demo plays a compressed day on its own
    time_server: bool = True  # answer SNTP as time_server says (the demo's stations keep the host's clock)


class Gateway:
    def __init__(self, config: WorkshopConfig, options: GatewayOptions) -> None:
        self.config = config
        self.options = options
        self.open_reads = is_loopback(options.http_host)
        if not self.open_reads and not config.http.token:
            raise ConfigError(config.file, "http.token",
                              f"the HTTP API is bound to {options.http_host}, beyond loopback: "
                              "set a token (at least 16 characters)")
        self.display = display_settings(config)  # a bad display section stops start-up before anything runs
        self.intake = intake_settings(config)  # a station's rate, the dead letters' bound
        self.time_settings = parse_time_server(config.section("time_server"), config.file)  # the SNTP server
        self.time_server: TimeServer | None = None
        self.cloud = cloud_settings(config)  # the cloud push (docs/cloud-ingest.md), when configured
        if (self.cloud is not None and self.cloud.public_key is not None
                and self.display.grade_max_age_hours * 3600 < 2 * self.cloud.grade_poll_seconds):
            raise ConfigError(config.file, "display.grade_max_age_hours",  # the grade would never be shown
                              f"{self.display.grade_max_age_hours} h is less than two grade fetches "
                              f"(cloud.grade_poll_seconds: {self.cloud.grade_poll_seconds:g} s): "
                              "the regulator's grade would go unconfirmed between them")
        self.notify = notify_settings(config)  # alarms to the owner's phone (docs/notify.md), when configured
        self.fleet_settings = _fleet_settings(config)  # firmware updates over Wi-Fi (docs/fleet.md), when configured
        self.fleet: Fleet | None = None
        self.metrics = Metrics()
        self.refusals = HttpRefusals(self.metrics.registry)  # what the web server turns away, in /metrics
        self.listener: socket.socket | None = None  # the HTTP API's socket, bound at start
        self.embedded: EmbeddedBroker | None = None
        self.sinks: dict[str, RunningSink] = {}  # the started sink workers, by their name in /healthz
        self.started = False  # from the pipeline on, stop() has something to stop

    def start(self) -> None:
        # The MQTT thread releases the GIL on every socket call and must win it
        # back from the busy pipeline thread; the default 5 ms switch interval
        # would stall it that long each time.
        sys.setswitchinterval(SWITCH_INTERVAL)
        data = self.options.data_dir
        self._lock_file = open_data_dir(data)  # private, with room, locked: or one line saying why not
        self.listener = listen(self.options.http_host, self.options.http_port)  # a taken port: one line, at once
        self.store = Store(data / "gateway.sqlite3", DeadLetterBound(
            max_rows=self.intake.dead_letters_max_rows, max_bytes=self.intake.dead_letters_max_bytes))
        # the key every cloud batch is signed with; after the port and the store, whose refusals come first
        signing_key = None
        if self.cloud is not None:
            from edge_gateway.store.signing_key import load_or_create
            from sebiao_common.batch_signature import public_text

            signing_key, made = load_or_create(data)
            public = public_text(signing_key.public_key()) if made else ""
        else:  # made and checked all the same, outside this process: see load_or_create_apart
            public, made = load_or_create_apart(data)
        if made:
            log.info("made the gateway's signing key %s; its public key (register it with the cloud): %s",
                     key_path(data), public)
        self.checkpointer = Checkpointer(self.store.path)
        self.checkpointer.start()
        influx = influx_settings(self.config)  # the InfluxDB outbox (docs/influxdb.md), when configured
        clock = self.options.clock
        if self.notify is not None:
            from edge_gateway.sinks.notify import outbox as notify_outbox

            notify_outbox.create(self.store.conn)
        self.setup_version = self._record_setup(clock())
        self.engine = Engine(self.config, self.store, clock(), self._projections(influx) + self._fleet(),
                             setup_version=self.setup_version)
        settings = self._broker_settings()
        ws = self.config.workshop.id
        topics = subscriptions(ws)
        if self.embedded is not None:  # the embedded broker hands the events over in-process (_take_event)
            topics = tuple(t for t in topics if t != events_filter(ws))
        stations = tuple(s.id for s in self.config.stations)
        guard = StationGuard(StationRates(self.intake.station_rate, self.intake.station_burst, stations),
                             topics, stations, self.metrics, self._gateway_alarm, clock=clock,
                             pause=self.intake.flood_pause_seconds)
        self.link = MqttLink(settings, f"sebiao-gateway-{ws}", topics, self._deliver, self.metrics,
                             clock=clock, guard=guard, away_seconds=self._away_seconds(clock()))
        self.pipeline = Pipeline(self.engine, self.link, self.metrics, ws, clock=clock)
        if self.fleet is not None:
            self.fleet.attach(self.pipeline, self.http_port)
        if self.embedded is not None:
            self.embedded.attach(self._take_event)
        self.started = True
        self._start_sinks(influx, signing_key)
        self.pipeline.start()
        self.link.start()
        self._start_time_server()
        self._report_ports(settings)
        # Everything made so far lives as long as the process: keep it out of the
        # collector's full passes, which would otherwise stall the pipeline for
        # tens of milliseconds now and then.
        gc.freeze()
        log.info("gateway for %s started; broker %s; data in %s", ws, settings.url, data)
        if not self.config.disinfection_monitored:
            # Seed 六(三) asks for disinfection after every use: say plainly that nothing here proves it.
            log.warning("disinfection is not monitored: no disinfect station and no sink with a probe in %s "
                        "(消毒未监测：没有带温度探头的消毒设备或清洗池)", self.config.file)

    def _start_sinks(self, influx: InfluxSettings | None, signing_key: Ed25519PrivateKey | None) -> None:
        """The workers of the configured sinks, each imported only when its section is there."""
        clock, ws, registry = self.options.clock, self.config.workshop.id, self.metrics.registry
        if influx is not None:
            from edge_gateway.sinks.influx.drain import start_drainer

            self.sinks["outbox"] = start_drainer(influx, self.store, self.pipeline, registry, clock=clock)
        if self.cloud is not None:
            from edge_gateway.sinks.cloud.push import start_pusher

            self.sinks["cloud"] = start_pusher(self.cloud, self.store, self.pipeline, ws, CloudMetrics(registry),
                                               clock=clock, key=signing_key)  # made above with a cloud
        if self.notify is not None:
            from edge_gateway.sinks.notify.send import start_notifier

            self.sinks["notify"] = start_notifier(self.notify, self.store, self.pipeline, registry, clock=clock)
        if self.cloud is not None and self.cloud.public_key is not None:
            from edge_gateway.sinks.cloud.grade import start_grade_fetcher

            # the regulator's grade, as the cloud signed it (cloud.public_key)
            self.sinks["grade"] = start_grade_fetcher(self.cloud, self.pipeline, ws, registry)
        self.sinks = {name: sink for name, sink in self.sinks.items() if sink is not None}

    def _start_time_server(self) -> None:
        """The workshop's time source (docs/config.md, time_server); a port it cannot bind is reported, not fatal:
        the stations' events still count at the gateway's receive time."""
        if self.time_settings.enabled and self.options.time_server:
            self.time_server = TimeServer(self.time_settings, wall_ns=time.time_ns,
                                          monotonic_ms=lambda: time.monotonic_ns() // 1_000_000,
                                          own_clock=read_own_clock)
            self.time_server.start()
            stance, own = self.time_server.stance(), read_own_clock()
            log.info("gateway clock %s (%s); SNTP answers at stratum %d%s", "synchronised" if own.synchronised
                     else "NOT synchronised", own.source, stance.stratum,
                     "" if stance.usable else ": stations will not take this time (网关时钟未同步，读卡站不会采用；"
                     "无互联网时请设置 time_server.local_stratum)")
        self.metrics.registry.register(TimeMetrics(self.time_server, read_own_clock))

    def clock_health(self) -> dict[str, object]:
        return clock_health(self.time_server, read_own_clock())

    def _record_setup(self, now: int) -> int:
        """The config's setup as a version in the store (a new one when it changed), and every version not yet
        sent queued for the cloud when one is configured (docs/cloud-ingest.md, "The setup as evidence")."""
        text = setup_json(setup_of(self.config))
        with self.store.transaction():
            version, new = setup_versions.record(self.store.conn, setup=text, digest=setup_hash(text), now=now)
            if self.cloud is not None:
                from edge_gateway.sinks.cloud.setups import queue_setups

                queue_setups(self.store)
        if new:
            log.info("workshop setup version %d (sha256 %s)", version.version, version.hash)
        return version.version

    def _projections(self, influx: InfluxSettings | None) -> tuple[Projection, ...]:
        """Each configured sink's view of the engine's facts (its outbox rows)."""
        projections: list[Projection] = []
        if influx is not None:
            from edge_gateway.sinks.influx.lines import InfluxLines
            from edge_gateway.sinks.influx.projection import InfluxProjection

            projections.append(InfluxProjection(lines=InfluxLines(self.config), store=self.store,
                                                every_ms=influx.summary_every_seconds * 1000))
        if self.cloud is not None:
            from edge_gateway.sinks.cloud.items import CloudItems
            from edge_gateway.sinks.cloud.projection import CloudProjection

            projections.append(CloudProjection(items=CloudItems(self.config.workshop.id), store=self.store))
        if self.notify is not None:
            from edge_gateway.sinks.notify.notice import Notices
            from edge_gateway.sinks.notify.projection import NotifyProjection

            notices = Notices(self.config, self.notify.console_url, self.notify.timezone)
            projections.append(NotifyProjection(settings=self.notify, notices=notices, store=self.store))
        return tuple(projections)

    def _fleet(self) -> tuple[Projection, ...]:
        """The update job (docs/fleet.md) follows the stations' statuses as a projection, when configured."""
        if self.fleet_settings is None:
            return ()
        from edge_gateway.fleet.service import Fleet

        self.fleet = Fleet(settings=self.fleet_settings, store=self.store, data_dir=self.options.data_dir,
                           stations=tuple(s.id for s in self.config.stations), clock=self.options.clock)
        if self.open_reads and self.fleet_settings.port is None:
            log.warning("fleet: the HTTP server is bound to %s, which the stations cannot reach: updates will fail "
                        "(bind it to the workshop network, e.g. --http 0.0.0.0:8080, or set fleet.port/fleet.host; "
                        "读卡站无法从本机回环地址下载固件)", self.options.http_host)
        return (self.fleet,)

    def _deliver(self, message: Inbound) -> None:
        self.pipeline.submit(message)

    def _take_event(self, topic: str, payload: bytes, qos: int, settle: Callable[[], None]) -> None:
        """An event from the embedded broker's thread: the station's PUBACK waits for ``settle``,
        which the pipeline calls after the commit (docs/broker.md)."""
        self.pipeline.submit(Inbound(topic=topic, payload=payload, mid=0, qos=qos, received_at=self.options.clock(),
                                     settle=settle))

    def _gateway_alarm(self, decision: Raise | Clear) -> None:
        """A gateway alarm raised or cleared outside the pipeline thread (the intake's ``station_flood``)."""
        self.pipeline.call(lambda engine, now, out: engine.gateway_alarm(decision, now, out))

    def _away_seconds(self, now: int) -> float:
        """How long this gateway was away, as far as its store knows: the broker may hold that much traffic."""
        last = self.store.newest_received_at()
        return max(0.0, (now - last) / 1000) if last else float("inf")

    @property
    def http_port(self) -> int:
        """The HTTP API's port (the one the system chose for port 0)."""
        return bound_port(self.listener) if self.listener is not None else self.options.http_port

    def _report_ports(self, broker: BrokerSettings) -> None:
        """``listening.json`` in the data dir: the pid and the ports bound, for scripts and tests."""
        body = {"pid": os.getpid(), "http": {"host": self.options.http_host, "port": self.http_port},
                "mqtt": ({"host": self.embedded.host, "port": self.embedded.port} if self.embedded is not None
                         else {"url": broker.url}),
                "sntp": (self.time_server.listening if self.time_server is not None else None)}
        path = self.options.data_dir / LISTENING_FILE
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(strict_json.dumps(body) + "\n", "utf-8")
            os.replace(tmp, path)
        except OSError as exc:  # only a report: the gateway runs on without it
            log.warning("%s: cannot write the ports bound: %s", path, exc.strerror or exc)

    def _broker_settings(self) -> BrokerSettings:
        configured = self.config.broker
        if self.options.broker_url:
            return BrokerSettings.parse(self.options.broker_url,
                                        configured.username if configured else None,
                                        configured.password if configured else None)
        if configured is not None:
            return configured
        from edge_gateway.broker.embedded import start_embedded

        self.embedded, settings = start_embedded(self.config, self.options.data_dir / "broker",
                                                 self.options.embedded_host, self.options.embedded_port)
        embedded = self.embedded
        Gauge("sebiao_broker_dropped_messages", "Messages the embedded broker dropped for clients that stopped "
              "acknowledging (never an event to the gateway)", registry=self.metrics.registry
              ).set_function(lambda: embedded.dropped)
        return settings

    def api_context(self) -> ApiContext:
        return ApiContext(db_path=self.store.path, workshop=self.config.workshop.id, pipeline=self.pipeline,
                          metrics=self.metrics, token=self.config.http.token, open_reads=self.open_reads,
                          broker_connected=self.link.connected.is_set, config=self.config,
                          workers=self._sink_workers, clock_health=self.clock_health)

    def enrol_tools(self, requests: list[Request]) -> list[Tool]:
        """New tags into the config file as ``sebiao enroll`` writes them (locked, atomic, the previous kept);
        this gateway runs on its config until it starts again on the new one (``sebiao gateway --watch-config``)."""
        return enrol(self.config.file, requests)

    def _sink_workers(self) -> dict[str, SinkStatus]:
        """The workers shipping the outbox onwards (InfluxDB, the cloud), for /healthz."""
        return dict(self.sinks)

    def build_app(self) -> ASGIApp:
        """The ASGI app: the HTTP API, the live display and the console (docs/display.md), answering
        only to the gateway's own host names (``web/hosts.py``)."""
        from edge_gateway.web import attach_web

        extra = list(self.options.extra_routes)
        if self.fleet is not None:
            from edge_gateway.fleet import http as fleet_http

            extra += fleet_http.routes(self.fleet)
        app = attach_web(self, build_app(self.api_context(), extra))
        hosts = allowed_hosts(listen_host=self.options.http_host, public_url=self.display.public_url,
                              extra=self.config.http.allowed_hosts)
        if self.fleet is not None:  # the stations' downloads: a capability URL, before the Host check
            return fleet_http.Downloads(HostCheck(app, hosts, self.refusals), self.fleet)
        return HostCheck(app, hosts, self.refusals)

    def http_server(self) -> "uvicorn.Server":
        """The uvicorn server of ``build_app`` on the bound socket (``server.run(sockets=[gateway.listener])``)."""
        assert self.listener is not None, "start() binds the socket"
        return http_server(self.build_app(), self.listener, self.refusals)

    def serve(self, server: "uvicorn.Server | None" = None) -> None:
        """Serve HTTP on the calling thread (``server``, default ``http_server()``) until SIGINT/SIGTERM or
        until the server is told to exit, then stop everything.

        uvicorn shuts down on SIGTERM and then raises the signal again under the handler it found: under
        the default one the process would die right there, before ``stop()`` closes the broker session and
        the store. So that handler is ours: it ends ``run``, ``stop()`` runs, and only then is the signal
        raised again, so the process still ends by SIGTERM (systemd's stop, docs/deploy.md).
        """
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _terminated) if main else None
        terminated = False
        try:
            (server or self.http_server()).run(sockets=[self.listener])
        except _Terminated:
            terminated = True
        finally:
            self.stop()
        if main:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
        if terminated:
            signal.raise_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.close()
        self.link.stop()
        for sink in self.sinks.values():  # the InfluxDB drain, then the cloud push
            sink.stop()
        self.pipeline.stop()
        if self.time_server is not None:
            self.time_server.stop()
        self.checkpointer.stop()
        self.store.close()
        if self.embedded is not None:
            self.embedded.stop()


def _fleet_settings(config: WorkshopConfig) -> FleetSettings | None:
    if config.section("fleet") is None:
        return None
    from edge_gateway.fleet.settings import fleet_settings

    return fleet_settings(config.section("fleet"), config.file)


class _Terminated(Exception):
    """SIGTERM arrived: ends ``Gateway.serve``'s server so that ``stop()`` runs before the process ends."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated
