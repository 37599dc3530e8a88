#!/bin/sh
# Installs the Debian packages logferry needs to build and test, when missing.
# As root: apt-get install, non-interactive. Otherwise: print the command, fail.
set -eu
PKGS="build-essential pkg-config librdkafka-dev libcurl4-openssl-dev libcjson-dev
libev-dev libinih-dev libpcre2-dev zlib1g-dev libmicrohttpd-dev libcmocka-dev
etcd-server etcd-client kcat curl python3 procps valgrind"
[ $# -gt 0 ] && PKGS="$PKGS $*"
missing=""
for p in $PKGS; do
  s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$s" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
cmd="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
  echo "deps: missing Debian packages:$missing" >&2
  echo "deps: run as root: apt-get update && $cmd" >&2
  exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Installing etcd-server must not start a system-wide etcd on :2379; tests
# start their own. policy-rc.d forbids service starts for this install only.
prc=/usr/sbin/policy-rc.d
made_prc=0
if [ ! -e "$prc" ]; then printf '#!/bin/sh\nexit 101\n' > "$prc"; chmod +x "$prc"; made_prc=1; fi
trap '[ $made_prc = 1 ] && rm -f "$prc"' EXIT
apt-get install -y -q --no-install-recommends$missing >/dev/null || {
  apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends$missing >/dev/null; }
