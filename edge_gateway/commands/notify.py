"""``sebiao notify test --config FILE [--channel NAME]``: send a test message to each alarm channel."""

from __future__ import annotations

import argparse

from sebiao_common.clock import now_ms


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="notify_command", metavar="ACTION", required=True)
    test = sub.add_parser("test", help="send a test message to each channel / 向每个推送通道发送测试消息",
                          description="Send a test message to each channel of the config's notify: section "
                                      "(WeCom, DingTalk, webhook) and print each answer.")
    test.add_argument("--config", required=True, metavar="FILE", help="workshop YAML with a notify: section")
    test.add_argument("--channel", metavar="NAME", help="only this channel")


def run(args: argparse.Namespace) -> int:
    from edge_gateway.config import load_config
    from edge_gateway.sinks.notify.config import notify_settings
    from edge_gateway.sinks.notify.probe import send_tests
    from sebiao_common.errors import ConfigError
    from sebiao_common.http_answers import OK

    config = load_config(args.config)
    settings = notify_settings(config)
    if settings is None:
        raise ConfigError(config.file, "notify", "配置中没有 notify: 段 / the config has no notify: section")
    results = send_tests(config, settings, clock=now_ms, only=args.channel)
    if not results:
        raise ConfigError(config.file, "notify.channels", f"没有名为 {args.channel!r} 的通道 / no channel named "
                                                          f"{args.channel!r}")
    for name, result in results:
        verdict = "成功 / ok" if result.outcome == OK else f"失败 / failed ({result.outcome}): {result.reason}"
        print(f"{name}: {verdict}")
    return 0 if all(r.outcome == OK for _, r in results) else 1
