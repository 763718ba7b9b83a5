#!/usr/bin/env python3
"""logrec.py: where the records of a log segment are, for tests that damage
them on purpose.  Prints "OFFSET LENGTH TYPE QUEUE" per intact record, by
the layout in spsc-protocol(7); stops at the first record that is not.

  logrec.py SEGMENT
"""
import struct
import sys

TYPES = {1: "PUT", 2: "ACK", 3: "RECV", 4: "PURGE", 5: "MOVE"}


def main(path):
    with open(path, "rb") as f:
        data = f.read()
    off = 16
    while off + 12 <= len(data):
        length = struct.unpack_from("<I", data, off)[0]
        rtype, qlen = data[off + 8], data[off + 9]
        if length < 12 + qlen or off + length > len(data) or rtype not in TYPES:
            break
        queue = data[off + 12:off + 12 + qlen].decode(errors="replace")
        print(off, length, TYPES[rtype], queue)
        off += length


if __name__ == "__main__":
    main(sys.argv[1])
