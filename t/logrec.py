#!/usr/bin/env python3
"""logrec.py: where the records of a log segment are, for tests that damage
them on purpose.  Prints "OFFSET LENGTH TYPE QUEUE" per intact record, by
the layout in spsc-protocol(7); stops at the first record that is not (or
that names another segment).

  logrec.py SEGMENT
"""
import struct
import sys

TYPES = {1: "PUT", 2: "ACK", 3: "RECV", 4: "PURGE", 5: "MOVE"}


def main(path):
    with open(path, "rb") as f:
        data = f.read()
    head = 16 if data[:8] == b"SPSCLOG3" else 12
    off = 16
    while off + head <= len(data):
        length = struct.unpack_from("<I", data, off)[0]
        rtype, qlen = data[off + 8], data[off + 9]
        if length < head + qlen or off + length > len(data) or rtype not in TYPES:
            break
        if head == 16 and data[off + 12:off + 16] != data[8:12]:
            break  # a record of the file's earlier life: the end
        queue = data[off + head:off + head + qlen].decode(errors="replace")
        print(off, length, TYPES[rtype], queue)
        off += length


if __name__ == "__main__":
    main(sys.argv[1])
