"""``sebiao dashboards build|push``: Grafana dashboards as code (edge_gateway/dashboards)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dashboards_command", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="write the dashboards' JSON and the provisioning YAML / 生成看板文件",
                           description="Write json/*.json (one file per dashboard) and provisioning/ "
                                       "(datasource and dashboard provider) under DIR.")
    build.add_argument("--out", required=True, metavar="DIR", help="output directory (created if missing)")
    push = sub.add_parser("push", help="upload the dashboards to a Grafana / 上传看板到 Grafana",
                          description="Upload every dashboard into a folder of a running Grafana "
                                      "(HTTP API, service account token); optionally create or update "
                                      "the InfluxDB datasource they use.")
    push.add_argument("--url", required=True, metavar="URL", help="Grafana's base URL, e.g. http://grafana:3000")
    push.add_argument("--token", required=True, metavar="TOKEN", help="a service account token (Editor role)")
    push.add_argument("--folder", default=None, metavar="NAME", help="folder title (default 色标 sebiao)")
    push.add_argument("--influx-url", metavar="URL", help="also create/update the datasource: InfluxDB's URL")
    push.add_argument("--influx-database", default="sebiao", metavar="DB", help="its database (default sebiao)")
    push.add_argument("--influx-user", metavar="USER", help="its user (optional)")
    push.add_argument("--influx-password", metavar="PASSWORD", help="its password or token (optional)")


def run(args: argparse.Namespace) -> int:
    if args.dashboards_command == "build":
        from dashboards.generator.render import write

        for path in write(Path(args.out)):
            print(f"wrote {path}")
        return 0
    from dashboards.generator.push import DEFAULT_FOLDER, InfluxSource, push

    influx = (InfluxSource(args.influx_url, args.influx_database, args.influx_user, args.influx_password)
              if args.influx_url else None)
    report = push(args.url, args.token, args.folder or DEFAULT_FOLDER, influx)
    state = "created" if report.folder_created else "existing"
    print(f"grafana    {args.url}: version {report.grafana_version}")
    print(f"folder     {report.folder} ({state})")
    print(f"datasource sebiao-influxdb: {report.datasource}")
    if report.datasource == "missing":
        print("           the dashboards need it: provision provisioning/datasources/sebiao.yaml "
              "or push again with --influx-url")
    for url in report.dashboards:
        print(f"dashboard  {url}")
    return 0
