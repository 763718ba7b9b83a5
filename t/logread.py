#!/usr/bin/env python3
"""logread.py: a reader of spsc-coord's log, written from spsc-protocol(7).

It follows the page's STORAGE section alone (segments, records, the reading
loop and the replay rules) to prove the page is enough to inspect a log
without the coordinator.  The CRC32C comes from atomread.py, itself written
from spsc-atom(5).

  logread.py DIR             the atoms the coordinator would serve after a
                             restart, in queue order: "QUEUE ID DELIVERIES EVENTS"
  logread.py --records DIR   every record: "SEQ OFFSET TYPE QUEUE DETAIL"

DIR is the log directory ($SPSC_HOME/log).  Segments "SPSCLOG3" (16-byte
record heads that name the segment), "SPSCLOG2" (12-byte heads with the
mark 5C A7) and "SPSCLOG1" (mark 00 00) are all read.  Bytes that are not
a whole, intact record are a damaged run: it is reported on stderr as
"logread: PATH: byte OFFSET: REASON", and reading goes on at the next
offset where the mark is present and an intact record begins.  In a
"SPSCLOG3" segment, an intact record that names another segment is left
from the file's earlier life: the segment's records end there.  A bad
segment header is a damaged run at byte 0, after which the segment is
read as a "SPSCLOG3" one; a file shorter than a segment header is
reported as damage only when a later segment holds records.  Damage is
not an error: the exit status is 0 unless DIR cannot be read.
"""

import os
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atomread import crc32c  # noqa: E402

# magic: (record mark, record head length)
FORMATS = {b"SPSCLOG3": (b"\x5c\xa7", 16), b"SPSCLOG2": (b"\x5c\xa7", 12),
           b"SPSCLOG1": (b"\x00\x00", 12)}
SEGMENT_HEAD = 16
EARLIER = "a record of the file's earlier life"
TYPES = {1: "PUT", 2: "ACK", 3: "RECV", 4: "PURGE", 5: "MOVE"}
REASONS = {0: "consumed", 1: "dead-lettered", 2: "expired", 3: "corrupt",
           4: "redriven"}


def segments(directory):
    """Segment files in ascending order of their 20-digit number."""
    names = [n for n in os.listdir(directory)
             if len(n) == 24 and n.endswith(".seg") and n[:20].isdigit()]
    return sorted(names, key=lambda n: int(n[:20]))


class Segment:
    """How to read one segment's records: its format and its number."""
    def __init__(self, data, seq):
        self.mark, self.head = FORMATS.get(data[:8], FORMATS[b"SPSCLOG3"])
        self.v3 = data[:8] not in (b"SPSCLOG2", b"SPSCLOG1")
        self.seq = seq


def check(data, o, seg):
    """Why the bytes at o are not a whole, intact record of this segment
    (EARLIER for one of the file's earlier life), or None."""
    left = len(data) - o
    if left < seg.head:
        return "torn record head (%d bytes)" % left
    length, crc = struct.unpack_from("<II", data, o)
    if data[o + 10:o + 12] != seg.mark:
        return "no record mark"
    if length < seg.head or length > left:
        return "record length %d runs past the end (%d bytes left)" % (length, left)
    if crc32c(data[o + 8:o + length]) != crc:
        return "record CRC mismatch"
    rtype, qlen = data[o + 8], data[o + 9]
    if qlen == 0 or qlen > 200 or seg.head + qlen > length or rtype not in TYPES:
        return "malformed record (type %d)" % rtype
    if seg.v3 and struct.unpack_from("<I", data, o + 12)[0] != seg.seq & 0xFFFFFFFF:
        return EARLIER
    return None


def resync(data, off, seg):
    """The next offset after off where the mark is present and an intact
    record begins (of this segment or of an earlier life); the size of the
    segment if there is none."""
    at = off + 1
    while at + seg.head <= len(data):
        at = data.find(seg.mark, at + 10)  # the mark is at bytes 10 and 11
        if at < 0:
            break
        at -= 10
        if at + seg.head > len(data):
            break
        if check(data, at, seg) in (None, EARLIER):
            return at
        at += 1
    return len(data)


