"""The notify sink: alarms to the owner's phone through WeCom (企业微信) or DingTalk (钉钉) group robots or a
generic webhook. ``config`` the ``notify:`` section, ``notice`` the message of one alarm transition (the
webhook's JSON; its markdown for the robots, each kind's request and how its answer is read live in
``sebiao_common.notify``, shared with the cloud), ``outbox`` the ``notify_outbox`` table, ``projection`` its rows of the engine's alarm facts, ``send`` the
worker (quiet hours, pacing, back-off, the ``notify_failed`` alarm) and ``sebiao notify test``'s sending.
"""
