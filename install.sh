#!/usr/bin/env bash
# emotune installer. Run it again to upgrade in place.
#
#   ./install.sh            developer machine or CI: what the demo and the tests need, in ./.venv
#   sudo ./install.sh       on a Raspberry Pi (detected): the appliance, as systemd services
#   ./install.sh --pi       force the appliance install;  --dev forces the developer install
#   ./install.sh --dry-run  print what would be done, change nothing
#   --with-training         on the Pi too: TensorFlow, for 'emotune train --personal' (~1 GB)
set -euo pipefail

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }

MODE=auto DRY_RUN=0 EXTRAS=systemd
for arg in "$@"; do
  case "$arg" in
    --pi) MODE=pi ;;
    --dev) MODE=dev ;;
    --dry-run) DRY_RUN=1 ;;
    --with-training) EXTRAS=systemd,train ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX=/opt/emotune
ETC=/etc/emotune
STATE=/var/lib/emotune
SERVICE_USER=emotune

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
run() { if [ "$DRY_RUN" = 1 ]; then echo "  would run: $*"; else "$@"; fi; }

if [ "$MODE" = auto ]; then
  if grep -qs "Raspberry Pi" /proc/device-tree/model; then MODE=pi; else MODE=dev; fi
fi

apt_install() {
  # Install only what is missing, so a second run is quick and needs no network.
  local missing=()
  for pkg in "$@"; do dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    die "these system packages are missing: ${missing[*]}; run: sudo apt-get install ${missing[*]} (or run this script as root)"
  fi
  command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} with your system's package manager"
  say "installing system packages: ${missing[*]}"
  run apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

find_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      command -v "$candidate"; return 0
    fi
  done
  die "emotune needs Python 3.11 (Raspberry Pi OS bookworm has it as /usr/bin/python3)"
}

install_dev() {
  say "developer install in $REPO/.venv"
  # VLC plays the music; libsystemd-dev builds systemd-python; chromium drives the page's browser test.
  apt_install libvlc5 vlc-plugin-base libsystemd-dev pkg-config gcc chromium chromium-driver
  local python; python="$(find_python)"
  [ -x "$REPO/.venv/bin/python" ] || run "$python" -m venv "$REPO/.venv"
  run "$REPO/.venv/bin/python" -m pip install -q --upgrade pip
  run "$REPO/.venv/bin/python" -m pip install -q --upgrade -e "$REPO[systemd,train,test]"
  say "done: try '.venv/bin/emotune demo', run the tests with '.venv/bin/pytest'"
}

install_pi() {
  [ "$(id -u)" = 0 ] || die "the appliance install changes the system: run it with sudo"
  say "appliance install into $PREFIX"
  apt_install python3 python3-venv python3-dev python3-picamera2 libvlc5 vlc-plugin-base \
    libsystemd-dev pkg-config gcc
  [ -x /usr/bin/python3 ] || die "/usr/bin/python3 is missing"
  /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || die "/usr/bin/python3 is not Python 3.11: use Raspberry Pi OS bookworm (64-bit)"

  if ! id "$SERVICE_USER" >/dev/null 2>&1; then
    run useradd --system --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
  run usermod -a -G video,audio "$SERVICE_USER"

  # The code lives in $PREFIX (the units point there); the checkout can be anywhere.
  if [ "$REPO" != "$PREFIX" ]; then
    run mkdir -p "$PREFIX"
    if [ "$DRY_RUN" = 1 ]; then echo "  would copy $REPO to $PREFIX"; else
      tar -C "$REPO" --exclude=./.venv --exclude=./.git -cf - . | tar -C "$PREFIX" -xf -
    fi
  fi
  # --system-site-packages: picamera2 and libcamera come from apt, not PyPI.
  [ -x "$PREFIX/.venv/bin/python" ] || run /usr/bin/python3 -m venv --system-site-packages "$PREFIX/.venv"
  run "$PREFIX/.venv/bin/python" -m pip install -q --upgrade -e "$PREFIX[$EXTRAS]"

  run install -d -m 0755 "$ETC"
  run install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0750 "$STATE"
  if [ ! -f "$ETC/config.toml" ]; then
    local pin; pin="$(python3 -c 'import secrets; print(f"{secrets.randbelow(10**6):06d}")')"
    if [ "$DRY_RUN" = 1 ]; then echo "  would write $ETC/config.toml with a new PIN"; else
      sed "s/@PIN@/$pin/" "$REPO/deploy/config.toml" > "$ETC/config.toml"
      chown root:"$SERVICE_USER" "$ETC/config.toml"; chmod 0640 "$ETC/config.toml"
    fi
  else
    say "keeping $ETC/config.toml"
  fi
  run install -m 0644 "$REPO/deploy/emotune.service" "$REPO/deploy/emotune-web.service" /etc/systemd/system/
  run systemctl daemon-reload
  run systemctl enable emotune.service emotune-web.service
  run systemctl restart emotune.service emotune-web.service

  [ "$DRY_RUN" = 1 ] && { say "dry run: nothing was changed"; return 0; }
  local pin port address
  pin="$(sed -n 's/^pin *= *"\(.*\)"/\1/p' "$ETC/config.toml" | head -n1 || true)"
  port="$(sed -n 's/^port *= *\([0-9]*\)/\1/p' "$ETC/config.toml" | head -n1 || true)"
  address="$(hostname -I 2>/dev/null | awk '{print $1}' || true)"
  say "emotune is running. On your phone open http://${address:-<this device>}:${port:-8080}/ — PIN ${pin:-<see $ETC/config.toml>}"
}

case "$MODE" in
  dev) install_dev ;;
  pi) install_pi ;;
esac
