#!/bin/bash
# Runs the unit test programs (built under ASan+UBSan into build/san) and the
# e2e scenarios (test/e2e/*.sh), counts TAP-style "ok"/"not ok" lines, and
# ends with one line: "check: N passed, N failed".
#   test/run-check.sh [--unit-only|--e2e-only] [NAME-FILTER]
# Each program/script prints "ok N - name" / "not ok N - name" per case
# (cmocka with CMOCKA_MESSAGE_OUTPUT=TAP, test/lib/common.sh for e2e). A
# program that exits non-zero without reporting a failure counts as one.
set -u
cd "$(dirname "$0")/.."
mode=all; filter=""
for a in "$@"; do
  case "$a" in
    --unit-only) mode=unit ;; --e2e-only) mode=e2e ;; *) filter="$a" ;;
  esac
done
logdir=build/check-logs; rm -rf "$logdir"; mkdir -p "$logdir"
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
passed=0; failed=0

# run_one KIND NAME CMD...: runs a program, its log in $logdir; writes the
# status next to it. tally KIND NAME: counts and prints one result line.
run_one() {
  local kind=$1 name=$2; shift 2
  local log="$logdir/$kind-$name.log" start=$SECONDS
  "$@" > "$log" 2>&1 < /dev/null
  echo "$? $((SECONDS - start))" > "$log.status"
}
tally() {
  local kind=$1 name=$2 log="$logdir/$1-$2.log" rc secs p f
  read -r rc secs < "$log.status"
  p=$(grep -cE '^ok [0-9]+' "$log"); f=$(grep -cE '^not ok [0-9]+' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  printf '%-5s %-40s %4d passed %3d failed %4ds\n' "$kind" "$name" "$p" "$f" "$secs"
  if [ "$f" -gt 0 ]; then
    grep -E '^not ok' "$log" | sed 's/^/      /'
    echo "      --- last lines of $log:"; tail -n 25 "$log" | sed 's/^/      | /'
  fi
}

if [ "$mode" != e2e ]; then
  for t in "${UNIT_DIR:-build/san/test/unit}"/test_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t"); [ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
    run_one unit "$n" "$t"; tally unit "$n"
  done
fi
# e2e scenarios mostly wait on peers (group joins, outages), so CHECK_JOBS
# (default 2) of them run at once; each uses its own ports and temp dir.
# Scenarios that change the machine (packaging installs .debs) or keep
# both cores busy (valgrind_daemons) run alone.
if [ "$mode" != unit ]; then
  jobs_max=${CHECK_JOBS:-2}; running=0; names=(); alone=()
  for t in test/e2e/*.sh; do
    [ -f "$t" ] || continue
    n=$(basename "$t" .sh); [ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
    if grep -q '^# check: alone' "$t"; then alone+=("$n"); continue; fi
    names+=("$n")
    run_one e2e "$n" timeout -k 10 900 bash "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs_max" ]; then wait -n; running=$((running - 1)); fi
  done
  wait
  for n in "${alone[@]}"; do run_one e2e "$n" timeout -k 10 900 bash "test/e2e/$n.sh"; names+=("$n"); done
  for n in "${names[@]}"; do tally e2e "$n"; done
fi
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