def damage(path, off, why):
    print("logread: %s: byte %d: %s" % (path, off, why), file=sys.stderr)


def records(path, data, seq):
    """Yields (offset, type, queue, body) for each intact record, reporting
    each damaged run and going on after it."""
    if len(data) < SEGMENT_HEAD:
        return
    seg = Segment(data, seq)
    if data[:8] not in FORMATS or (seg.v3 and struct.unpack_from("<Q", data, 8)[0] != seq):
        damage(path, 0, "bad segment header")
    off = SEGMENT_HEAD
    while off < len(data):
        why = check(data, off, seg)
        if why == EARLIER:
            return
        if why:
            damage(path, off, why)
            off = resync(data, off, seg)
            continue
        length = struct.unpack_from("<I", data, off)[0]
        rtype, qlen = data[off + 8], data[off + 9]
        queue = data[off + seg.head:off + seg.head + qlen].decode(errors="replace")
        yield off, rtype, queue, data[off + seg.head + qlen:off + length]
        off += length


def holds_records(data, seq):
    """Does the segment begin with anything but the end of its records?"""
    return len(data) > SEGMENT_HEAD and check(data, SEGMENT_HEAD, Segment(data, seq)) != EARLIER


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


def reason(body):
    """An ACK's reason: its 17th byte, 0 (consumed) for a 16-byte ACK."""
    return body[16] if len(body) > 16 else 0


def replay(queues, rtype, queue, body):
    """Applies one record, by the rules of spsc-protocol(7), STORAGE."""
    q = queues.setdefault(queue, {})  # id -> Atom, in the order queued
    if rtype in (1, 5):
        frame = body if rtype == 1 else body[4:]
        fields = frame_fields(frame)
        if fields and fields[0] not in q:
            q[fields[0]] = atom = Atom(*fields)
            if rtype == 5 and len(body) >= 4:
                atom.deliveries = struct.unpack_from("<I", body, 0)[0]
    elif rtype == 2:
        q.pop(body[:16], None)
    elif rtype == 3:
        atom = q.get(body[:16])
        if atom and len(body) >= 20:
            atom.deliveries = max(atom.deliveries, struct.unpack_from("<I", body, 16)[0])
    elif rtype == 4:
        q.clear()


def detail(rtype, body):
    if rtype in (1, 5):
        frame = body if rtype == 1 else body[4:]
        fields = frame_fields(frame)
        text = "%s events=%d bytes=%d" % (fields[0].hex(), fields[1], len(frame)) if fields else "unreadable frame"
        if rtype == 5:
            text += " delivery=%d" % (struct.unpack_from("<I", body, 0)[0] if len(body) >= 4 else 0)
        return text
    if rtype == 2:
        return "%s %s" % (body[:16].hex(), REASONS.get(reason(body), "reason=%d" % reason(body)))
    if rtype == 3:
        return "%s delivery=%d" % (body[:16].hex(), struct.unpack_from("<I", body, 16)[0])
    return ""


def main(argv):
    show_records = "--records" in argv
    args = [a for a in argv[1:] if a != "--records"]
    if len(args) != 1:
        sys.exit(__doc__)
    queues = {}
    try:
        names = segments(args[0])
        files = []
        for name in names:
            with open(os.path.join(args[0], name), "rb") as f:
                files.append((name, f.read()))
    except OSError as e:
        sys.exit("logread: %s" % e)
    for i, (name, data) in enumerate(files):
        path = os.path.join(args[0], name)
        if len(data) < SEGMENT_HEAD and any(holds_records(d, int(n[:20])) for n, d in files[i + 1:]):
            damage(path, 0, "%d bytes, shorter than a segment header" % len(data))
        for off, rtype, queue, body in records(path, data, int(name[:20])):
            if show_records:
                print(int(name[:20]), off, TYPES[rtype], queue, detail(rtype, body))
            replay(queues, rtype, queue, body)
    if not show_records:
        for queue in sorted(queues):
            for atom in queues[queue].values():
                print(queue, atom.ident.hex(), atom.deliveries, atom.events)


if __name__ == "__main__":
    main(sys.argv)
