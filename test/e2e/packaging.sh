#!/bin/bash
# check: alone (installs and purges .debs; builds with both cores)
# packaging: `make deb` and `make rpm`, then what is in the packages; the
# .debs installed on this machine (service starts forbidden by policy-rc.d),
# the logferry user, state directories, the units, the SysV scripts driving
# the real collector, `dpkg --remove` and `dpkg --purge`. The machine is put
# back as it was: nothing installed or running, the user removed when this
# test created it (Debian policy keeps it on purge: that is checked first).
# Needs root (a CI machine); builds the packages' own build deps through
# test/tools/deps.sh.
. "$(dirname "$0")/../lib/common.sh"

# Cases that run the daemons (--check-config as the packaged user, the SysV
# script's start/status/reload/stop, the dashboard's metric names). 0 only
# for a tree with placeholder daemons.
PKG_TEST_DAEMONS=${PKG_TEST_DAEMONS:-1}

PKGDIR="$ROOT/build/packages"
VERSION=$(cat "$ROOT/VERSION")
PRC=/usr/sbin/policy-rc.d
COLL=logferry-collector
IDX=logferry-indexer
quiet() { "$@" >/dev/null 2>&1; }

if [ "$(id -u)" != 0 ]; then
  not_ok "packaging test needs root (installs the .debs)"
  done_testing
fi
for p in $COLL $IDX; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv 'not-installed'; then
    not_ok "$p is already on this machine (dpkg state); not touching it"
    done_testing
  fi
done
# What this test uses beyond the build: python3-yaml (the compose file),
# systemd (systemd-analyze), groff-base (man pages), adduser (the packages'
# dependency), sysvinit-utils (/lib/lsb/init-functions).
TEST_DEPS="python3-yaml systemd groff-base adduser sysvinit-utils"
"$ROOT/test/tools/deps.sh" $TEST_DEPS || { not_ok "test dependencies ($TEST_DEPS)"; done_testing; }
user_existed=0; getent passwd logferry >/dev/null && user_existed=1
group_existed=0; getent group logferry >/dev/null && group_existed=1

# Work files in a directory of our own, not $T: this test changes the
# machine, and what it needs to put it back must not vanish with a sweep
# of /tmp/logferry-e2e.* by someone else.
W=$(mktemp -d /tmp/logferry-pkgtest.XXXXXX)

# ---- restore the machine, whatever happened -------------------------------
prc_made=0
pkg_cleanup() {
  local d pid
  for d in $COLL $IDX; do
    # Only our daemon: a stale pidfile may name a reused pid.
    pid=$(cat /run/$d.pid 2>/dev/null)
    [ -n "$pid" ] && [ "$(readlink /proc/$pid/exe 2>/dev/null)" = /usr/bin/$d ] && kill_pid "$pid" TERM
    rm -f /run/$d.pid
  done
  if dpkg-query -W -f='${Status}' $COLL $IDX 2>/dev/null | grep -qv 'not-installed'; then
    dpkg_locked --purge $COLL $IDX >/dev/null 2>&1
  fi
  if [ "$user_existed" = 0 ] && getent passwd logferry >/dev/null; then
    deluser --quiet logferry >/dev/null 2>&1
  fi
  if [ "$group_existed" = 0 ] && getent group logferry >/dev/null; then
    delgroup --quiet logferry >/dev/null 2>&1
  fi
  [ "$prc_made" = 1 ] && rm -f "$PRC"
  if [ "$_TAP_FAILED" -gt 0 ]; then echo "# work dir kept: $W"; else rm -rf "$W"; fi
  _cleanup
}
trap pkg_cleanup EXIT

# dpkg with the lock waited for (other apt/dpkg runs on a shared machine).
dpkg_locked() {
  local i out rc
  for i in $(seq 120); do
    out=$(dpkg "$@" 2>&1); rc=$?
    if [ $rc -ne 0 ] && grep -q 'lock' <<<"$out"; then sleep 0.5; continue; fi
    printf '%s\n' "$out"
    return $rc
  done
  printf '%s\n' "$out"; return 1
}

