#!/usr/bin/python3
"""Checks what the collector put into Kafka against the lines written.

  collector_verify.py GOT EXPECTED... [--order] [--allow-extra-prefix P]

GOT: kcat output, one record per line, formatted '%p\\t%o\\t%k\\t%s\\n'
(partition, offset, key, JSON value). EXPECTED: files whose lines (split on
\\n, a last line without newline included) must each arrive. Checks:
  - every value is JSON with message, event.id, log.offset, log.file.path;
  - every expected line arrived (none missing), nothing else arrived;
  - a line that arrived more than once always carries the same event id,
    and one event id never carries two different lines;
  - --order: per key, records in partition order have increasing log.offset,
    and one key lives in one partition.
Prints one summary line; exit status 0 iff all checks pass."""
import json
import sys
from collections import defaultdict


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    order = "--order" in sys.argv
    got_path, expected_paths = args[0], args[1:]
    expected = set()
    for p in expected_paths:
        with open(p, "rb") as f:
            data = f.read()
        lines = data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        for ln in lines:
            expected.add(ln.decode("utf-8", "replace"))
    ids_of = defaultdict(set)
    msg_of = {}
    per_key = defaultdict(list)
    parts_of = defaultdict(set)
    bad = 0
    n = 0
    with open(got_path, "rb") as f:
        for raw in f:
            raw = raw.rstrip(b"\n")
            if not raw:
                continue
            try:
                p, o, k, v = raw.split(b"\t", 3)
                rec = json.loads(v)
                msg = rec["message"]
                eid = rec["event"]["id"]
                off = rec["log"]["offset"]
            except Exception as e:  # noqa
                bad += 1
                if bad < 5:
                    print("# bad record: %r (%s)" % (raw[:200], e))
                continue
            n += 1
            ids_of[msg].add(eid)
            if eid in msg_of and msg_of[eid] != msg:
                print("# event id %s carries two lines: %r / %r" % (eid, msg_of[eid][:80], msg[:80]))
                bad += 1
            msg_of[eid] = msg
            per_key[k].append((int(p), int(o), off))
            parts_of[k].add(int(p))
    got = set(ids_of)
    missing = expected - got
    extra = got - expected
    conflicts = [m for m, ids in ids_of.items() if len(ids) > 1]
    order_err = 0
    if order:
        for k, recs in per_key.items():
            if len(parts_of[k]) != 1:
                order_err += 1
                continue
            recs.sort()
            offs = [r[2] for r in recs]
            if any(b <= a for a, b in zip(offs, offs[1:])):
                order_err += 1
    print("records=%d distinct_lines=%d expected=%d missing=%d unexpected=%d "
          "id_conflicts=%d order_errors=%d bad=%d" % (n, len(got), len(expected), len(missing),
                                                      len(extra), len(conflicts), order_err, bad))
    for m in sorted(missing)[:5]:
        print("# missing: %r" % m[:120])
    for m in sorted(extra)[:5]:
        print("# unexpected: %r" % m[:120])
    for m in conflicts[:5]:
        print("# line with several event ids: %r %s" % (m[:80], sorted(ids_of[m])))
    ok = not missing and not extra and not conflicts and not order_err and not bad
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
