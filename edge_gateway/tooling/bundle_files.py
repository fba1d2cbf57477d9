"""The offline bundle's ``install.sh`` and ``README.md`` (``bundle`` writes them into the tar.gz)."""

INSTALL_SH = r"""#!/bin/sh
# 色标 sebiao 离线安装 / offline install. No network is used: Debian packages from debs/, Python wheels
# from wheels/. Usage (as root):
#   ./install.sh [--prefix DIR] [--python PYTHON] [--no-debs] [--debs-dry-run]
#                [--config FILE --data-dir DIR [service install options...]]
# --config/--data-dir: then also `sebiao service install` (the systemd units); the other options after
# them go to it (e.g. --broker-dir, --http, --no-mosquitto).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=/opt/sebiao
python=python3
debs=yes
debs_dry=no
service_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --no-debs) debs=no; shift ;;
    --debs-dry-run) debs_dry=yes; shift ;;
    --config|--data-dir) service_args="$*"; break ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "install.sh: 未知选项 / unknown option: $1" >&2; exit 2 ;;
  esac
done

echo "== 校验文件 / checking files (SHA256SUMS)"
(cd "$here" && sha256sum --quiet -c SHA256SUMS)

if [ "$debs" = yes ]; then
  echo "== Debian 软件包 / Debian packages"
  todo=""
  for deb in "$here"/debs/*.deb; do
    [ -e "$deb" ] || continue
    pkg=$(dpkg-deb -f "$deb" Package)
    ver=$(dpkg-deb -f "$deb" Version)
    have=$(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null || true)
    # A package the system has (any version) is left alone: a bundled library never replaces the host's.
    case "$have" in
      "install ok installed "*)
        echo "  已安装 / already installed: $pkg ${have#install ok installed }"
        continue ;;
    esac
    echo "  将安装 / to install: $pkg $ver"
    todo="$todo $deb"
  done
  if [ -n "$todo" ] && [ "$debs_dry" = no ]; then
    # The packages' services must not start on their own: sebiao's units run Mosquitto with its config.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
      trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive dpkg -i $todo
  fi
  [ "$debs_dry" = yes ] && exit 0
fi

echo "== Python 环境 / Python environment in $prefix"
"$python" -m venv "$prefix"
"$prefix/bin/python" -m pip install --quiet --no-index --find-links "$here/wheels" sebiao
if [ -w /usr/local/bin ] && [ "$prefix" = /opt/sebiao ]; then
  ln -sf "$prefix/bin/sebiao" /usr/local/bin/sebiao
fi
"$prefix/bin/sebiao" --help > /dev/null
echo "  已安装 / installed: $prefix/bin/sebiao"

if [ -n "$service_args" ]; then
  echo "== 系统服务 / systemd units"
  # shellcheck disable=SC2086
  "$prefix/bin/sebiao" service install $service_args
else
  echo "下一步 / next (docs: README.md):"
  echo "  sebiao broker-config --config /etc/sebiao/workshop.yaml --out /etc/sebiao/broker \\"
  echo "      --persistence-dir /var/lib/sebiao-mosquitto"
  echo "  sebiao service install --config /etc/sebiao/workshop.yaml --data-dir /var/lib/sebiao"
fi
"""

README = """\
# 色标 sebiao {version} 离线安装包 / offline installation bundle

## 中文

本安装包用于**没有互联网**的作坊网关（Debian 12 “bookworm”，与制作本包的电脑相同的 CPU 架构和
Python 版本）。包内：

- `wheels/`：sebiao 及其全部 Python 依赖；
- `debs/`：mosquitto、mosquitto-clients、python3-venv 及最小 Debian 系统之外所需的库；
- `units/`：按默认路径生成的 systemd 服务文件（供查看；安装时按实际路径重新生成）；
- `install.sh`：安装脚本；`SHA256SUMS`：文件校验值。

步骤（以 root 身份）：

1. 把 `sebiao-bundle-*.tar.gz` 拷到网关（U 盘），解压：`tar xzf sebiao-bundle-*.tar.gz && cd sebiao-bundle-*`
2. 安装软件：`./install.sh`（先校验文件，再安装缺少的 Debian 软件包，系统已有的软件包（任何版本）不动；
   然后在 `{prefix}` 建 Python 环境并离线安装 sebiao，`/usr/local/bin/sebiao` 指向它）。
   只想看会装哪些 Debian 包：`./install.sh --debs-dry-run`。
3. 放好作坊配置 `/etc/sebiao/workshop.yaml`，生成 MQTT 服务器配置：
   `sebiao broker-config --config /etc/sebiao/workshop.yaml --out /etc/sebiao/broker
   --persistence-dir /var/lib/sebiao-mosquitto`
   并把 `credentials.json` 中网关的密码写入配置的 `broker:`（`url: mqtt://127.0.0.1:1883`）。
4. 安装系统服务：`sebiao service install --config /etc/sebiao/workshop.yaml --data-dir /var/lib/sebiao`
   （先加 `--dry-run` 看一遍），再按提示运行
   `systemctl daemon-reload`、`systemctl disable --now mosquitto.service`、
   `systemctl enable --now sebiao-mosquitto.service sebiao-gateway.service`。
5. 检查：`curl http://127.0.0.1:8080/healthz`；日志：`journalctl -u sebiao-gateway -f`。
   断电后网关和 MQTT 服务器随开机自动启动，不需要联网，也不等待网络校时。

## English

For a workshop gateway **without internet** (Debian 12 "bookworm", the same CPU architecture and Python
version as the machine that built this bundle). Inside: `wheels/` (sebiao and every Python dependency),
`debs/` (mosquitto, mosquitto-clients, python3-venv and the libraries beyond a minimal Debian),
`units/` (the systemd units for the default paths, to read), `install.sh`, `SHA256SUMS`.

As root:

1. Copy `sebiao-bundle-*.tar.gz` to the gateway, `tar xzf sebiao-bundle-*.tar.gz && cd sebiao-bundle-*`.
2. `./install.sh`: checks the files, installs the Debian packages that are missing (never replacing
   a package the system already has, whatever its version), makes a Python environment in `{prefix}` and installs
   sebiao into it from `wheels/` with `--no-index` (`/usr/local/bin/sebiao` points to it).
   `./install.sh --debs-dry-run` only lists the Debian packages it would install.
3. Put the workshop config at `/etc/sebiao/workshop.yaml`; `sebiao broker-config --config
   /etc/sebiao/workshop.yaml --out /etc/sebiao/broker --persistence-dir /var/lib/sebiao-mosquitto`;
   put the gateway's password from `credentials.json` into the config's `broker:` section
   (`url: mqtt://127.0.0.1:1883`).
4. `sebiao service install --config /etc/sebiao/workshop.yaml --data-dir /var/lib/sebiao` (try
   `--dry-run` first), then the commands it prints: `systemctl daemon-reload`,
   `systemctl disable --now mosquitto.service`, `systemctl enable --now sebiao-mosquitto.service
   sebiao-gateway.service`.
5. Check `curl http://127.0.0.1:8080/healthz`; logs: `journalctl -u sebiao-gateway -f`. After a power
   cut both services start at boot, with no network and without waiting for network time.
"""