# ---- build ---------------------------------------------------------------
# Our own make, not the caller's jobserver. deb and rpm build side by side
# (separate trees) once their tools are installed. The unit tests and debug
# symbol packages are left out of the package build (nocheck,
# noautodbgsym): `make check` runs the unit tests already, sanitized.
unset MAKEFLAGS MFLAGS MAKELEVEL
start=$SECONDS
make -C "$ROOT" pkgdeps > "$W/pkgdeps.log" 2>&1 ||
  { not_ok "make pkgdeps"; sed 's/^/# /' "$W/pkgdeps.log"; done_testing; }
DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" make -C "$ROOT" deb > "$W/deb.log" 2>&1 &
deb_pid=$!
make -C "$ROOT" rpm > "$W/rpm.log" 2>&1 &
rpm_pid=$!
wait $deb_pid; deb_rc=$?
wait $rpm_pid; rpm_ok=$?
diag "make deb + make rpm: $((SECONDS - start)) s; lintian: $(grep -c '^W: ' "$W/deb.log") warning(s)"
grep -E '^[EW]: ' "$W/deb.log" | sed 's/^/# lintian /'
check "make deb (dpkg-buildpackage, lintian without errors)" test $deb_rc = 0
[ $deb_rc = 0 ] || tail -n 30 "$W/deb.log" | sed 's/^/# /'
check "make rpm (rpmbuild)" test $rpm_ok = 0
[ $rpm_ok = 0 ] || tail -n 30 "$W/rpm.log" | sed 's/^/# /'
[ $deb_rc = 0 ] || done_testing

arch=$(dpkg --print-architecture)
CDEB="$PKGDIR/${COLL}_${VERSION}_$arch.deb"
IDEB="$PKGDIR/${IDX}_${VERSION}_$arch.deb"
CRPM=$(ls "$PKGDIR"/$COLL-"$VERSION"-*.rpm 2>/dev/null | head -n1)
IRPM=$(ls "$PKGDIR"/$IDX-"$VERSION"-*.rpm 2>/dev/null | head -n1)
if [ ! -f "$CDEB" ] || [ ! -f "$IDEB" ]; then
  not_ok "the .debs are in build/packages"
  done_testing
fi

# ---- what the .debs hold -------------------------------------------------
# Compound checks are `check NAME eval '...'`: run in this shell, with its
# variables and functions.
dpkg-deb -c "$CDEB" | awk '{print $NF}' | sed 's|^\./|/|' > "$W/c.files"
dpkg-deb -c "$IDEB" | awk '{print $NF}' | sed 's|^\./|/|' > "$W/i.files"
has() { local f=$1 x; shift; for x in "$@"; do grep -qxF "$x" "$W/$f.files" || { diag "$f: no $x"; return 1; }; done; }
check "collector deb: binary"        has c /usr/bin/$COLL
check "collector deb: systemd unit"  has c /lib/systemd/system/$COLL.service
check "collector deb: init script"   has c /etc/init.d/$COLL
check "collector deb: /etc/default"  has c /etc/default/$COLL
check "collector deb: collector.ini" has c /etc/logferry/collector.ini
check "collector deb: man pages logferry-collector(8), logferry.ini(5)" \
  has c /usr/share/man/man8/$COLL.8.gz /usr/share/man/man5/logferry.ini.5.gz
check "indexer deb: binary"          has i /usr/bin/$IDX
check "indexer deb: systemd unit"    has i /lib/systemd/system/$IDX.service
check "indexer deb: init script"     has i /etc/init.d/$IDX
check "indexer deb: /etc/default"    has i /etc/default/$IDX
check "indexer deb: indexer.ini and rules.ini" has i /etc/logferry/indexer.ini /etc/logferry/rules.ini
check "indexer deb: man pages logferry-indexer(8), logferry-rules(5)" \
  has i /usr/share/man/man8/$IDX.8.gz /usr/share/man/man5/logferry-rules.5.gz

