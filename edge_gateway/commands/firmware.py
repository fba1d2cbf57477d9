"""``sebiao firmware build|flash|deploy|provision|install``: put the station firmware on devices
(see docs/device-tooling.md); ``release-key|release``: sign a release for updates over Wi-Fi (docs/fleet.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sebiao_common.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="compile the firmware (mpy-cross, xtensawin) into a bundle / 编译固件")
    build.add_argument("--out", default="sebiao-firmware", metavar="DIR",
                       help="bundle directory; DIR.zip is written beside it (default sebiao-firmware)")

    flash = sub.add_parser("flash", help="erase the ESP32 and write a MicroPython image (esptool) / 烧录")
    flash.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0")
    flash.add_argument("--image", required=True, metavar="FILE", help="the MicroPython .bin for the ESP32")
    flash.add_argument("--address", default="0x1000", help="flash offset (0x1000 for ESP32, 0x0 for S3/C3)")
    flash.add_argument("--baud", type=int, default=460800)

    deploy = sub.add_parser("deploy", help="copy the bundle and a station config (mpremote) / 部署到读卡站")
    deploy.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0")
    deploy.add_argument("--bundle", default="sebiao-firmware", metavar="DIR",
                        help="from `sebiao firmware build` (default sebiao-firmware)")
    deploy.add_argument("--config", metavar="FILE", help="the station's config.json (from provision)")
    deploy.add_argument("--release-key", metavar="FILE",
                        help="release_key.json (from release-key): the key the station verifies updates with")

    provision = sub.add_parser("provision", help="write DIR/<station>/config.json for every station / 生成读卡站配置")
    _provision_arguments(provision)

    _release_arguments(sub)

    install = sub.add_parser("install", help="provision, then flash and deploy every station as its board is "
                                             "plugged in / 一次安装全部读卡站")
    _provision_arguments(install)
    install.add_argument("--bundle", default="sebiao-firmware", metavar="DIR",
                         help="from `sebiao firmware build` (default sebiao-firmware)")
    install.add_argument("--port", action="append", default=[], metavar="PORT",
                         help="also watch this port (repeatable); boards on CP210x, CH340, CH9102, FTDI and "
                              "ESP32-S2/S3/C3 USB are found by themselves")
    install.add_argument("--image", metavar="FILE", help="flash this MicroPython .bin on each board first")
    install.add_argument("--release-key", metavar="FILE",
                         help="release_key.json (from release-key) onto every board: for updates over Wi-Fi")
    install.add_argument("--address", default="0x1000", help="flash offset for --image (0x0 for S3/C3)")
    install.add_argument("--baud", type=int, default=460800)
    install.add_argument("--stations", default="", metavar="A,B", help="only these stations (default: all)")
    install.add_argument("--redo", action="append", default=[], metavar="STATION",
                         help="install this station again even if done (repeatable)")
    install.add_argument("--wait", type=float, default=300.0, metavar="SECONDS",
                         help="stop when no new board comes for this long (default 300)")


def _release_arguments(sub) -> None:
    key = sub.add_parser("release-key", help="make the release key pair (RSA-2048) / 生成固件发布密钥")
    key.add_argument("--out", required=True, metavar="DIR",
                     help="writes DIR/release_key.pem (private, mode 0600: keep it off the gateway) and "
                          "DIR/release_key.json (for the stations and fleet.release_key)")
    release = sub.add_parser("release", help="build and sign a release for updates over Wi-Fi / 生成签名的固件发布包")
    release.add_argument("--key", required=True, metavar="KEY", help="the private key (release_key.pem)")
    release.add_argument("--out", required=True, metavar="DIR", help="the release directory (made or replaced)")
    release.add_argument("--mpy", action="store_true", help="compile the modules with mpy-cross (smaller, "
                                                             "faster to load) / 编译为 .mpy")
    release.add_argument("--firmware", metavar="DIR", help="the firmware tree (default: the installed one)")


def _provision_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar="FILE", help="the workshop config (YAML)")
    parser.add_argument("--out", required=True, metavar="DIR", help="DIR/<station>/config.json")
    parser.add_argument("--credentials", required=True, metavar="DIR",
                        help="where credentials.json is: `sebiao broker-config --out`, or the gateway's "
                             "DATA-DIR/broker for the embedded broker")
    parser.add_argument("--broker", metavar="URL", help="mqtt://HOST:PORT the stations connect to "
                                                        "(default: the workshop's broker.url, else 127.0.0.1:1883)")
    parser.add_argument("--reader", choices=("mfrc522", "pn532"), default="mfrc522",
                        help="for stations whose workshop entry has no `reader` (default mfrc522)")
    parser.add_argument("--wifi-ssid", default="", metavar="SSID")
    parser.add_argument("--wifi-password", default="", metavar="PASSWORD")


def run(args: argparse.Namespace) -> int:
    return {"build": _build, "flash": _flash, "deploy": _deploy, "provision": _provision,
            "install": _install, "release-key": _release_key, "release": _release}[args.action](args)


def _address(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise ConfigError("--address", "", f"{text!r} is not a number (e.g. 0x1000)") from None


def _build(args: argparse.Namespace) -> int:
    from edge_gateway.tooling.devices.bundle import build

    bundle = build(args.out)
    compiled = sum(1 for f in bundle.files if f["path"].endswith(".mpy"))
    print(f"已生成 / built: {bundle.directory} ({compiled} 个 .mpy 模块 / modules + main.py, manifest.json)")
    print(f"               {bundle.zip_path}")
    return 0


def _flash(args: argparse.Namespace) -> int:
    from edge_gateway.tooling.devices.flash import flash

    address = _address(args.address)
    flash(args.port, args.image, address, args.baud)
    print(f"已烧录 / flashed {args.image} to {args.port} at {address:#x}")
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from edge_gateway.tooling.devices.deploy import deploy

    if args.release_key:  # the stations trust what it verifies: checked before it goes on the flash
        from edge_gateway.fleet.release import load_public_key

        load_public_key(Path(args.release_key))
    deploy(args.port, args.bundle, args.config, args.release_key)
    extra = [f for f in (args.config, args.release_key) if f]
    print(f"已部署 / deployed {args.bundle}" + "".join(f" and {f}" for f in extra) + f" to {args.port}")
    return 0


def _release_key(args: argparse.Namespace) -> int:
    from edge_gateway.fleet.release import make_key

    private, public = make_key(Path(args.out))
    print(f"私钥 / private key: {private} (0600)：妥善保管，不要放在网关上 / keep it safe, not on the gateway")
    print(f"公钥 / public key:  {public}：写入读卡站（sebiao firmware deploy --release-key）并在网关配置 "
          "fleet.release_key / put it on the stations and in the gateway's fleet.release_key")
    return 0


def _release(args: argparse.Namespace) -> int:
    from edge_gateway.fleet.release import build
    from edge_gateway.tooling.firmware_files import firmware_dir

    source = Path(args.firmware) if args.firmware else firmware_dir()
    release = build(source, Path(args.out), Path(args.key), mpy=args.mpy)
    size = sum(f.size for f in release.files)
    print(f"已生成发布包 / release built: {release.directory}: 版本 / version {release.version}, "
          f"{len(release.files)} 个文件 / files, {size} bytes, 已签名 / signed")
    return 0


def _provision(args: argparse.Namespace) -> int:
    from edge_gateway.config import load_config
    from edge_gateway.tooling.devices.provision import (
        load_station_credentials,
        write_station_configs,
    )

    config = load_config(args.config)
    creds = load_station_credentials(config, args.credentials)
    written = write_station_configs(config, creds, Path(args.out), _provision_options(args))
    print(f"已生成 {len(written)} 个读卡站配置 / wrote {len(written)} station configs (mode 0600):")
    for path in written:
        print(f"  {path}")
    return 0


def _provision_options(args: argparse.Namespace):
    from edge_gateway.tooling.devices.provision import ProvisionOptions

    return ProvisionOptions(broker_url=args.broker, reader=args.reader, wifi_ssid=args.wifi_ssid,
                            wifi_password=args.wifi_password)


def _install(args: argparse.Namespace) -> int:
    from edge_gateway.config import load_config
    from edge_gateway.tooling.devices.install import DONE, EARLIER, Installer, InstallOptions, summary_table
    from edge_gateway.tooling.devices.provision import load_station_credentials

    config = load_config(args.config)
    image = Path(args.image) if args.image else None
    if image is not None and not image.is_file():
        raise ConfigError("--image", "", f"{image}: no such file (download the ESP32 MicroPython .bin first)")
    if args.release_key:  # checked before the first board
        from edge_gateway.fleet.release import load_public_key

        load_public_key(Path(args.release_key))
    options = InstallOptions(
        bundle=Path(args.bundle), out=Path(args.out), provision=_provision_options(args),
        stations=tuple(s.strip() for s in args.stations.split(",") if s.strip()), redo=tuple(args.redo),
        ports=tuple(args.port), image=image, address=_address(args.address), baud=args.baud, wait_s=args.wait,
        release_key=Path(args.release_key) if args.release_key else None)
    installer = Installer(config=config, creds=load_station_credentials(config, args.credentials), options=options)
    installer.run()
    rows = installer.summary()
    print("\n安装结果 / summary:")
    for line in summary_table(rows):
        print("  " + line)
    left = [r.station for r in rows if r.station in installer.selected and r.result not in (DONE, EARLIER)]
    print(f"记录 / record: {installer.record.path}")
    if left:
        print(f"未完成 {len(left)} 个读卡站：再运行同一命令继续 / {len(left)} stations not installed: run the same "
              f"command again to go on: {', '.join(left)}")
        return 1
    print("全部完成 / all stations installed")
    return 0
