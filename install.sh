#!/usr/bin/env bash
# emotune installer. Run it again to upgrade in place (your PIN, catalog and model are kept).
#
#   ./install.sh              developer machine or CI: what the demo and the tests need, in ./.venv
#   sudo ./install.sh         on a Raspberry Pi (detected): the appliance, as systemd services
#   --pi / --dev              force the appliance / the developer install
#   --hostname NAME           the name the phone finds it by, NAME.local (default: emotune, set only
#                             while the Pi still has its stock name 'raspberrypi')
#   --with-training           on the Pi too: TensorFlow, for 'emotune train --personal' (~1 GB)
#   --uninstall               remove the services, the code and the user; keep /var/lib/emotune
#                             (your music, catalog, model, PIN) and /etc/emotune
#   --purge                   with --uninstall: remove those too
#   --dry-run                 print what would be done, change nothing
set -euo pipefail

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

MODE=auto DRY_RUN=0 EXTRAS=systemd ACTION=install PURGE=0 HOSTNAME_WANTED="" HOSTNAME_GIVEN=0
while [ $# -gt 0 ]; do
  case "$1" in
    --pi) MODE=pi ;;
    --dev) MODE=dev ;;
    --dry-run) DRY_RUN=1 ;;
    --with-training) EXTRAS=systemd,train ;;
    --uninstall) ACTION=uninstall ;;
    --purge) PURGE=1 ;;
    --hostname)
      [ $# -ge 2 ] && [[ "$2" != -* ]] || { echo "install.sh: --hostname needs a name, e.g. --hostname livingroom" >&2; exit 2; }
      HOSTNAME_WANTED="$2" HOSTNAME_GIVEN=1; shift ;;
    --hostname=*) HOSTNAME_WANTED="${1#--hostname=}" HOSTNAME_GIVEN=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$PURGE" = 0 ] || [ "$ACTION" = uninstall ] || { echo "install.sh: --purge goes with --uninstall" >&2; exit 2; }
HOSTNAME_WANTED="${HOSTNAME_WANTED:-emotune}"
# A hostname is one DNS label: letters, digits and hyphens, not at either end, at most 63.
[[ "$HOSTNAME_WANTED" =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$ ]] \
  || { echo "install.sh: --hostname '$HOSTNAME_WANTED' is not a valid name (letters, digits, hyphens)" >&2; exit 2; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX=/opt/emotune
ETC=/etc/emotune
STATE=/var/lib/emotune
CACHE=/var/cache/emotune
SERVICE_USER=emotune
UNITS=(emotune.service emotune-web.service emotune-scan.service emotune-scan.timer)
AVAHI_SERVICE=/etc/avahi/services/emotune.service
OS_RELEASE="${EMOTUNE_OS_RELEASE:-/etc/os-release}"  # tests point this at a fake one

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
  if [ "$DRY_RUN" = 1 ]; then echo "  would run: apt-get install ${missing[*]}"; return 0; fi
  apt-get update -qq || die "cannot reach the package repositories (apt-get update failed): check the network and try again"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "apt-get could not install ${missing[*]}; see the lines above"
}

pip_install() {
  # pip's own error is long; the last line says what to do.
  run "$@" || die "pip could not install emotune's Python packages (no network, or a package failed to build): see above"
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
  pip_install "$REPO/.venv/bin/python" -m pip install -q --upgrade pip
  pip_install "$REPO/.venv/bin/python" -m pip install -q --upgrade -e "$REPO[systemd,train,test]"
  say "done: try '.venv/bin/emotune demo', run the tests with '.venv/bin/pytest'"
}

# ---- the appliance ----------------------------------------------------------------------------------

check_appliance_host() {
  # Everything that would make the install fail half-way is checked first, each as one line.
  [ "$(id -u)" = 0 ] || die "the appliance install changes the system: run it with sudo"
  [ -r "$OS_RELEASE" ] || die "cannot read $OS_RELEASE: emotune needs Raspberry Pi OS (Debian 12 bookworm)"
  local codename; codename="$(. "$OS_RELEASE" && echo "${VERSION_CODENAME:-unknown}")"
  [ "$codename" = bookworm ] \
    || die "emotune needs Raspberry Pi OS bookworm (Debian 12); this system is '$codename' ($(. "$OS_RELEASE" && echo "${PRETTY_NAME:-?}"))"
  local arch; arch="$(dpkg --print-architecture 2>/dev/null || uname -m)"
  [ "$arch" = arm64 ] || [ "$arch" = amd64 ] \
    || die "emotune needs the 64-bit OS (arm64); this one is $arch: flash 'Raspberry Pi OS Lite (64-bit)'"
  if ! { command -v systemctl >/dev/null && [ -d /run/systemd/system ]; }; then
    local why="systemd is not running here: the appliance runs as systemd services (use ./install.sh --dev elsewhere)"
    [ "$DRY_RUN" = 1 ] && { echo "  note: $why"; return 0; }
    die "$why"
  fi
}

