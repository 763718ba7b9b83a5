#!/usr/bin/python3
"""coord-fuzz.py: a hostile client for spsc-coord, written from
spsc-protocol(7) alone.

  coord-fuzz.py [-n MESSAGES] [--seed N] [--pid PID] [--rss-after N]
                [--rss-slack KB] [--probe DIR]

Sends MESSAGES requests (default 100000) to the coordinator ($SPSC_COORD,
else ipc://$SPSC_HOME/coord.sock), chosen by a generator seeded with N
(default 1), so a failing run is repeated exactly by the same seed:

  - random parts that are no header at all;
  - headers broken in every way spsc-protocol(7) lists: bad magic, unknown
    or lower-case operations, missing, negative or overflowing request ids,
    too long, NUL bytes, tabs, more than 12 keys, a reply sent as a request;
  - queue names that must be refused: "..", "../x", "a/b", absolute paths
    under DIR, over 200 bytes, bytes outside [A-Za-z0-9._-];
  - absurd counts and waits: max, n, vis, wait, delay, max_receives,
    max_depth, retention at 0, 2^32, 2^64-1 and past 2^64;
  - PUTs of valid frames from a fixed pool (so the coordinator's state
    stays bounded), of frames with a flipped byte, cut short, with bytes
    after them, or claiming a payload over the size limit;
  - ACK, NACK and TOUCH with real receipts from earlier GETs, stale ones,
    forged ones and receipt parts of the wrong length;
  - every other operation, on a few valid queues.

Requests are pipelined (at most 64 outstanding) and matched to replies by
request id.  It fails (exit 1, with the seed and the message number) when:

  - a request gets no reply within 10 s, or a reply matches no request;
  - a reply is malformed: not "SPSC/1 STATUS REQID [KEY=VALUE...]", or a
    status other than OK with keys or without exactly one message part;
  - a reply does not carry the request id when the header was readable
    that far, or carries one when it was not;
  - a request spsc-protocol(7) says is malformed is not answered BADREQ
    (bad queue names included), a corrupt frame not BADATOM, a frame over
    the limit not TOOBIG;
  - at the end, a plain PUT, GET and ACK on a new queue does not work;
  - with --pid: the coordinator's resident set (VmRSS) after the last
    message is more than --rss-slack KB (default 4096) above what it was
    after --rss-after messages (default 20000).

Prints a summary: messages, replies by status, the RSS figures.  Needs
python3-zmq (Debian's /usr/bin/python3).
"""
import argparse
import collections
import json
import os
import random
import re
import struct
import sys
import time

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atomread import crc32c  # noqa: E402

WINDOW = 64
TIMEOUT_MS = 10000
U64 = (1 << 64) - 1
OPS = ["PUT", "GET", "ACK", "NACK", "TOUCH", "STATUS", "CREATE", "DELETE",
       "PURGE", "REDRIVE", "PEEK", "PRODUCER", "SEAL"]
QUEUES = ["fz0", "fz1", "fz2", "fz0.dlq"]
KEYS = ["max", "wait", "vis", "delay", "n", "max_receives", "max_depth",
        "max_bytes", "retention", "x", "k" * 23, "producer", "done", "expect",
        "wm", "open", "producers"]
REPLY = re.compile(r"SPSC/1 ([A-Z]+) ([0-9]+)((?: [^ =]+=[0-9]+)*)$")


class Broken(Exception):
    """A rule of the protocol the coordinator broke."""


def frame(atom_id, events, attempt=0, stored_len=None):
    """One raw atom frame as spsc-atom(5) lays it out."""
    raw = b"".join(events)
    hdr = bytearray(64)
    hdr[0:4] = b"SPSC"
    hdr[4] = 1
    struct.pack_into("<H", hdr, 6, 64)
    hdr[8:24] = atom_id
    struct.pack_into("<qIIII", hdr, 24, 1, len(events), attempt,
                     len(raw) if stored_len is None else stored_len, len(raw))
    struct.pack_into("<I", hdr, 56, crc32c(raw))
    struct.pack_into("<I", hdr, 60, crc32c(bytes(hdr[:60])))
    return bytes(hdr) + raw