lines_have() { local text=$1 x; shift; for x in "$@"; do grep -qxF -- "$x" <<<"$text" || { diag "missing: $x"; return 1; }; done; }
check "collector conffiles: ini, default, init script" eval '
  lines_have "$(dpkg-deb -I "$CDEB" conffiles)" /etc/logferry/collector.ini /etc/default/$COLL /etc/init.d/$COLL'
check "indexer conffiles: ini, rules, default, init script" eval '
  lines_have "$(dpkg-deb -I "$IDEB" conffiles)" /etc/logferry/indexer.ini /etc/logferry/rules.ini \
    /etc/default/$IDX /etc/init.d/$IDX'
check "deb control: depends on adduser; postinst, prerm, postrm present" eval '
  dpkg-deb -f "$CDEB" Depends | grep -q adduser &&
  dpkg-deb -I "$CDEB" postinst >/dev/null && dpkg-deb -I "$CDEB" prerm >/dev/null &&
  dpkg-deb -I "$CDEB" postrm >/dev/null'
check "deb postinst: user in adm, unit enabled, rc links" eval '
  s=$(dpkg-deb -I "$CDEB" postinst) && grep -q "adduser --quiet logferry adm" <<<"$s" &&
  grep -q "deb-systemd-helper enable .$COLL.service" <<<"$s" && grep -q "update-rc.d $COLL defaults" <<<"$s"'

# The man pages render without groff warnings.
man_ok() { # deb path-in-package
  dpkg-deb --fsys-tarfile "$1" | tar -xOf - ".$2" | gzip -dc > "$W/man.page" &&
  [ -s "$W/man.page" ] &&
  [ -z "$(LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 "$W/man.page" 2>&1)" ]
}
check "man pages render cleanly (groff -ww)" eval '
  man_ok "$CDEB" /usr/share/man/man8/$COLL.8.gz && man_ok "$CDEB" /usr/share/man/man5/logferry.ini.5.gz &&
  man_ok "$IDEB" /usr/share/man/man8/$IDX.8.gz && man_ok "$IDEB" /usr/share/man/man5/logferry-rules.5.gz'

# ---- what the .rpms hold -------------------------------------------------
if [ "$rpm_ok" = 0 ] && [ -n "$CRPM" ] && [ -n "$IRPM" ]; then
  rpm -qlp "$CRPM" > "$W/cr.files" 2>/dev/null
  rpm -qlp "$IRPM" > "$W/ir.files" 2>/dev/null
  check "collector rpm: binary, unit, sysconfig, ini, state dir" has cr /usr/bin/$COLL \
    /usr/lib/systemd/system/$COLL.service /etc/sysconfig/$COLL /etc/logferry/collector.ini /var/lib/logferry/collector
  check "collector rpm: man pages" eval '
    grep -q "^/usr/share/man/man8/$COLL.8" "$W/cr.files" && grep -q "^/usr/share/man/man5/logferry.ini.5" "$W/cr.files"'
  check "indexer rpm: binary, unit, sysconfig, ini, rules, state dir" has ir /usr/bin/$IDX \
    /usr/lib/systemd/system/$IDX.service /etc/sysconfig/$IDX /etc/logferry/indexer.ini /etc/logferry/rules.ini \
    /var/lib/logferry/indexer
  check "indexer rpm: man pages" eval '
    grep -q "^/usr/share/man/man8/$IDX.8" "$W/ir.files" && grep -q "^/usr/share/man/man5/logferry-rules.5" "$W/ir.files"'
  check "rpm config files: ini, rules, sysconfig" eval '
    lines_have "$(rpm -qp --configfiles "$CRPM" "$IRPM" 2>/dev/null)" /etc/logferry/collector.ini \
      /etc/sysconfig/$COLL /etc/logferry/indexer.ini /etc/logferry/rules.ini /etc/sysconfig/$IDX'
  check "rpm config files are %config(noreplace)" eval '
    [ "$(rpm -qp --qf "[%{FILEFLAGS:fflags} %{FILENAMES}\n]" "$CRPM" "$IRPM" 2>/dev/null | grep -c "^cn /etc/")" = 5 ]'
  check "rpm scripts: %pre creates the user (adm for the collector), systemd scriptlets" eval '
    s=$(rpm -qp --scripts "$CRPM" 2>/dev/null) &&
    grep -q "useradd -r -g logferry" <<<"$s" && grep -q "usermod -a -G adm logferry" <<<"$s" &&
    grep -q "preset $COLL.service" <<<"$s" && grep -q "disable --now $COLL.service" <<<"$s" &&
    grep -q "try-restart $COLL.service" <<<"$s"'
  check "rpm state dir owned by logferry, 0750" eval '
    rpm -qlvp "$CRPM" 2>/dev/null | grep -qE "^drwxr-x--- .* logferry +logferry .* /var/lib/logferry/collector\$"'