install_system_packages() {
  apt_install python3 python3-venv python3-dev python3-picamera2 libvlc5 vlc-plugin-base \
    libsystemd-dev pkg-config gcc avahi-daemon
  [ -x /usr/bin/python3 ] || die "/usr/bin/python3 is missing"
  /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || die "/usr/bin/python3 is not Python 3.11: use Raspberry Pi OS bookworm (64-bit)"
}

create_user() {
  if ! id "$SERVICE_USER" >/dev/null 2>&1; then
    run useradd --system --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
  run usermod -a -G video,audio "$SERVICE_USER"
}

install_code() {
  # The code lives in $PREFIX (the units point there); the checkout can be anywhere.
  if [ "$REPO" != "$PREFIX" ]; then
    run mkdir -p "$PREFIX"
    if [ "$DRY_RUN" = 1 ]; then echo "  would copy $REPO to $PREFIX"; else
      tar -C "$REPO" --exclude=./.venv --exclude=./.git -cf - . | tar -C "$PREFIX" -xf -
    fi
  fi
  # --system-site-packages: picamera2 and libcamera come from apt, not PyPI.
  [ -x "$PREFIX/.venv/bin/python" ] || run /usr/bin/python3 -m venv --system-site-packages "$PREFIX/.venv"
  pip_install "$PREFIX/.venv/bin/python" -m pip install -q --upgrade -e "$PREFIX[$EXTRAS]"
}

write_config() {
  run install -d -m 0755 "$ETC"
  run install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0750 "$STATE"
  run install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0750 "$CACHE"
  # The listener's music folder: group-writable (setgid), so whoever copies files in (scp, Samba, a
  # USB stick) only needs to be in the emotune group.
  run install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 2775 "$STATE/music"
  if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
    run usermod -a -G "$SERVICE_USER" "$SUDO_USER"
  fi
  if [ ! -f "$ETC/config.toml" ]; then
    local pin; pin="$(python3 -c 'import secrets; print(f"{secrets.randbelow(10**6):06d}")')"
    if [ "$DRY_RUN" = 1 ]; then echo "  would write $ETC/config.toml with a new PIN"; else
      sed "s/@PIN@/$pin/" "$REPO/deploy/config.toml" > "$ETC/config.toml"
      chown root:"$SERVICE_USER" "$ETC/config.toml"; chmod 0640 "$ETC/config.toml"
    fi
  else
    say "keeping $ETC/config.toml"
  fi
}

stop_running_services() {
  # An upgrade in place: the running daemon, page and scan would hold the database while the starter
  # catalog and a schema migration want it (under load, over the 10 s a writer waits), and would run old
  # code from a tree being replaced. start_services starts them again at the end.
  command -v systemctl >/dev/null || return 0
  local unit running=()
  for unit in emotune.service emotune-web.service emotune-scan.timer emotune-scan.service; do
    if systemctl is-active --quiet "$unit" 2>/dev/null; then running+=("$unit"); fi
  done
  [ "${#running[@]}" -gt 0 ] || return 0
  say "stopping ${running[*]} for the upgrade (started again at the end)"
  run systemctl stop "${running[@]}"
}

build_starter_catalog() {
  # Something to play on first power-on: the project's own pieces, analysed like your music and
  # tagged as built-in. A second run finds them and returns at once.
  say "building the starter catalog (the built-in pieces; a few minutes on a Pi, once)"
  run runuser -u "$SERVICE_USER" -- env HOME="$STATE" NUMBA_CACHE_DIR="$CACHE/numba" \
    "$PREFIX/.venv/bin/emotune" catalog starter \
    || die "could not build the starter catalog; see above (the services are not started)"
}

config_value() {  # config_value KEY DEFAULT: the first 'KEY = value' in the config (quotes stripped)
  local value
  value="$(sed -n "s/^$1 *= *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" "$ETC/config.toml" 2>/dev/null | head -n1 || true)"
  echo "${value:-$2}"
}