class Fuzzer:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.args = args
        url = os.environ.get("SPSC_COORD") or \
            "ipc://%s/coord.sock" % os.environ["SPSC_HOME"]
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(url)
        self.reqid = 0
        self.sent = 0
        # reqid -> (message number, what it was, statuses allowed or None)
        self.pending = {}
        # Replies expected with id 0 (the header was unreadable that far).
        self.anonymous = collections.deque()
        self.statuses = collections.Counter()
        self.receipts = collections.deque(maxlen=256)
        rng = self.rng
        # A fixed pool of atoms: PUTs of the same ids are duplicates, so the
        # queues cannot grow without bound and RSS can be compared.
        self.pool = [frame(rng.randbytes(16),
                           [b"event %d %d\n" % (i, k) for k in range(rng.randint(0, 5))])
                     for i in range(64)]
        self.bad_names = ["..", ".", "../x", "../../x", "a/b", "x" * 201,
                          "q\x01", "\u00fc", "%2e%2e", "q;x", "$(x)", "*",
                          "~", "..\\x", "fz0/../../x", "q\x7f", "fz0:1",
                          "/%s/escape" % args.probe.strip("/"),
                          "%s/sub/../escape2" % args.probe]

    # --- building requests ---------------------------------------------

    def next_id(self):
        self.reqid += 1
        return self.reqid

    def value(self):
        r = self.rng.random()
        if r < 0.6:
            return str(self.rng.randint(0, 50))
        if r < 0.95:
            return str(self.rng.choice([0, 1, 1000, 1001, 60000, 60001,
                                        2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1,
                                        2 ** 32, 2 ** 63, U64]))
        return self.rng.choice(["18446744073709551616", "-1", "1e3", "0x10",
                                "", "1.5", "99999999999999999999999"])

    def kvs(self, op):
        words, bad = [], False
        for _ in range(self.rng.choice([0, 0, 1, 2, 3])):
            key = self.rng.choice(KEYS)
            val = self.value()
            if key == "wait" and val.isdigit() and 100 < int(val) <= 60000:
                val = str(int(val) % 100)    # a real wait stalls the test
            if not val.isdigit() or int(val) > U64:
                bad = True
            words.append("%s=%s" % (key, val))
        if self.rng.random() < 0.02:
            words = ["k%d=1" % i for i in range(13)]
            bad = True
        return words, bad

    def receipt_part(self):
        rng = self.rng
        parts = []
        for _ in range(rng.randint(1, 4)):
            r = rng.random()
            if r < 0.4 and self.receipts:
                rid, delivery = rng.choice(self.receipts)
                parts.append(rid + struct.pack("<I", delivery))
            elif r < 0.6 and self.receipts:
                rid, delivery = rng.choice(self.receipts)
                stale = (delivery + rng.choice([-1, 1, 1000])) & 0xFFFFFFFF
                parts.append(rid + struct.pack("<I", stale))
            elif r < 0.8:
                parts.append(rng.choice(self.pool)[8:24] +
                             struct.pack("<I", rng.getrandbits(32)))
            else:
                parts.append(rng.randbytes(20))
        return b"".join(parts)

    def bad_frame(self):
        """A frame that fails a check, and the status it must get."""
        rng = self.rng
        f = bytearray(rng.choice(self.pool))
        r = rng.random()
        if r < 0.35:
            f[rng.randrange(len(f))] ^= 1 << rng.randrange(8)
            return bytes(f), "BADATOM"
        if r < 0.55:
            return bytes(f[:rng.randrange(len(f))]), "BADATOM"
        if r < 0.7:
            return bytes(f) + b"x" * rng.randint(1, 9), "BADATOM"
        if r < 0.85:
            return rng.randbytes(rng.randint(0, 90)), "BADATOM"
        # Over any size limit, with both CRCs right.
        big = frame(bytes(16), [], stored_len=0)
        hdr = bytearray(big)
        struct.pack_into("<II", hdr, 40, 1 << 31, 1 << 31)
        struct.pack_into("<I", hdr, 60, crc32c(bytes(hdr[:60])))
        return bytes(hdr), "TOOBIG"

    def request(self):
        """One message: (parts, readable request id or 0, statuses allowed)."""
        rng = self.rng
        r = rng.random()
        if r < 0.06:
            return self.junk()
        if r < 0.16:
            return self.broken_header()
        op = rng.choice(OPS + ["PUT", "PUT", "GET", "GET", "ACK"])
        reqid = self.next_id()
        words = ["SPSC/1", op, str(reqid)]
        expect = None
        bad_name = False
        if op != "STATUS":
            if rng.random() < 0.08:
                name = rng.choice(self.bad_names)
                bad_name = True
            else:
                name = rng.choice(QUEUES)
            words.append(name)
        extra, bad_kv = self.kvs(op)
        words += extra
        bodies = []
        if op == "PUT":
            kind = rng.random()
            if kind < 0.05:
                expect = {"BADREQ"}    # a PUT without atoms
            else:
                good = [rng.choice(self.pool) for _ in range(rng.randint(1, 4))]
                if kind < 0.35:
                    bad, status = self.bad_frame()
                    good.insert(rng.randrange(len(good) + 1), bad)
                    expect = {status}
                bodies = good
        elif op in ("ACK", "NACK", "TOUCH"):
            kind = rng.random()
            if kind < 0.1:
                bodies = []
                expect = {"BADREQ"}
            elif kind < 0.2:
                bodies = [self.receipt_part()[:rng.choice([1, 19, 21, 39])] + b"\0" * rng.choice([0, 1])]
                if len(bodies[0]) % 20 == 0:
                    bodies[0] += b"\0"
                expect = {"BADREQ"}
            elif kind < 0.25:
                bodies = [self.receipt_part(), self.receipt_part()]
                expect = {"BADREQ"}
            else:
                bodies = [self.receipt_part()]
        elif op == "GET":
            if rng.random() < 0.15:
                m = rng.choice([0, 1001, 2 ** 32, U64])
                words.append("max=%d" % m)
                expect = {"BADREQ"}
            elif rng.random() < 0.1:
                words.append("wait=%d" % rng.choice([60001, 2 ** 32, U64]))
                expect = {"BADREQ"}
            else:
                words.append("max=%d" % rng.randint(1, 20))
        elif op == "CREATE" and rng.random() < 0.3:
            words.append(rng.choice(["vis=0", "max_receives=0"]))
            expect = {"BADREQ"}
        if bad_kv or bad_name:
            expect = {"BADREQ"}
        return [" ".join(words).encode("utf-8", "surrogateescape")] + bodies, reqid, expect

    def junk(self):
        """Parts that are no header: answered BADREQ with id 0."""
        rng = self.rng
        parts = [rng.randbytes(rng.randint(0, 120))
                 for _ in range(rng.randint(1, 4))]
        if parts[0].startswith(b"SPSC/1 "):
            parts[0] = b"X" + parts[0]
        return parts, 0, {"BADREQ"}

    def broken_header(self):
        """A header that breaks a rule of HEADERS: BADREQ, with the
        request id only when it is readable."""
        rng = self.rng
        q = rng.choice(QUEUES)
        r = rng.randrange(12)
        if r < 6:
            reqid = self.next_id()
            head = rng.choice([
                "SPSC/1 put %d %s" % (reqid, q),
                "SPSC/1 FROB %d %s" % (reqid, q),
                "SPSC/1 OK %d" % reqid,
                "SPSC/1 BADREQ %d" % reqid,
                "SPSC/1 GET %d %s max" % (reqid, q),
                "SPSC/1 GET %d %s =5" % (reqid, q),
                "SPSC/1 GET %d" % reqid,
                "SPSC/1 GET %d %s %s=1" % (reqid, q, "k" * 24),
            ])
            return [head.encode()], reqid, {"BADREQ"}
        head = rng.choice([
            "SPSC/1",
            "SPSC/1 GET",
            "SPSC/1 GET -1 %s" % q,
            "SPSC/1 GET 18446744073709551616 %s" % q,
            "SPSC/1 GET 0x10 %s" % q,
            "SPSC/2 GET 1 %s" % q,
            "spsc/1 GET 1 %s" % q,
            "SPSC/1\tGET\t1\t%s" % q,
            "SPSC/1 STATUS 1\n",
            "SPSC/1 GET 1 %s %s" % (q, "x" * 1100),
            "SPSC/1 GET 1 %s\0" % q,
            "",
        ])
        return [head.encode()], 0, {"BADREQ"}

    # --- replies --------------------------------------------------------

    def check_reply(self, parts):
        try:
            head = parts[0].decode("ascii")
        except UnicodeDecodeError:
            raise Broken("reply header is not ASCII: %r" % parts[0][:80])
        m = REPLY.match(head)
        if m is None:
            raise Broken("malformed reply header %r" % head[:200])
        status, reqid, keys = m.group(1), int(m.group(2)), m.group(3)
        if status != "OK":
            if keys:
                raise Broken("%s reply with keys: %r" % (status, head))
            if len(parts) != 2 or len(parts[1]) > 599:
                raise Broken("%s reply with %d body parts (want one message of at most 599 bytes): %r"
                             % (status, len(parts) - 1, head))
        if reqid == 0 and reqid not in self.pending:
            if not self.anonymous:
                raise Broken("a reply with id 0 that no request asked for: %r" % head)
            n, what, allowed = self.anonymous.popleft()
        else:
            if reqid not in self.pending:
                raise Broken("a reply to no outstanding request: %r" % head)
            n, what, allowed = self.pending.pop(reqid)
        if allowed is not None and status not in allowed:
            raise Broken("message %d: %r answered %s, want %s (%s)" %
                         (n, what[:200], status, "/".join(sorted(allowed)),
                          parts[1][:200].decode(errors="replace") if len(parts) > 1 else ""))
        self.statuses[status] += 1
        if status == "OK" and what.startswith(b"SPSC/1 GET "):
            for f in parts[1:]:
                if len(f) >= 64:
                    self.receipts.append((f[8:24], struct.unpack_from("<I", f, 36)[0]))
        if status == "OK" and what.startswith(b"SPSC/1 STATUS "):
            json.loads(parts[1])

    def receive(self):
        if not self.sock.poll(TIMEOUT_MS):
            waiting = sorted(self.pending.items())[:5]
            raise Broken("no reply within %d ms to %d requests (%d without an id), e.g. %s"
                         % (TIMEOUT_MS, len(self.pending), len(self.anonymous),
                            [(n, w[:80]) for _, (n, w, _) in waiting]))
        self.check_reply(self.sock.recv_multipart())

    def drain(self):
        while self.pending or self.anonymous:
            self.receive()

    def send(self, parts, reqid, allowed):
        self.sent += 1
        entry = (self.sent, parts[0], allowed)
        if reqid:
            self.pending[reqid] = entry
        else:
            self.anonymous.append(entry)
        self.sock.send_multipart(parts)
        while len(self.pending) + len(self.anonymous) >= WINDOW:
            self.receive()

    # --- the run --------------------------------------------------------

    def final_check(self):
        """A plain PUT, GET and ACK on a new queue still work."""
        atom = frame(b"final-check-atom", [b"still alive\n"])
        for head, bodies, want in [
                ("SPSC/1 PUT %d fzfinal", [atom], "stored=1"),
                ("SPSC/1 GET %d fzfinal max=1 wait=1000", [], "n=1"),
                ("SPSC/1 ACK %d fzfinal", None, "acked=1")]:
            reqid = self.next_id()
            if bodies is None:
                bodies = [b"final-check-atom" + struct.pack("<I", 1)]
            self.sock.send_multipart([(head % reqid).encode()] + bodies)
            if not self.sock.poll(TIMEOUT_MS):
                raise Broken("no reply to %r after the fuzzing" % head)
            parts = self.sock.recv_multipart()
            reply = parts[0].decode(errors="replace")
            if not reply.startswith("SPSC/1 OK %d " % reqid) or want not in reply.split():
                raise Broken("after the fuzzing, %r was answered %r" % (head % reqid, reply))
            if head.startswith("SPSC/1 GET") and parts[1][8:24] != b"final-check-atom":
                raise Broken("after the fuzzing, GET returned another atom")

    def rss_kb(self):
        with open("/proc/%d/status" % self.args.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise Broken("no VmRSS for pid %d" % self.args.pid)

    def run(self):
        args = self.args
        rss_mid = None
        start = time.monotonic()
        for i in range(1, args.messages + 1):
            self.send(*self.request())
            if args.pid and i == args.rss_after:
                self.drain()
                rss_mid = self.rss_kb()
        self.drain()
        rss_end = self.rss_kb() if args.pid else None
        self.final_check()
        took = time.monotonic() - start
        print("messages: %d in %.1f s, seed %d" % (self.sent, took, args.seed))
        print("replies: %s" % " ".join("%s=%d" % kv for kv in sorted(self.statuses.items())))
        if rss_mid is not None:
            print("rss: %d kB after %d messages, %d kB after %d (slack %d kB)"
                  % (rss_mid, args.rss_after, rss_end, self.sent, args.rss_slack))
            if rss_end > rss_mid + args.rss_slack:
                raise Broken("the coordinator grew from %d kB to %d kB"
                             % (rss_mid, rss_end))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("-n", "--messages", type=int, default=100000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pid", type=int, default=0)
    p.add_argument("--rss-after", type=int, default=20000)
    p.add_argument("--rss-slack", type=int, default=4096)
    p.add_argument("--probe", default="/tmp/spsc-coord-fuzz-probe")
    args = p.parse_args()
    if args.pid and args.rss_after >= args.messages:
        args.rss_after = args.messages // 5
    fz = Fuzzer(args)
    try:
        fz.run()
    except Broken as e:
        sys.exit("coord-fuzz: seed %d, after %d messages: %s" % (args.seed, fz.sent, e))


if __name__ == "__main__":
    main()
