#!/usr/bin/python3
"""partition.py: spsc-shuffle's partition function, written from
spsc-shuffle(1) alone, as a producer in Python would write it.

  partition.py N KEY...      print "KEY<TAB>PARTITION" for each KEY
  partition.py N -           the same for each line of stdin

It needs Debian's python3-xxhash.
"""
import sys

import xxhash


def jump(key, n):
    """Jump consistent hash (Lamping and Veach, 2014)."""
    b, j = -1, 0
    while j < n:
        b = j
        key = (key * 2862933555777941757 + 1) & 0xFFFFFFFFFFFFFFFF
        j = int((b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return b


def partition(key, n):
    return jump(xxhash.xxh3_64_intdigest(key), n)


def main(argv):
    n = int(argv[1])
    keys = argv[2:]
    if keys == ["-"]:
        keys = [line.rstrip("\n") for line in sys.stdin]
    for k in keys:
        print("%s\t%d" % (k, partition(k.encode(), n)))


if __name__ == "__main__":
    main(sys.argv)
