"""Who may publish and read which topics: one rule set for both brokers.

Mosquitto gets it as an ACL file (:func:`render_acl`); the embedded amqtt
broker enforces the same rules through :class:`AccessPolicy`. A station may
write only its own ``event``, ``status`` and ``cycle`` (a temperature probe's
disinfection or hot-wash cycle) and read only its own ``cmd``, so a
compromised or misconfigured reader cannot speak for another station; the
gateway may read and write everything under its workshop, the monitor only
read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from edge_gateway.broker.credentials import Credentials
from edge_gateway.broker.passwd import verify_password
from edge_gateway.model.protocol import ROOT, cmd_topic, cycle_topic, event_topic, status_topic
from edge_gateway.model.workshop import WorkshopConfig

READ, WRITE, READWRITE = "read", "write", "readwrite"


@dataclass(frozen=True, kw_only=True)
class AclRule:
    access: str  # read | write | readwrite
    pattern: str  # an MQTT topic filter; '+' and '#' allowed

    def may_write(self, topic: str) -> bool:
        return self.access in (WRITE, READWRITE) and topic_matches(topic, self.pattern)

    def may_read(self, topic: str) -> bool:
        return self.access in (READ, READWRITE) and topic_matches(topic, self.pattern)

    def may_subscribe(self, topic_filter: str) -> bool:
        return self.access in (READ, READWRITE) and filter_covered(topic_filter, self.pattern)


@dataclass(frozen=True, kw_only=True)
class UserAcl:
    username: str
    rules: tuple[AclRule, ...]
    comment: str = ""


def workshop_acl(config: WorkshopConfig, creds: Credentials) -> tuple[UserAcl, ...]:
    ws = config.workshop.id
    users = [UserAcl(username=creds.gateway.username, rules=(AclRule(access=READWRITE, pattern=f"{ROOT}/{ws}/#"),),
                     comment="the gateway: everything of this workshop")]
    if creds.monitor is not None:
        users.append(UserAcl(username=creds.monitor.username,
                             rules=(AclRule(access=READ, pattern=f"{ROOT}/{ws}/#"),),
                             comment="the monitor: reads everything of this workshop, writes nothing"))
    for station in config.stations:
        label = f"{station.kind.value}, {station.zone}" + (f", {station.name}" if station.name else "")
        users.append(UserAcl(username=creds.station(station.id).username, rules=(
            AclRule(access=WRITE, pattern=event_topic(ws, station.id)),
            AclRule(access=WRITE, pattern=status_topic(ws, station.id)),
            # any station may carry a probe (a cabinet, a hot-wash sink); its config says so, not the
            # workshop's. Mosquitto acknowledges a refused QoS 1 publish under MQTT 3.1.1 and drops it,
            # so a cycle the ACL did not allow would be lost without a trace;
            # the gateway dead-letters (and counts) one from a station its config gives no probe.
            AclRule(access=WRITE, pattern=cycle_topic(ws, station.id)),
            AclRule(access=READ, pattern=cmd_topic(ws, station.id)),
        ), comment=f"station {station.id} ({label})"))
    return tuple(users)


def render_acl(users: Iterable[UserAcl], header: str = "") -> str:
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines.append("# No topic lines before the first 'user': anonymous clients get nothing.")
    for user in users:
        lines += ["", f"# {user.comment}"] if user.comment else [""]
        lines.append(f"user {user.username}")
        lines += [f"topic {rule.access} {rule.pattern}" for rule in user.rules]
    return "\n".join(lines) + "\n"


def topic_matches(topic: str, pattern: str) -> bool:
    """MQTT matching of a concrete topic against a filter (``a/#`` also matches ``a``)."""
    if topic.startswith("$") and pattern[:1] in ("+", "#"):
        return False  # [MQTT-4.7.2-1]
    t_levels, p_levels = topic.split("/"), pattern.split("/")
    for i, level in enumerate(p_levels):
        if level == "#":
            return True
        if i >= len(t_levels) or (level != "+" and level != t_levels[i]):
            return False
    return len(t_levels) == len(p_levels)


def filter_covered(topic_filter: str, pattern: str) -> bool:
    """True when every topic ``topic_filter`` can match is also matched by ``pattern``.

    A station subscribing ``sebiao/ws/#`` is refused, even though its own cmd
    topic is inside: granting it would rely on per-message checks alone.
    """
    f_levels, p_levels = topic_filter.split("/"), pattern.split("/")
    for i, level in enumerate(p_levels):
        if level == "#":
            return True
        if i >= len(f_levels):
            return False
        if level == "+":
            if f_levels[i] == "#":
                return False
            continue
        if f_levels[i] != level:  # also refuses '+' or '#' against a literal level
            return False
    return len(f_levels) == len(p_levels)


class AccessPolicy:
    """Authentication and authorisation for the embedded broker (no I/O, no amqtt)."""

    def __init__(self, hashes: dict[str, str], users: Iterable[UserAcl]) -> None:
        self._hashes = dict(hashes)  # username -> "$7$..." as in the password file
        self._rules = {user.username: user.rules for user in users}

    def authenticate(self, username: str | None, password: str | bytes | None) -> bool:
        if not username or password is None:
            return False  # anonymous, or a user name without a password
        hashed = self._hashes.get(username)
        return hashed is not None and verify_password(password, hashed)

    def may_publish(self, username: str | None, topic: str) -> bool:
        return any(rule.may_write(topic) for rule in self._rules.get(username or "", ()))

    def may_receive(self, username: str | None, topic: str) -> bool:
        return any(rule.may_read(topic) for rule in self._rules.get(username or "", ()))

    def may_subscribe(self, username: str | None, topic_filter: str) -> bool:
        return any(rule.may_subscribe(topic_filter) for rule in self._rules.get(username or "", ()))
