#!/usr/bin/env python3
"""logread.py: a reader of spsc-coord's log, written from spsc-protocol(7).

It follows the page's STORAGE section alone (segments, records, the reading
loop and the replay rules) to prove the page is enough to inspect a log
without the coordinator.  The CRC32C comes from atomread.py, itself written
from spsc-atom(5).

  logread.py DIR             the atoms the coordinator would serve after a
                             restart, in queue order: "QUEUE ID DELIVERIES EVENTS"
  logread.py --records DIR   every record: "SEQ OFFSET TYPE QUEUE DETAIL"

DIR is the log directory ($SPSC_HOME/log).  A torn or corrupt record ends its
segment, as it does for the coordinator, and is reported on stderr as
"logread: PATH: byte OFFSET: REASON"; reading goes on with the next segment.
A file that is not a segment is an error (exit 1).
"""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atomread import crc32c  # noqa: E402

MAGIC = b"SPSCLOG1"
SEGMENT_HEAD = 16
RECORD_HEAD = 12
TYPES = {1: "PUT", 2: "ACK", 3: "RECV", 4: "PURGE"}


def segments(directory):
    """Segment files in ascending order of their 20-digit number."""
    names = [n for n in os.listdir(directory)
             if len(n) == 24 and n.endswith(".seg") and n[:20].isdigit()]
    return sorted(names, key=lambda n: int(n[:20]))


def records(path):
    """Yields (offset, type, queue, body) for each good record; stops at
    the first bad one, reporting it."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < SEGMENT_HEAD:
        return
    if data[:8] != MAGIC:
        sys.exit("logread: %s: not a segment file" % path)
    off = SEGMENT_HEAD
    while off < len(data):
        left = len(data) - off
        why = None
        if left < RECORD_HEAD:
            why = "torn record head (%d bytes)" % left
        else:
            length, crc = struct.unpack_from("<II", data, off)
            if length < RECORD_HEAD or length > left:
                why = "record length %d runs past the end (%d bytes left)" % (length, left)
            elif crc32c(data[off + 8:off + length]) != crc:
                why = "record CRC mismatch"
            else:
                rtype, qlen = data[off + 8], data[off + 9]
                if RECORD_HEAD + qlen > length or rtype not in TYPES:
                    why = "malformed record (type %d)" % rtype
        if why:
            print("logread: %s: byte %d: %s" % (path, off, why), file=sys.stderr)
            return
        queue = data[off + 12:off + 12 + qlen].decode()
        yield off, rtype, queue, data[off + 12 + qlen:off + length]
        off += length


class Atom:
    def __init__(self, ident, events):
        self.ident = ident
        self.events = events
        self.deliveries = 0


def frame_fields(frame):
    """The id and event count of an atom frame, or None if its header
    cannot be read."""
    if len(frame) < 64 or frame[:4] != b"SPSC":
        return None
    hlen = struct.unpack_from("<H", frame, 6)[0]
    if hlen < 64 or hlen > len(frame):
        return None
    if crc32c(frame[:hlen - 4]) != struct.unpack_from("<I", frame, hlen - 4)[0]:
        return None
    return frame[8:24], struct.unpack_from("<I", frame, 32)[0]


def replay(queues, rtype, queue, body):
    """Applies one record, by the rules of spsc-protocol(7), STORAGE."""
    q = queues.setdefault(queue, {})  # id -> Atom, in PUT order
    if rtype == 1:
        fields = frame_fields(body)
        if fields and fields[0] not in q:
            q[fields[0]] = Atom(*fields)
    elif rtype == 2:
        q.pop(body[:16], None)
    elif rtype == 3:
        atom = q.get(body[:16])
        if atom and len(body) >= 20:
            atom.deliveries = max(atom.deliveries, struct.unpack_from("<I", body, 16)[0])
    elif rtype == 4:
        q.clear()


def detail(rtype, body):
    if rtype == 1:
        fields = frame_fields(body)
        return "%s events=%d bytes=%d" % (fields[0].hex(), fields[1], len(body)) if fields else "unreadable frame"
    if rtype == 2:
        return body[:16].hex()
    if rtype == 3:
        return "%s delivery=%d" % (body[:16].hex(), struct.unpack_from("<I", body, 16)[0])
    return ""


def main(argv):
    show_records = "--records" in argv
    args = [a for a in argv[1:] if a != "--records"]
    if len(args) != 1:
        sys.exit(__doc__)
    queues = {}
    for name in segments(args[0]):
        path = os.path.join(args[0], name)
        for off, rtype, queue, body in records(path):
            if show_records:
                print(int(name[:20]), off, TYPES[rtype], queue, detail(rtype, body))
            replay(queues, rtype, queue, body)
    if not show_records:
        for queue in sorted(queues):
            for atom in queues[queue].values():
                print(queue, atom.ident.hex(), atom.deliveries, atom.events)


if __name__ == "__main__":
    main(sys.argv)
