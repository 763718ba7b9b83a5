#!/usr/bin/python3
"""protosession.py: runs the example sessions printed in spsc-protocol(7).

  protosession.py PAGE FRAMES

PAGE is man/spsc-protocol.7; FRAMES is a file holding the frames the page's
EXAMPLES section names ("frame 1", "frame 2", ...).  Every request line
("> ...") of each session, one after the other, is sent as printed, with
its bodies, to the coordinator ($SPSC_COORD, else
ipc://$SPSC_HOME/coord.sock), and the reply must match the reply line
("< ...") exactly: the header word for word, a frame by its atom id, a
message by its text, and a body shown ending in "..." by its beginning.
"receipt N" is the receipt of frame N as the first GET of the session that
returned it delivered it.

Prints one line per mismatch and exits 1, or prints "N requests as
printed" and exits 0.  It needs python3-zmq (Debian's /usr/bin/python3).
"""
import os
import re
import struct
import sys

import zmq


def sessions(page):
    """Each session's lines from the page, roff escapes undone."""
    with open(page) as f:
        text = f.read()
    blocks, start = [], text.find("\n> SPSC/1 ")
    while start >= 0:
        end = text.index("\n.fi\n", start)
        block = text[start + 1:end]
        for esc, char in (("\\(aq", "'"), ("\\e", "\\"), ("\\-", "-"),
                          ("\\&", "")):
            block = block.replace(esc, char)
        blocks.append(block.splitlines())
        start = text.find("\n> SPSC/1 ", end)
    return blocks


def parse(lines):
    """[(direction, header, [body spec, ...])] from the session lines."""
    steps = []
    for line in lines:
        if line.startswith(("> ", "< ")):
            steps.append((line[0], line[2:], []))
        elif line.startswith("    [{"):
            steps[-1][2].append(line.strip()[1:].rstrip("]"))
        elif line.startswith("    ["):
            steps[-1][2].extend(re.findall(r"\[([^\]]*)\]", line))
        else:
            raise SystemExit("protosession: cannot read session line: %r" % line)
    return steps


def split_frames(data):
    frames, off = [], 0
    while off < len(data):
        hlen = struct.unpack_from("<H", data, off + 6)[0]
        stored = struct.unpack_from("<I", data, off + 40)[0]
        frames.append(data[off:off + hlen + stored])
        off += hlen + stored
    return frames


def connect():
    url = os.environ.get("SPSC_COORD") or \
        "ipc://%s/coord.sock" % os.environ["SPSC_HOME"]
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 10000)
    sock.connect(url)
    return sock


def body_part(spec, frames, receipts):
    kind, _, num = spec.partition(" ")
    if kind == "frame":
        return frames[int(num) - 1]
    if kind == "receipt":
        return receipts[int(num) - 1]
    raise SystemExit("protosession: unknown body %r" % spec)


def body_matches(spec, got, frames):
    if spec.startswith("frame "):
        want = frames[int(spec.split()[1]) - 1]
        return got[8:24] == want[8:24]
    text = got.decode(errors="replace")
    if spec.endswith("...}") or spec.endswith("..."):
        return text.startswith(spec[:spec.rindex("...")])
    return text == spec


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    with open(argv[2], "rb") as f:
        frames = split_frames(f.read())
    sock = connect()
    failures = requests = 0
    for lines in sessions(argv[1]):
        f, n = run_session(sock, parse(lines), frames)
        failures += f
        requests += n
    if failures:
        sys.exit(1)
    print("%d requests as printed" % requests)


def run_session(sock, steps, frames):
    """(mismatches, requests) of one session."""
    receipts = [None] * len(frames)
    failures = requests = 0
    for i in range(0, len(steps), 2):
        (d1, request, bodies), (d2, reply, want) = steps[i], steps[i + 1]
        if d1 != ">" or d2 != "<":
            sys.exit("protosession: the session must alternate > and <")
        sock.send_multipart([request.encode()] +
                            [body_part(b, frames, receipts) for b in bodies])
        got = sock.recv_multipart()
        requests += 1
        for part in got[1:]:
            for k, frame in enumerate(frames):
                if receipts[k] is None and part[8:24] == frame[8:24] and len(part) == len(frame):
                    receipts[k] = part[8:24] + part[36:40]
        if got[0].decode() != reply:
            print("%s\n  printed: %s\n  got:     %s" % (request, reply, got[0].decode()))
            failures += 1
        if len(got) - 1 != len(want) or not all(
                body_matches(w, g, frames) for w, g in zip(want, got[1:])):
            print("%s\n  printed bodies: %s\n  got: %s" %
                  (request, want, [g[:70] for g in got[1:]]))
            failures += 1
    return failures, requests


if __name__ == "__main__":
    main(sys.argv)
