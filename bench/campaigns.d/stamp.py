#!/usr/bin/env python3
"""stamp.py: when each result of bench/campaigns reaches the sink.

  stamp.py read FIFO... > STAMPED
      Reads the sinks' outputs (one or more FIFOs) as they come and writes
      each result line prefixed by the wall-clock time it was read, in
      milliseconds: "ARRIVAL_MS<TAB>CAMPAIGN<TAB>START<TAB>END<TAB>COUNT".

  stamp.py delays --until MS STAMPED
      The delay of each result, from its window's END to its arrival, for
      the windows whose END is at most MS (those that closed while events
      were flowing, not at the end of the input); prints
      "RESULTS P50_MS P99_MS MAX_MS" (0 0 0 0 with no result).
"""
import calendar
import os
import selectors
import sys
import time


def read(paths):
    sel = selectors.DefaultSelector()
    # Opening a FIFO for reading waits for its writer: the sinks are
    # started after this script, so each open returns once its sink runs.
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        sel.register(fd, selectors.EVENT_READ, bytearray())
    out = sys.stdout.buffer
    while sel.get_map():
        for key, _ in sel.select():
            chunk = os.read(key.fd, 1 << 16)
            now = b"%d\t" % int(time.time() * 1000)
            pending = key.data
            if not chunk:
                sel.unregister(key.fd)
                os.close(key.fd)
                continue
            pending += chunk
            while True:
                nl = pending.find(b"\n")
                if nl < 0:
                    break
                out.write(now + pending[:nl + 1])
                del pending[:nl + 1]
        out.flush()


def rfc3339_ms(text):
    """2026-11-30T21:44:10Z or 2026-11-30T21:44:10.250Z -> epoch ms."""
    frac = 0
    if "." in text:
        text, f = text.rstrip("Z").split(".")
        frac = int((f + "000")[:3])
        text += "Z"
    t = time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return calendar.timegm(t) * 1000 + frac


def percentile(sorted_values, p):
    """Nearest rank."""
    k = max(0, min(len(sorted_values) - 1,
                   int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def delays(args):
    until = int(args[args.index("--until") + 1])
    path = args[-1]
    ds = []
    with open(path) as f:
        for line in f:
            arrival, _campaign, _start, end = line.split("\t")[:4]
            end_ms = rfc3339_ms(end)
            if end_ms <= until:
                ds.append(int(arrival) - end_ms)
    ds.sort()
    if not ds:
        print("0 0 0 0")
    else:
        print(len(ds), percentile(ds, 50), percentile(ds, 99), ds[-1])


def main(argv):
    if len(argv) >= 3 and argv[1] == "read":
        read(argv[2:])
    elif len(argv) == 5 and argv[1] == "delays":
        delays(argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