announce_by_name() {
  # The phone finds the page as http://NAME.local:PORT/ (mDNS, Avahi). A hostname the owner chose is
  # kept unless --hostname asks otherwise.
  local current; current="$(hostname)"
  if [ "$HOSTNAME_GIVEN" = 1 ] || [ "$current" = raspberrypi ] || [ "$current" = localhost ]; then
    if [ "$current" != "$HOSTNAME_WANTED" ]; then
      say "naming this device '$HOSTNAME_WANTED' (was '$current')"
      if [ "$DRY_RUN" = 1 ]; then echo "  would run: hostnamectl set-hostname $HOSTNAME_WANTED"
      else  # hostnamed may be unavailable (a minimal or emulated system): set it the plain way then
        hostnamectl set-hostname "$HOSTNAME_WANTED" 2>/dev/null \
          || { echo "$HOSTNAME_WANTED" > /etc/hostname; hostname "$HOSTNAME_WANTED"; }
      fi
      if [ "$DRY_RUN" = 0 ]; then
        if grep -q '^127\.0\.1\.1' /etc/hosts; then sed -i "s/^127\.0\.1\.1.*/127.0.1.1\t$HOSTNAME_WANTED/" /etc/hosts
        else printf '127.0.1.1\t%s\n' "$HOSTNAME_WANTED" >> /etc/hosts; fi
      fi
    fi
  fi
  local port; port="$(config_value port 8080)"
  run install -d -m 0755 "$(dirname "$AVAHI_SERVICE")"
  if [ "$DRY_RUN" = 1 ]; then echo "  would write $AVAHI_SERVICE (_http._tcp on port $port)"; else
    sed "s/@PORT@/$port/" "$REPO/deploy/avahi-emotune.service" > "$AVAHI_SERVICE"
  fi
  run systemctl enable avahi-daemon.service
  run systemctl restart avahi-daemon.service
}

start_services() {
  run install -m 0644 "${UNITS[@]/#/$REPO/deploy/}" /etc/systemd/system/
  run systemctl daemon-reload
  run systemctl enable emotune.service emotune-web.service emotune-scan.timer
  run systemctl restart emotune-web.service emotune-scan.timer
  # The daemon last: if it cannot start (no speaker, a broken config), the page still runs and the
  # installer still prints the address and PIN, with the daemon's own last word.
  if ! run systemctl restart emotune.service; then
    say "the daemon did not start: $(journalctl -u emotune -n 1 -o cat 2>/dev/null || true); see 'systemctl status emotune'"
  fi
}

install_pi() {
  check_appliance_host
  say "appliance install into $PREFIX"
  install_system_packages
  create_user
  stop_running_services
  install_code
  write_config
  build_starter_catalog
  announce_by_name
  start_services
  [ "$DRY_RUN" = 1 ] && { say "dry run: nothing was changed"; return 0; }
  local pin port name address
  pin="$(config_value pin '')"
  [ -n "$pin" ] || pin="$(cat "$STATE/web-pin" 2>/dev/null || echo "<see $ETC/config.toml>")"
  port="$(config_value port 8080)"
  name="$(hostname)"
  address="$(hostname -I 2>/dev/null | awk '{print $1}' || true)"
  say "emotune is running. On a phone on this network open http://$name.local:$port/ — PIN $pin"
  [ -z "$address" ] || say "(a phone that does not find $name.local: http://$address:$port/)"
  say "add your own music: copy files into $STATE/music/ (new files play within the hour)"
}

uninstall_pi() {
  [ "$(id -u)" = 0 ] || die "uninstalling changes the system: run it with sudo"
  say "removing emotune's services, code and user"
  if command -v systemctl >/dev/null; then
    run systemctl disable --now "${UNITS[@]}" 2>/dev/null || true
  fi
  for unit in "${UNITS[@]}"; do run rm -f "/etc/systemd/system/$unit"; done
  command -v systemctl >/dev/null && run systemctl daemon-reload
  if [ -f "$AVAHI_SERVICE" ]; then run rm -f "$AVAHI_SERVICE"; fi
  run rm -rf "$PREFIX"
  if id "$SERVICE_USER" >/dev/null 2>&1; then run userdel "$SERVICE_USER"; fi
  if [ "$PURGE" = 1 ]; then
    say "purging $STATE, $ETC and $CACHE (music, catalog, model, PIN)"
    run rm -rf "$STATE" "$ETC" "$CACHE"
  else
    say "kept $STATE (your music, catalog, model) and $ETC (config, PIN); --purge removes them"
  fi
  [ "$DRY_RUN" = 1 ] && say "dry run: nothing was changed"
  return 0
}

case "$ACTION:$MODE" in
  install:dev) install_dev ;;
  install:pi) install_pi ;;
  uninstall:*) uninstall_pi ;;
esac
