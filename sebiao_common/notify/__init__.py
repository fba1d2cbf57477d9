"""Alarm messages to WeCom (企业微信) and DingTalk (钉钉) group robots or a generic webhook, as the gateway's
notify sink and the cloud's district channels both send them.

``channels`` a channel's settings and their strict parsing from a config node (kinds, robot URLs, secrets,
types, transitions, quiet hours, time zone), ``message`` a notice's title and markdown for the robots
(Chinese first; severity by word and shape), ``send`` each kind's request (DingTalk signing, the webhook's
HMAC), the HTTP post and what its answer means.

It imports the standard library, third-party libraries and ``sebiao_common`` only.
"""
