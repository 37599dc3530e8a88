#!/bin/bash
# e2e: the indexer's passes over a batch (its body streamed to curl, its
# answer read) prefetch the items ahead, in the object code as built.
# GCC 12 at -O2 once removed __builtin_prefetch there as dead code and
# nothing failed: each item then cost a cache miss (bulk_batch_pop was 6 %
# of the no-rules run; 7 % less CPU with it back). common/prefetch.h.
. "$(dirname "$0")/../lib/common.sh"
IX="$BIN/logferry-indexer"

[ -x "$IX" ] || { not_ok "logferry-indexer built ($IX)"; done_testing; }
case "$(uname -m)" in
  x86_64|i?86) ;;
  *) ok "# SKIP prefetch check: x86 only ($(uname -m))"; done_testing ;;
esac
command -v objdump > /dev/null || { not_ok "objdump (binutils) installed"; done_testing; }
# the instructions of function $1 in the indexer
code_of() {
  objdump -d --no-show-raw-insn "$IX" | awk -v f="<$1>:" '$2 == f { on = 1; next } on && /^$/ { exit } on'
}
for f in bulk_batch_pop body_read; do
  n=$(code_of "$f" | wc -l)
  check "$f is in the binary ($n instructions)" [ "$n" -gt 5 ]
  check "$f prefetches the items ahead" eval 'code_of "$f" | grep -q prefetch'
done
# the item pool asks for the next free block of a class before it is
# written (pop, or item_pool_get where the compiler put pop)
check "the item pool prefetches the next free block" \
  eval '{ code_of pop; code_of item_pool_get; } | grep -q prefetch'
done_testing
