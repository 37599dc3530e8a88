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
passed=0; failed=0; failures=()

run_one() { # kind name cmd...
  local kind=$1 name=$2; shift 2
  local log="$logdir/$kind-$name.log" start=$SECONDS
  "$@" > "$log" 2>&1 < /dev/null
  local rc=$? p f
  p=$(grep -cE '^ok [0-9]+' "$log"); f=$(grep -cE '^not ok [0-9]+' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  printf '%-5s %-40s %4d passed %3d failed %4ds\n' "$kind" "$name" "$p" "$f" $((SECONDS - start))
  if [ "$f" -gt 0 ]; then
    failures+=("$log")
    grep -E '^not ok' "$log" | sed 's/^/      /'
    echo "      --- last lines of $log:"; tail -n 25 "$log" | sed 's/^/      | /'
  fi
}

if [ "$mode" != e2e ]; then
  for t in "${UNIT_DIR:-build/san/test/unit}"/test_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t"); [ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
    run_one unit "$n" "$t"
  done
fi
if [ "$mode" != unit ]; then
  for t in test/e2e/*.sh; do
    [ -f "$t" ] || continue
    n=$(basename "$t" .sh); [ -n "$filter" ] && [[ "$n" != *"$filter"* ]] && continue
    run_one e2e "$n" timeout -k 10 900 bash "$t"
  done
fi
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
