#!/usr/bin/python3
"""qtool.py: a test client that speaks spsc-protocol(7) by hand.

The tests use it to drive the coordinator where the spsc programs would
hide the details (hold a lease without acking it, touch, nack, send
malformed messages).  It needs python3-zmq (Debian's /usr/bin/python3).

  qtool.py get QUEUE [MAX] [VIS_MS] [WAIT_MS]   print "ID DELIVERY EVENTS [fail=K]"
                                per atom (K: the failure kind, if any)
  qtool.py ack|nack|touch QUEUE ID DELIVERY [MS]
  qtool.py raw PART...          send parts as given ("hex:..." for bytes,
                                "rand:N" for N random bytes, "big:N" for N
                                bytes); print the reply header and parts
The coordinator is $SPSC_COORD, else ipc://$SPSC_HOME/coord.sock.
"""
import os
import struct
import sys

import zmq


def url():
    if os.environ.get("SPSC_COORD"):
        return os.environ["SPSC_COORD"]
    return "ipc://%s/coord.sock" % os.environ["SPSC_HOME"]


def connect():
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, 10000)
    sock.connect(url())
    return sock


def call(sock, header, parts=()):
    sock.send_multipart([header.encode()] + list(parts))
    reply = sock.recv_multipart()
    return reply[0].decode(), reply[1:]


def kv(header):
    return dict(w.split("=", 1) for w in header.split()[3:] if "=" in w)


def cmd_get(queue, mx="1", vis=None, wait="0"):
    h = "SPSC/1 GET 1 %s max=%s wait=%s" % (queue, mx, wait)
    if vis:
        h += " vis=" + vis
    head, parts = call(connect(), h)
    print("#", head)
    for p in parts:
        ident = p[8:24].hex()
        events, attempt = struct.unpack_from("<II", p, 32)
        fail = p[48]
        print(ident, attempt, events, *(["fail=%d" % fail] if fail else []))


def cmd_settle(op, queue, ident, delivery, ms=None):
    receipt = bytes.fromhex(ident) + struct.pack("<I", int(delivery))
    h = "SPSC/1 %s 2 %s" % (op.upper(), queue)
    if ms is not None:
        h += (" vis=" if op == "touch" else " delay=") + ms
    head, parts = call(connect(), h, [receipt])
    print(head)
    for p in parts:
        print(p.decode(errors="replace"))


def part(spec):
    if spec.startswith("hex:"):
        return bytes.fromhex(spec[4:])
    if spec.startswith("rand:"):
        return os.urandom(int(spec[5:]))
    if spec.startswith("big:"):
        return b"x" * int(spec[4:])
    if spec.startswith("file:"):
        with open(spec[5:], "rb") as f:
            return f.read()
    return spec.encode()


def cmd_raw(*specs):
    sock = connect()
    sock.send_multipart([part(s) for s in specs])
    reply = sock.recv_multipart()
    print(reply[0].decode(errors="replace"))
    for p in reply[1:]:
        print(p.decode(errors="replace"))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "get":
        cmd_get(*args)
    elif cmd in ("ack", "nack", "touch"):
        cmd_settle(cmd, *args)
    elif cmd == "raw":
        cmd_raw(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
