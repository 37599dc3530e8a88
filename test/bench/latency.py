#!/usr/bin/python3
"""Latencies from two arrival curves (bench-mon / gen-nginx --curve).

  latency.py WRITE_CURVE SEEN_CURVE [SEEN_OFFSET]

Each curve has lines "EPOCH_NS CUMULATIVE_COUNT". Line k (1-based) was
written at the first write-curve time whose count reaches k, and seen at the
first seen-curve time whose count reaches k + SEEN_OFFSET (records seen
before the writes started, e.g. a warm-up line). The pipeline keeps a file's
lines in order (one partition), so the k-th record seen is the k-th line
written. Prints "P50_MS P99_MS MAX_MS SEEN WRITTEN"; lines never seen make
MAX_MS "inf".
"""
import bisect
import sys


def load(path):
    ts, cs = [], []
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 2:
                ts.append(int(float(p[0])))
                cs.append(int(p[1]))
    return ts, cs


def main():
    wt, wc = load(sys.argv[1])
    st, sc = load(sys.argv[2])
    off = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    written = wc[-1] if wc else 0
    seen = (sc[-1] - off) if sc else 0
    lats = []
    missing = 0
    for k in range(1, written + 1):
        i = bisect.bisect_left(wc, k)
        j = bisect.bisect_left(sc, k + off)
        if j >= len(sc):
            missing += 1
            continue
        lats.append((st[j] - wt[i]) / 1e6)
    if not lats:
        print("nan nan nan %d %d" % (seen, written))
        return
    lats.sort()
    p = lambda q: lats[min(len(lats) - 1, int(q * len(lats)))]
    mx = "inf" if missing else "%.1f" % lats[-1]
    print("%.1f %.1f %s %d %d" % (p(0.50), p(0.99), mx, seen, written))


if __name__ == "__main__":
    main()
