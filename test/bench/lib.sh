# Figures for test/bench/run.sh: statistics, formatting, the results table.
# shellcheck shell=bash
# Source after test/lib/common.sh.
#
#   stats V...          prints "MEDIAN MIN MAX" of the numbers (- - - if none)
#   calc EXPR           prints the value of an awk expression
#   fig SECTION LABEL UNIT "OURS..." "BASE..." BASENAME TARGET
#       one figure: median [min–max] of ours and of the baseline, their
#       ratio, and the target: "" (none), "ratio>=X", "<=X" or ">=X" (on
#       our median), or "x<=X" (ratio to the baseline, lower is better).
#       OURS empty = not measured: give the reason in BENCH_WHY.
#       Prints a line and appends a markdown row to $ROWS.
#   note TEXT           a line under the table in RESULTS.md (and printed)

ROWS=${ROWS:-$T/rows.md}
NOTES=${NOTES:-$T/notes.md}
: > "$ROWS"; : > "$NOTES"
BENCH_WHY=""

stats() {
  printf '%s\n' "$@" | awk 'NF && $1 != "-" { a[++n] = $1 + 0 }
    END {
      if (!n) { print "- - -"; exit }
      # insertion sort: a handful of runs
      for (i = 2; i <= n; i++) { v = a[i]; for (j = i - 1; j >= 1 && a[j] > v; j--) a[j + 1] = a[j]; a[j + 1] = v }
      m = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      print m, a[1], a[n]
    }'
}

calc() { awk "BEGIN { printf \"%.6g\n\", $1 }"; }

# A number for people: 3 significant digits, thousands separated.
num() {
  awk -v v="$1" 'BEGIN {
    if (v == "-" || v == "") { print "-"; exit }
    a = v < 0 ? -v : v
    if (a >= 1000) { s = sprintf("%.0f", v); r = "";
      n = length(s); for (i = 1; i <= n; i++) { r = r substr(s, i, 1); if ((n - i) % 3 == 0 && i < n && substr(s, i, 1) != "-") r = r "," }
      print r }
    else if (a >= 100) printf "%.0f\n", v
    else if (a >= 10) printf "%.1f\n", v
    else if (a >= 1) printf "%.2f\n", v
    else printf "%.3g\n", v
  }'
}

_spread() { # "MED MIN MAX" → "MED [MIN–MAX]"
  local m lo hi; read -r m lo hi <<< "$1"
  [ "$m" = - ] && { echo "-"; return; }
  if [ "$lo" = "$hi" ]; then echo "$(num "$m")"; else echo "$(num "$m") [$(num "$lo")–$(num "$hi")]"; fi
}

fig() {
  local sec=$1 label=$2 unit=$3 ours=$4 base=$5 bname=$6 target=$7
  local so sb mo mb ratio="-" met="" o b
  # shellcheck disable=SC2086
  so=$(stats $ours); sb=$(stats $base)
  mo=${so%% *}; mb=${sb%% *}
  if [ "$mo" != - ] && [ "$mb" != - ] && [ "$(calc "$mb != 0")" = 1 ]; then
    ratio=$(awk -v a="$mo" -v b="$mb" 'BEGIN { printf "%.2f", a / b }')
  fi
  if [ "$mo" = - ]; then
    o="not measured${BENCH_WHY:+: $BENCH_WHY}"
    [ -n "$target" ] && met="not measured"
  else
    o="$(_spread "$so") $unit"
    case $target in
      "") met="" ;;
      ratio\>=*) [ "$ratio" = - ] && met="?" || met=$(awk -v r="$ratio" -v t="${target#ratio>=}" 'BEGIN { print (r >= t) ? "met" : "MISSED" }') ;;
      x\<=*) [ "$ratio" = - ] && met="?" || met=$(awk -v r="$ratio" -v t="${target#x<=}" 'BEGIN { print (r <= t) ? "met" : "MISSED" }') ;;
      \<=*) met=$(awk -v m="$mo" -v t="${target#<=}" 'BEGIN { print (m <= t) ? "met" : "MISSED" }') ;;
      \>=*) met=$(awk -v m="$mo" -v t="${target#>=}" 'BEGIN { print (m >= t) ? "met" : "MISSED" }') ;;
    esac
  fi
  if [ "$mb" = - ]; then b="-"; else b="$(_spread "$sb") $unit"; fi
  local bcell="$bname: $b"; [ "$b" = - ] && bcell="-"

  local tshow=${target/ratio>=/≥ }; tshow=${tshow/x<=/≤ }; tshow=${tshow/<=/≤ }; tshow=${tshow/>=/≥ }
  case $target in ratio*|x*) tshow="$tshow×" ;; "") ;; *) tshow="$tshow $unit" ;; esac
  printf '%-4s %-44s %-34s %-12s %-28s %-6s %s %s\n' "$sec" "$label" "$o" "$bname" "$b" "$ratio" "$tshow" "$met"
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$sec" "$label" "$o" "$bcell" "$ratio" \
    "${tshow:--}" "${met:--}" >> "$ROWS"
}

note() { echo "# $*"; echo "- $*" >> "$NOTES"; }