else
  not_ok "the .rpms are in build/packages"
fi

# ---- the Grafana dashboard and the compose file -----------------------------
check "grafana dashboard: valid JSON, panels with Prometheus queries" /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
qs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
assert d["uid"] and len(qs) >= 20 and all("logferry_" in q for q in qs), qs
' "$ROOT/packaging/grafana/logferry.json"
check "grafana dashboard: logferry.json is what gen-dashboard.py writes" eval '
  /usr/bin/python3 "$ROOT/packaging/grafana/gen-dashboard.py" | cmp -s - "$ROOT/packaging/grafana/logferry.json"'
check "compose file: valid YAML with kafka, elasticsearch, etcd and both daemons" /usr/bin/python3 -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
s = d["services"]
for n in ("kafka", "elasticsearch", "etcd", "collector", "indexer"):
    assert n in s, n
assert s["collector"]["build"] and s["indexer"]["build"]
' "$ROOT/packaging/compose/docker-compose.yml"

# ---- install ---------------------------------------------------------------
# policy-rc.d 101: the maintainer scripts must not start the daemons here.
# One that already forbids starts (container images have one) is left alone;
# a different one is not replaced behind its owner's back.
if [ ! -e "$PRC" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$PRC"; chmod 0755 "$PRC"; prc_made=1
fi
"$PRC" logferry-collector start >/dev/null 2>&1
if [ $? != 101 ]; then
  not_ok "$PRC exists and allows service starts; not installing"
  done_testing
fi
running() { pgrep -f '^/usr/bin/logferry-(collector|indexer)( |$)' >/dev/null; }
dpkg_locked -i "$CDEB" "$IDEB" > "$W/install.log" 2>&1
rc=$?
check "dpkg -i both .debs" test $rc = 0
[ $rc = 0 ] || tail -n 20 "$W/install.log" | sed 's/^/# /'
check "both installed (dpkg status)" eval '
  [ "$(dpkg-query -W -f="\${Status}" $COLL)" = "install ok installed" ] &&
  [ "$(dpkg-query -W -f="\${Status}" $IDX)" = "install ok installed" ]'
check "install started nothing (policy-rc.d)" eval '! running'
check "logferry is a system user, nologin, home /var/lib/logferry" eval '
  IFS=: read -r _ _ uid _ _ home shell < <(getent passwd logferry) &&
  [ "$uid" -lt 1000 ] && [ "$home" = /var/lib/logferry ] && [ "${shell##*/}" = nologin ]'
check "logferry is in group adm (reads /var/log)" eval 'id -nG logferry | tr " " "\n" | grep -qx adm'
owner() { stat -c '%U:%G %a' "$1" 2>/dev/null; }
dirs_owned() { local d; for d in "$@"; do [ "$(owner "$d")" = "logferry:logferry 750" ] || { diag "$d: $(owner "$d")"; return 1; }; done; }
check "/var/lib/logferry{,/collector,/indexer}: logferry:logferry 750" \
  dirs_owned /var/lib/logferry /var/lib/logferry/collector /var/lib/logferry/indexer
check "/var/log/logferry: logferry:adm 2750" test "$(owner /var/log/logferry)" = "logferry:adm 2750"
check "conffiles registered with dpkg" eval '
  dpkg-query -W -f="\${Conffiles}\n" $COLL | grep -q "^ /etc/logferry/collector.ini " &&
  dpkg-query -W -f="\${Conffiles}\n" $IDX | grep -q "^ /etc/logferry/rules.ini "'
check "enabled the Debian way: rc2.d links and multi-user.target.wants" eval '
  ls /etc/rc2.d/S*$COLL /etc/rc2.d/S*$IDX >/dev/null 2>&1 &&
  [ -L /etc/systemd/system/multi-user.target.wants/$COLL.service ] &&
  [ -L /etc/systemd/system/multi-user.target.wants/$IDX.service ]'
# With the binaries at their ExecStart paths; man pages are not looked up
# (images often exclude /usr/share/man).
out=$(systemd-analyze verify --man=no /lib/systemd/system/$COLL.service /lib/systemd/system/$IDX.service 2>&1)
rc=$?
check "systemd-analyze verify both units" eval '[ $rc = 0 ] && [ -z "$out" ]'
[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'

# ---- the daemons, as the packaged user ------------------------------------
if [ "$PKG_TEST_DAEMONS" = 1 ]; then
  man_lists() { # section-header
    dpkg-deb --fsys-tarfile "$CDEB" | tar -xOf - ./usr/share/man/man5/logferry.ini.5.gz | gzip -dc |
      grep -qF ".SS \"[$1]\""
  }
  check "man page logferry.ini(5) lists the indexer's options" man_lists elasticsearch
  check "man page logferry.ini(5) lists the collector's options" man_lists collector
  # Every metric the dashboard queries is registered by a daemon.
  dash_metrics_known() {
    local m name missing=0
    for m in $(grep -o 'logferry_[a-z0-9_]*' "$ROOT/packaging/grafana/logferry.json" | sort -u); do
      name=${m#logferry_}; name=${name%_bucket}; name=${name%_sum}; name=${name%_count}
      grep -rqF "\"$name\"" "$ROOT/collector" "$ROOT/indexer" "$ROOT/common" --include='*.c' ||
        { diag "dashboard queries $m, which no daemon registers"; missing=1; }
    done
    return $missing
  }
  check "grafana dashboard: every metric it queries is registered by a daemon" dash_metrics_known
  check "packaged collector.ini: --check-config as logferry exits 0" \
    quiet runuser -u logferry -- /usr/bin/$COLL -c /etc/logferry/collector.ini --check-config
  check "packaged indexer.ini: --check-config as logferry exits 0" \
    quiet runuser -u logferry -- /usr/bin/$IDX -c /etc/logferry/indexer.ini --check-config
  check "packaged rules.ini loads (--test-rules as logferry)" eval '
    echo "{\"message\": \"x\"}" | runuser -u logferry -- /usr/bin/$IDX --test-rules \
      --rules /etc/logferry/rules.ini --topic t 2>&1 | grep -q "index=logs-t-"'

  # The EXAMPLE of logferry-rules(5), as packaged, does what the page says.
  dpkg-deb --fsys-tarfile "$IDEB" | tar -xOf - ./usr/share/man/man5/logferry-rules.5.gz | gzip -dc |
    sed -n '/^\.SH EXAMPLE/,/^\.fi/p' | sed '1,2d;$d' | sed 's/\\e/\\/g; s/\\-/-/g' > "$W/example.ini"
  printf '%s\n' '203.0.113.7 - alice [25/Nov/2026:16:21:10 +0100] "GET /a?b=1 HTTP/1.1" 200 612' \
    '10.0.0.1 - - [25/Nov/2026:16:21:11 +0100] "GET /healthz HTTP/1.1" 200 2' |
    /usr/bin/$IDX --test-rules --rules "$W/example.ini" --topic nginx > "$W/example.out" 2>&1
  check "logferry-rules(5) example: access line parsed, timestamp set, health check dropped" eval '
    grep -q "^#1 index=logs-nginx-2026.11.25 " "$W/example.out" &&
    grep -q "\"status_code\":[[:space:]]*200,\?\$" "$W/example.out" &&
    grep -q "\"@timestamp\":[[:space:]]*\"2026-11-25T15:21:10.000Z\"" "$W/example.out" &&
    grep -q "^#2 dropped by rule drop-healthz" "$W/example.out"'
  check "compose indexer.ini passes --check-config" \
    quiet /usr/bin/$IDX -c "$ROOT/packaging/compose/indexer.ini" --check-config
  check "compose collector.ini passes --check-config" \
    quiet /usr/bin/$COLL -c "$ROOT/packaging/compose/collector.ini" --check-config

  # A configuration that runs here: Kafka on a port where nothing listens
  # (the collector keeps running and keeps the lines in the file), metrics
  # on a free port, one static source. $W must be readable by logferry.
  chmod 0755 "$W"; mkdir -p "$W/logs"; chmod 0755 "$W/logs"
  echo "first line" > "$W/logs/app.log"; chmod 0644 "$W/logs/app.log"
  KPORT=$(free_port); MPORT=$(free_port)
  {
    echo "[collector]"
    echo "host_name = pkgtest"
    echo "state_dir = /var/lib/logferry/collector"
    echo "[kafka]"
    echo "brokers = 127.0.0.1:$KPORT"
    echo "[http]"
    echo "listen = 127.0.0.1:$MPORT"
    echo "[source app]"
    echo "paths = $W/logs/*.log"
    echo "topic = app"
    echo "start = beginning"
  } > "$W/good.ini"
  printf '[collector]\nno_such_option = 1\n' > "$W/bad.ini"
  cp "$W/good.ini" "$W/collector.ini"
  chmod 0644 "$W/good.ini" "$W/collector.ini" "$W/bad.ini"
  out=$(runuser -u logferry -- /usr/bin/$COLL -c "$W/bad.ini" --check-config 2>&1); rc=$?
  check "--check-config of a bad file exits 1 naming file:line" eval '[ $rc = 1 ] && grep -qF "$W/bad.ini:2" <<<"$out"'
  check "--check-config of the test file exits 0" \
    quiet runuser -u logferry -- /usr/bin/$COLL -c "$W/collector.ini" --check-config

  # The SysV script reads CONFIG from /etc/default (a conffile: the purge
  # below removes it with this change).
  printf 'CONFIG="%s"\nDAEMON_ARGS=""\n' "$W/collector.ini" > /etc/default/$COLL
  INIT=/etc/init.d/$COLL PIDF=/run/$COLL.pid LOG=/var/log/logferry/collector.log
  pid_gone() { ! kill -0 "$1" 2>/dev/null; }
  # The pidfile is written for the shell that then execs the daemon.
  runs_daemon() { local p; p=$(cat "$1" 2>/dev/null) && [ "$(readlink /proc/$p/exe 2>/dev/null)" = "$2" ]; }
  check "init script start exits 0" quiet "$INIT" start
  check "pidfile names the running /usr/bin/$COLL" wait_for 10 runs_daemon "$PIDF" /usr/bin/$COLL
  pid=$(cat "$PIDF" 2>/dev/null)
  check "the process runs as logferry, adm among its groups" eval '
    [ "$(ps -o user= -p $pid)" = logferry ] && grep "^Groups:" /proc/$pid/status | grep -qw 4'
  check "it stays up while Kafka is unreachable, serving /metrics" \
    wait_for 15 eval 'curl -sf --max-time 2 http://127.0.0.1:$MPORT/metrics | grep -q "^logferry_"'
  out=$("$INIT" status 2>&1); rc=$?
  check "init script status: 0, running" eval '[ $rc = 0 ] && grep -qi running <<<"$out"'
  "$INIT" start >/dev/null 2>&1; rc=$?
  check "start again: exit 0, same pid" eval '[ $rc = 0 ] && [ "$(cat $PIDF)" = "$pid" ]'
  loglines=$(wc -l < "$LOG" 2>/dev/null || echo 0)
  check "init script reload exits 0" quiet "$INIT" reload
  check "reload: the daemon logs it and keeps running (same pid)" eval '
    wait_for 10 eval "tail -n +$((loglines + 1)) $LOG | grep -qi reload" &&
    kill -0 $pid && [ "$(cat $PIDF)" = "$pid" ]'
  cp "$W/bad.ini" "$W/collector.ini"
  "$INIT" reload >/dev/null 2>&1; rc=$?
  check "reload with a broken file: refused (exit 1), daemon untouched" eval '[ $rc = 1 ] && kill -0 $pid'
  cp "$W/good.ini" "$W/collector.ini"
  out=$(runuser -u logferry -- /usr/bin/$COLL -c "$W/collector.ini" --status 2>&1); rc=$?
  check "--status as logferry lists the file" eval '[ $rc = 0 ] && grep -qF "$W/logs/app.log" <<<"$out"'
  check "init script stop exits 0" quiet "$INIT" stop
  check "stop: process gone, pidfile removed" eval 'wait_for 70 pid_gone $pid && [ ! -e $PIDF ]'
  "$INIT" status >/dev/null 2>&1; rc=$?
  check "status after stop: 3 (not running)" test "$rc" = 3
  check "stop when stopped exits 0" quiet "$INIT" stop
  check "registry written to /var/lib/logferry/collector, owned by logferry" \
    test "$(stat -c %U /var/lib/logferry/collector/registry.json 2>/dev/null)" = logferry
  check "daemon log in /var/log/logferry, owned by logferry" test "$(stat -c %U "$LOG" 2>/dev/null)" = logferry
  # A crash leaves a stale pidfile: status says so, start still works.
  quiet "$INIT" start; wait_for 10 runs_daemon "$PIDF" /usr/bin/$COLL; pid=$(cat "$PIDF" 2>/dev/null)
  [ -n "$pid" ] && kill -KILL "$pid" && wait_for 10 pid_gone "$pid"
  "$INIT" status >/dev/null 2>&1; rc=$?
  check "after kill -9: status 1 (dead, pidfile left)" test "$rc" = 1
  "$INIT" start >/dev/null 2>&1; rc=$?
  check "start over a stale pidfile" eval '[ $rc = 0 ] && runs_daemon $PIDF /usr/bin/$COLL && [ "$(cat $PIDF)" != "$pid" ]'
  pid=$(cat "$PIDF" 2>/dev/null)
  quiet "$INIT" stop; [ -n "$pid" ] && wait_for 70 pid_gone "$pid"

  # The indexer's init script the same way: it keeps running while neither
  # Kafka nor Elasticsearch answers.
  IMPORT=$(free_port)
  {
    echo "[kafka]"
    echo "brokers = 127.0.0.1:$KPORT"
    echo "topics = app"
    echo "[elasticsearch]"
    echo "urls = http://127.0.0.1:$(free_port)"
    echo "[http]"
    echo "listen = 127.0.0.1:$IMPORT"
  } > "$W/indexer.ini"
  chmod 0644 "$W/indexer.ini"
  printf 'CONFIG="%s"\nDAEMON_ARGS=""\n' "$W/indexer.ini" > /etc/default/$IDX
  IINIT=/etc/init.d/$IDX IPIDF=/run/$IDX.pid
  check "indexer init script start exits 0" quiet "$IINIT" start
  check "indexer: pidfile names the running /usr/bin/$IDX" wait_for 10 runs_daemon "$IPIDF" /usr/bin/$IDX
  ipid=$(cat "$IPIDF" 2>/dev/null)
  check "indexer: runs as logferry, up without Kafka and Elasticsearch, serving /metrics" eval '
    [ "$(ps -o user= -p $ipid)" = logferry ] &&
    wait_for 15 eval "curl -sf --max-time 2 http://127.0.0.1:$IMPORT/metrics | grep -q ^logferry_indexer_"'
  "$IINIT" status >/dev/null 2>&1; rc=$?
  check "indexer status: 0" test "$rc" = 0
  "$IINIT" reload >/dev/null 2>&1; rc=$?
  check "indexer reload: exit 0, same pid" eval '[ $rc = 0 ] && kill -0 $ipid && [ "$(cat $IPIDF)" = "$ipid" ]'
  check "indexer init script stop exits 0" quiet "$IINIT" stop
  check "indexer stop: process gone, pidfile removed" eval 'wait_for 70 pid_gone $ipid && [ ! -e $IPIDF ]'
  "$IINIT" status >/dev/null 2>&1; rc=$?
  check "indexer status after stop: 3" test "$rc" = 3
else
  diag "daemon cases skipped (PKG_TEST_DAEMONS=0)"
fi

# ---- upgrade (the same version again): conffiles and state survive ---------
echo "; changed by the operator" >> /etc/logferry/collector.ini
touch /var/lib/logferry/collector/keep-me
dpkg_locked --force-confdef --force-confold -i "$CDEB" "$IDEB" > "$W/upgrade.log" 2>&1
check "reinstall over the installed packages (upgrade path)" test $? = 0
check "upgrade keeps a changed conffile, the state and the user's groups" eval '
  tail -n 1 /etc/logferry/collector.ini | grep -qx "; changed by the operator" &&
  [ -e /var/lib/logferry/collector/keep-me ] && id -nG logferry | tr " " "\n" | grep -qx adm'
check "upgrade started nothing (policy-rc.d)" eval '! running'

# ---- remove, then purge ----------------------------------------------------
dpkg_locked --remove $COLL $IDX > "$W/remove.log" 2>&1
check "dpkg --remove both" test $? = 0
check "remove: binaries gone; conffiles, state and user kept" eval '
  [ ! -e /usr/bin/$COLL ] && [ ! -e /usr/bin/$IDX ] &&
  [ -f /etc/logferry/collector.ini ] && [ -f /etc/logferry/rules.ini ] &&
  [ -d /var/lib/logferry/collector ] && [ -d /var/lib/logferry/indexer ] && getent passwd logferry >/dev/null'
dpkg_locked --purge $COLL $IDX > "$W/purge.log" 2>&1
check "dpkg --purge both" test $? = 0
check "purge: no dpkg state left" eval '
  ! dpkg-query -W -f="\${Status}\n" $COLL $IDX 2>/dev/null | grep -qv not-installed'
check "purge: conffiles and /etc/logferry gone" eval '
  [ ! -e /etc/logferry ] && [ ! -e /etc/default/$COLL ] && [ ! -e /etc/default/$IDX ] &&
  [ ! -e /etc/init.d/$COLL ] && [ ! -e /etc/init.d/$IDX ]'
check "purge: units, rc links and wants links gone" eval '
  [ ! -e /lib/systemd/system/$COLL.service ] && ! ls /etc/rc?.d/*logferry* >/dev/null 2>&1 &&
  [ ! -e /etc/systemd/system/multi-user.target.wants/$COLL.service ] &&
  [ ! -e /etc/systemd/system/multi-user.target.wants/$IDX.service ]'
check "purge: state and logs gone (/var/lib/logferry, /var/log/logferry)" \
  eval '[ ! -e /var/lib/logferry ] && [ ! -e /var/log/logferry ]'
check "purge keeps the logferry user (Debian policy)" quiet getent passwd logferry
check "nothing left running" eval '! running'

done_testing
