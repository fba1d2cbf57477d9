"""amqtt plugins that make the embedded broker enforce sebiao's access rules.

amqtt loads plugins by dotted path and builds each one's ``Config`` dataclass
from the broker config; ours carry an :class:`~.broker_access.AccessPolicy`
(the same passwords and ACL as the Mosquitto files). amqtt's own
``FileAuthPlugin`` cannot read mosquitto's ``$7$`` hashes, hence these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

from edge_gateway.broker.access import AccessPolicy

AUTH_PLUGIN = f"{__name__}.SebiaoAuthPlugin"
TOPIC_PLUGIN = f"{__name__}.SebiaoTopicPlugin"


def plugins_config(policy: AccessPolicy) -> dict[str, dict[str, Any]]:
    """The ``plugins`` section of an amqtt ``BrokerConfig``: only ours, so no anonymous access."""
    return {AUTH_PLUGIN: {"policy": policy}, TOPIC_PLUGIN: {"policy": policy}}


class SebiaoAuthPlugin(BaseAuthPlugin):
    @dataclass
    class Config:
        policy: Any = None  # AccessPolicy; typed Any because amqtt type-checks plugin configs

    async def authenticate(self, *, session: Session) -> bool:
        ok = self.config.policy.authenticate(session.username, session.password)
        if not ok:
            self.context.logger.warning("refused client %r: user %r, %s", session.client_id, session.username,
                                        "no credentials" if not session.username else "bad user name or password")
        return ok


class SebiaoTopicPlugin(BaseTopicPlugin):
    @dataclass
    class Config:
        policy: Any = None

    async def topic_filtering(self, *, session: Session | None = None, topic: str | None = None,
                              action: Action | None = None) -> bool:
        if session is None or not topic:
            return False
        policy: AccessPolicy = self.config.policy
        user = session.username
        if action == Action.PUBLISH:
            allowed = policy.may_publish(user, topic)
        elif action == Action.SUBSCRIBE:
            allowed = policy.may_subscribe(user, topic)
        elif action == Action.RECEIVE:
            allowed = policy.may_receive(user, topic)
        else:
            allowed = False
        if not allowed and action != Action.RECEIVE:  # RECEIVE refusals are routine filtering
            self.context.logger.warning("denied %s of %r to user %r (client %r)",
                                        action, topic, user, session.client_id)
        return allowed
