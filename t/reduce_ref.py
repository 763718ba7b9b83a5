#!/usr/bin/env python3
"""reduce_ref.py: what spsc-reduce computes, in plain Python 3.

Written from spsc-reduce's contract alone (keys, aggregates, windows, event
time, watermark, late events, result order, number and time formats), as a
specification in code to compare the C program's output with.  It reads
events (one a line) from a file or stdin, in order, and prints the results
as spsc-reduce prints them, TSV or --json.  Only event time is modelled: a
window needs --time.  The input watermark is taken as unknown until the end
of input, as it is for atoms from spsc-source.

  reduce_ref.py -k KEY [-t SEP] [--time F] [--lateness DUR]
                [--tumbling DUR | --sliding SIZE/SLIDE | --session GAP]
                [--json] [--late FILE] [--errors FILE] [-i FILE] AGG...

Late events (every window of the event closed) are written, byte for byte,
to --late FILE; events with an error (no key, malformed JSON, a value that is
not a number, an unparsable time) to --errors FILE.  Both in input order.

Where the contract is silent, the choices made here: doubles are added in
arrival order (spsc-reduce may add a merged session's parts instead, so the
tests use halves, quarters and eighths with sessions, exact in any order);
times print floored to the millisecond and must fit int64 nanoseconds; a tab
or newline in a TSV column prints as \\t or \\n; first and last are JSON
strings in --json results; a number is decimal (no hex, inf or nan).

  reduce_ref.py --selftest   runs the hand-computed cases below;
  reduce_ref.py --write-cases DIR   writes them to DIR as files.
"""

import argparse
import calendar
import json
import re
import sys
import time
from fractions import Fraction

NS = 10**9
INT64_MIN, INT64_MAX = -2**63, 2**63 - 1


class EventError(Exception):
    pass


# --- fields: -k N [-t SEP] and -k .json.path --------------------------------

def parse_sep(text):
    """-t SEP: \\t, \\0 and \\\\ are the only escapes."""
    out, i = b"", 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            c = {"t": "\t", "0": "\0", "\\": "\\"}[text[i + 1]]
            i += 1
        out += c.encode()
        i += 1
    return out


def parse_path(text):
    """.a.b[0]."x.y" -> ["a", "b", 0, "x.y"]; "." alone is the event."""
    steps, rest = [], text[1:]
    tok = re.compile(r'\[(-?\d+)\]|"((?:[^"\\]|\\.)*)"|([^.\["]+)')
    while rest:
        m = tok.match(rest)
        if m is None:
            raise ValueError("bad JSON path " + text)
        if m.group(1) is not None:
            steps.append(int(m.group(1)))
        elif m.group(2) is not None:
            steps.append(re.sub(r"\\(.)", r"\1", m.group(2)))
        else:
            steps.append(m.group(3))
        rest = rest[m.end():]
        if rest.startswith("."):
            rest = rest[1:]
    return steps


def cjson_number(d):
    """A JSON number as cJSON prints it: %d when it is an int, else the
    shortest of %1.15g and %1.17g that reads back."""
    if d == int(d) and -2**31 <= d < 2**31:
        return "%d" % d
    s = "%1.15g" % d
    return s if float(s) == d else "%1.17g" % d


def json_text(v):
    """A JSON value as a key: a string's content, else its compact text."""
    if isinstance(v, str):
        return v.encode()
    if v is True or v is False or v is None:
        return json.dumps(v).encode()
    if isinstance(v, (int, float)):
        return cjson_number(float(v)).encode()
    if isinstance(v, list):
        return b"[" + b",".join(json_compact(x) for x in v) + b"]"
    return b"{" + b",".join(json.dumps(k).encode() + b":" + json_compact(x)
                            for k, x in v.items()) + b"}"


def json_compact(v):
    return json.dumps(v).encode() if isinstance(v, str) else json_text(v)


def first_wins(pairs):
    d = {}
    for k, v in pairs:
        d.setdefault(k, v)
    return d


class Field:
    """One -k-like field spec, extracted from an event (bytes, no '\\n')."""

    def __init__(self, spec, sep):
        self.spec = spec
        if spec.startswith("."):
            self.path = parse_path(spec)
        else:
            self.path, self.n = None, int(spec)
            self.sep = None if sep is None else parse_sep(sep)

    def get(self, ev, parsed):
        if self.path is None:
            if self.sep is None:    # runs of blanks, as awk splits
                fields = ev.strip(b" \t") and re.split(rb"[ \t]+", ev.strip(b" \t"))
            else:
                fields = ev.split(self.sep)
            if self.n > len(fields):
                raise EventError("field %d missing" % self.n)
            return fields[self.n - 1]
        if parsed[0] is None:
            try:
                parsed[0] = json.loads(ev.decode(), object_pairs_hook=first_wins,
                                       parse_constant=self._bad)
            except (ValueError, UnicodeDecodeError):
                raise EventError("malformed JSON")
        v = parsed[0]
        for st in self.path:
            if isinstance(st, int):
                if not isinstance(v, list) or not -len(v) <= st < len(v):
                    raise EventError("element missing")
                v = v[st]
            else:
                if not isinstance(v, dict) or st not in v:
                    raise EventError("member missing")
                v = v[st]
        return json_text(v)

    @staticmethod
    def _bad(name):
        raise ValueError(name)


# --- numbers, times and durations -------------------------------------------

DECIMAL = re.compile(rb"[ \t\n\v\f\r]*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
INTEGER = re.compile(rb"-?[0-9]+")


def number(text):
    """strtod over the whole text, finite."""
    if not DECIMAL.fullmatch(text):
        raise EventError("not a number: %r" % text)
    return float(text)


def event_time(text):
    """Epoch seconds, epoch ms when |v| >= 1e11, or RFC 3339; -> ns, which
    must fit an int64 (so years 1678 to 2262)."""
    ns = time_ns(text)
    if not INT64_MIN < ns < INT64_MAX:
        raise EventError("time out of range %r" % text)
    return ns


def time_ns(text):
    if DECIMAL.fullmatch(text):
        v = Fraction(text.decode().strip())
        return int(v * (10**6 if abs(v) >= 10**11 else NS) // 1)
    m = re.fullmatch(rb"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?"
                     rb"([Zz]|[+-]\d\d:\d\d)", text)
    if m is None:
        raise EventError("unparsable time %r" % text)
    s = calendar.timegm(tuple(int(m.group(i)) for i in range(1, 7)))
    if m.group(8) not in (b"Z", b"z"):
        off = int(m.group(8)[1:3]) * 3600 + int(m.group(8)[4:6]) * 60
        s -= off if m.group(8)[:1] == b"+" else -off
    frac = Fraction(m.group(7).decode()) if m.group(7) else 0
    return int((s + frac) * NS // 1)


def duration(text):
    """libcommon units: a number and one of ns us ms s m h (bare: s)."""
    m = re.fullmatch(r"([0-9.]+)(ns|us|ms|s|m|h|)", text)
    scale = {"ns": 1, "us": 10**3, "ms": 10**6, "s": NS, "": NS,
             "m": 60 * NS, "h": 3600 * NS}[m.group(2)]
    return int(Fraction(m.group(1)) * scale + Fraction(1, 2))


def fmt_double(v):
    """Integral and |v| < 2^53: an integer; else the shortest of %.15g,
    %.16g, %.17g that reads back."""
    if v != v or v in (float("inf"), float("-inf")):
        return "%.15g" % v      # a sum that overflowed: as printf has it
    if v == int(v) and abs(v) < 2**53:
        return "%d" % v
    for p in (15, 16, 17):
        s = "%.*g" % (p, v)
        if float(s) == v:
            return s


def fmt_time(ns):
    """RFC 3339 UTC, with milliseconds only when not a whole second."""
    s, frac = divmod(ns, NS)
    text = "%04d-%02d-%02dT%02d:%02d:%02d" % time.gmtime(s)[:6]
    return text + (".%03d" % (frac // 10**6) if frac else "") + "Z"


# --- aggregates --------------------------------------------------------------

NUMERIC = ("sum", "min", "max", "mean")


def exact_sum(texts):
    """int64 while every text is an integer and nothing overflows, then a
    double, added in arrival order."""
    acc, exact = 0, True
    for t in texts:
        if exact and INTEGER.fullmatch(t) and INT64_MIN <= int(t) <= INT64_MAX \
                and INT64_MIN <= acc + int(t) <= INT64_MAX:
            acc += int(t)
        else:
            acc, exact = float(acc) + number(t), False
    return acc


def aggregate(name, rows, i, by_time):
    """rows: (time, seq, [value texts]) of one key and window -> bytes."""
    texts = [r[2][i] for r in sorted(rows, key=lambda r: r[1])]
    if name in ("first", "last"):
        order = sorted(rows, key=(lambda r: (r[0], r[1])) if by_time else
                       (lambda r: r[1]))
        return (order[0] if name == "first" else order[-1])[2][i]
    if name == "count":
        return str(len(rows)).encode()
    if name == "distinct":
        return str(len(set(texts))).encode()
    if name == "sum":
        s = exact_sum(texts)
        return (str(s) if isinstance(s, int) else fmt_double(s)).encode()
    if name == "mean":
        return fmt_double(float(exact_sum(texts)) / float(len(texts))).encode()
    values = [number(t) for t in texts]
    return fmt_double(min(values) if name == "min" else max(values)).encode()


# --- windows -----------------------------------------------------------------

class Reduce:
    def __init__(self, opt):
        self.opt = opt
        self.key = Field(opt.k, opt.t)
        self.aggs = [(a.split(":", 1)[0], None if a == "count" else
                      Field(a.split(":", 1)[1], opt.t)) for a in opt.agg]
        self.time = Field(opt.time, opt.t) if opt.time else None
        # Without --lateness only the input's watermark (here: the end
        # of input) closes windows; with it, the latest time less it too.
        self.lateness = None if opt.lateness is None else duration(opt.lateness)
        self.wm = None                  # watermark, None = unknown
        self.maxt = None
        self.windows = {}               # (key, start, end) -> rows
        self.sessions = {}              # key -> [[start, end, rows]]
        self.out, self.late, self.errors = [], [], []
        self.seq = 0

    def assign(self, t):
        """The (start, end) of every window of an event at t."""
        o = self.opt
        if o.tumbling:
            size = duration(o.tumbling)
            return [(t // size * size, t // size * size + size)]
        size, slide = (duration(x) for x in o.sliding.split("/"))
        k = t // slide
        wins = []
        while k * slide + size > t:
            wins.append((k * slide, k * slide + size))
            k -= 1
        return wins

    def late_end(self, end):
        return self.wm is not None and end <= self.wm

    def event(self, ev):
        parsed = [None]
        try:
            key = self.key.get(ev, parsed)
            vals = [b"" if f is None else f.get(ev, parsed)
                    for _, f in self.aggs]
            for (name, _), v in zip(self.aggs, vals):
                if name in NUMERIC:
                    number(v)
            t = event_time(self.time.get(ev, parsed)) if self.time else None
        except EventError:
            self.errors.append(ev)
            return
        self.seq += 1
        row = (t, self.seq, vals)
        o = self.opt
        if not (o.tumbling or o.sliding or o.session):
            self.windows.setdefault((key, None, None), []).append(row)
            return
        if o.session:
            self.session(key, t, row, ev)
        else:
            live = [w for w in self.assign(t) if not self.late_end(w[1])]
            for start, end in live:
                self.windows.setdefault((key, start, end), []).append(row)
            if not live:
                self.late.append(ev)
        self.maxt = t if self.maxt is None else max(self.maxt, t)
        if self.lateness is not None:
            wm = self.maxt - self.lateness
            self.wm = wm if self.wm is None else max(self.wm, wm)
        self.close()

    def session(self, key, t, row, ev):
        """[t, t+GAP) merges with every open session of the key it overlaps
        (sessions exactly GAP apart do not)."""
        gap = duration(self.opt.session)
        start, end, rows = t, t + gap, [row]
        keep = []
        for s in self.sessions.get(key, []):
            if s[0] < t + gap and t < s[1]:
                start, end, rows = min(start, s[0]), max(end, s[1]), rows + s[2]
            else:
                keep.append(s)
        if self.late_end(end):
            self.late.append(ev)
            return
        self.sessions[key] = keep + [[start, end, rows]]

    def close(self, everything=False):
        """One closing pass: every window whose END <= watermark, sorted by
        (END, START, key bytes)."""
        done = []
        if self.wm is None and not everything:
            return
        for (key, start, end), rows in list(self.windows.items()):
            if everything or end <= self.wm:
                done.append((end, start, key, rows))
                del self.windows[(key, start, end)]
        for key, sessions in self.sessions.items():
            for s in list(sessions):
                if everything or s[1] <= self.wm:
                    first = min(r[0] for r in s[2])
                    done.append((s[1], first, key, s[2]))
                    sessions.remove(s)
        # (without windows END and START are None: by key alone)
        for end, start, key, rows in sorted(done, key=lambda d: (
                d[0] or 0, d[1] or 0, d[2])):
            self.out.append(self.result(key, start, end, rows))

    def result(self, key, start, end, rows):
        vals = [aggregate(name, rows, i, self.time is not None)
                for i, (name, _) in enumerate(self.aggs)]
        if not self.opt.json:
            times = [] if end is None else [fmt_time(start), fmt_time(end)]
            return b"\t".join(tsv(x) for x in [key] + [x.encode() for x in times]
                              + vals) + b"\n"
        members = [("key", jstr(key))]
        if end is not None:
            members += [("start", jstr(fmt_time(start).encode())),
                        ("end", jstr(fmt_time(end).encode()))]
        for (name, _), text, v in zip(self.aggs, self.opt.agg, vals):
            members.append((text, jstr(v) if name in ("first", "last")
                            else v.decode()))
        return ("{" + ",".join(jstr(k.encode()) + ":" + v for k, v in members)
                + "}\n").encode()


def tsv(b):
    """A tab or a newline in a TSV column prints as \\t or \\n (the contract
    does not say; a newline would end the event)."""
    return b.replace(b"\t", b"\\t").replace(b"\n", b"\\n")


def jstr(b):
    return json.dumps(b.decode("utf-8", "surrogateescape"), ensure_ascii=False)


def run(opt, lines):
    red = Reduce(opt)
    for ev in lines:
        red.event(ev)
    red.close(everything=True)
    return red


def parser():
    ap = argparse.ArgumentParser(description="spsc-reduce, in Python")
    ap.add_argument("-k", required=True)
    ap.add_argument("-t")
    ap.add_argument("-i", default="-")
    ap.add_argument("--time")
    ap.add_argument("--lateness", default=None)
    w = ap.add_mutually_exclusive_group()
    w.add_argument("--tumbling")
    w.add_argument("--sliding")
    w.add_argument("--session")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--late")
    ap.add_argument("--errors")
    ap.add_argument("agg", nargs="+")
    return ap


def main(argv):
    ap = parser()
    opt = ap.parse_args(argv)
    if (opt.tumbling or opt.sliding or opt.session) and not opt.time:
        ap.error("windows need --time here (event time only)")
    f = sys.stdin.buffer if opt.i == "-" else open(opt.i, "rb")
    lines = [ln[:-1] if ln.endswith(b"\n") else ln for ln in f]
    red = run(opt, lines)
    sys.stdout.buffer.write(b"".join(red.out))
    for path, evs in ((opt.late, red.late), (opt.errors, red.errors)):
        if path:
            with open(path, "wb") as f:
                f.write(b"".join(e + b"\n" for e in evs))


# --- hand-computed cases -------------------------------------------------------

CASES = [
    # no window: one line per key, keys in byte order; exact int sum,
    # mixed sum as a double, integral doubles as integers.
    (["-k", "1", "count", "sum:2", "min:2", "max:2", "mean:2"],
     "b 1\na 2\nb 2.5\nB -1\n",
     "B\t1\t-1\t-1\t-1\t-1\na\t1\t2\t2\t2\t2\nb\t2\t3.5\t1\t2.5\t1.75\n",
     []),
    # awk-like fields: leading blanks and runs of blanks and tabs.
    (["-k", "2", "count"], "  x\t \ty\nx y z\n", "y\t2\n", []),
    # 0.1 + 0.2 is a double that needs 17 digits.
    # "0.10" and "0.1" are distinct texts; first/last print the text.
    (["-k", "1", "-t", ",", "sum:2", "distinct:3", "first:3", "last:3"],
     "a,0.1,0.10\na,0.2,0.1\n",
     "a\t0.30000000000000004\t2\t0.10\t0.1\n", []),
    # tumbling 10s, lateness 0: the third event (t=5) is late, its
    # window having closed at t=12; the END at 20 closes with the fourth.
    (["-k", "1", "--time", "2", "--lateness", "0", "--tumbling", "10s", "count", "first:3"],
     "a 1 x\nb 3 y\na 12 z\na 5 w\nb 21 v\n",
     "a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t1\tx\n"
     "b\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t1\ty\n"
     "a\t1970-01-01T00:00:10Z\t1970-01-01T00:00:20Z\t1\tz\n"
     "b\t1970-01-01T00:00:20Z\t1970-01-01T00:00:30Z\t1\tv\n",
     ["a 5 w"]),
    # lateness 5s keeps t=5 in: the watermark is 7 after t=12.
    (["-k", "1", "--time", "2", "--tumbling", "10s", "--lateness", "5s",
      "count", "first:3", "last:3"],
     "a 1 x\na 12 z\na 5 w\na 5 u\n",
     "a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t3\tx\tu\n"
     "a\t1970-01-01T00:00:10Z\t1970-01-01T00:00:20Z\t1\tz\tz\n", []),
    # sliding 10s/5s: t=7 is in [0,10) and [5,15); after t=16 (wm 16)
    # [0,10) and [5,15) have closed, so t=12 goes only to [10,20) and
    # is not late; t=4 (windows [-5,5), [0,10)) is late.
    (["-k", "1", "--time", "2", "--lateness", "0", "--sliding", "10s/5s", "count"],
     "a 7\na 16\na 12\na 4\n",
     "a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t1\n"
     "a\t1970-01-01T00:00:05Z\t1970-01-01T00:00:15Z\t1\n"
     "a\t1970-01-01T00:00:10Z\t1970-01-01T00:00:20Z\t2\n"
     "a\t1970-01-01T00:00:15Z\t1970-01-01T00:00:25Z\t1\n",
     ["a 4"]),
    # session gap 10s, lateness 100s: 0 and 10 are exactly GAP apart
    # and do not merge; 5 then joins both; b's session shows ms.
    (["-k", "1", "--time", "2", "--session", "10s", "--lateness", "100s",
      "count", "sum:2"],
     "a 0\na 10\nb 1.5\na 5\na 30\n",
     "b\t1970-01-01T00:00:01.500Z\t1970-01-01T00:00:11.500Z\t1\t1.5\n"
     "a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:20Z\t3\t15\n"
     "a\t1970-01-01T00:00:30Z\t1970-01-01T00:00:40Z\t1\t30\n", []),
    # session, lateness 0: after t=30 the watermark is 30; t=15 makes
    # [15,25), END <= 30 and no open session: late.  t=25 joins [30,40).
    (["-k", "1", "--time", "2", "--lateness", "0", "--session", "10s", "count"],
     "a 0\na 30\na 15\na 25\n",
     "a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t1\n"
     "a\t1970-01-01T00:00:25Z\t1970-01-01T00:00:40Z\t2\n", ["a 15"]),
    # JSON keys and values, --json out, ms and RFC 3339 times, a string
    # holding a number, first/last by event time.
    # an event at a window's END belongs to the next window and closes
    # the one before: an event in that one after it is late.
    (["-k", "1", "--time", "2", "--lateness", "0", "--tumbling", "10s", "count"],
     "a 0\na 10\na 9.999\n",
     "a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t1\n"
     "a\t1970-01-01T00:00:10Z\t1970-01-01T00:00:20Z\t1\n", ["a 9.999"]),
    # times print to the millisecond, whatever the event's precision.
    (["-k", "1", "--time", "2", "--session", "1500ms", "count"],
     "a 10.2504\n",
     "a\t1970-01-01T00:00:10.250Z\t1970-01-01T00:00:11.750Z\t1\n", []),
    # an int64 sum that overflows goes on as a double.
    (["-k", "1", "sum:2", "mean:2"], "a 9223372036854775807\na 1\n",
     "a\t9.223372036854776e+18\t4.611686018427388e+18\n", []),
    # --json escapes what JSON needs; first/last are strings.
    (["-k", ".k", "--json", "count", "first:.v", "last:.n"],
     '{"k":"q\\"b\\\\","v":"t\\tu\\u0001","n":2.5}\n',
     '{"key":"q\\"b\\\\","count":1,"first:.v":"t\\tu\\u0001","last:.n":"2.5"}\n',
     []),
    # JSON keys and values, --json out; RFC 3339 with an offset, epoch
    # ms, epoch seconds with a fraction; a string holding a number; a
    # number as a key; equal END and START order by key bytes.
    (["-k", ".u.id", "--time", ".ts", "--tumbling", "1m", "--json",
      "count", "sum:.p", "first:.tags[0]", "last:.tags[-1]"],
     '{"u":{"id":"x"},"ts":"2026-11-30T22:44:59+01:00","p":"2","tags":["c"]}\n'
     '{"u":{"id":"x"},"ts":1796075100250,"p":1.5,"tags":["a","b"]}\n'
     '{"u":{"id":7},"ts":1796075101.5,"p":1,"tags":["d"]}\n',
     '{"key":"x","start":"2026-11-30T21:44:00Z","end":"2026-11-30T21:45:00Z",'
     '"count":1,"sum:.p":2,"first:.tags[0]":"c","last:.tags[-1]":"c"}\n'
     '{"key":"7","start":"2026-11-30T21:45:00Z","end":"2026-11-30T21:46:00Z",'
     '"count":1,"sum:.p":1,"first:.tags[0]":"d","last:.tags[-1]":"d"}\n'
     '{"key":"x","start":"2026-11-30T21:45:00Z","end":"2026-11-30T21:46:00Z",'
     '"count":1,"sum:.p":1.5,"first:.tags[0]":"a","last:.tags[-1]":"b"}\n',
     []),
]


def selftest():
    def ref(args, text):
        red = run(parser().parse_args(args), text.encode().split(b"\n")[:-1])
        return b"".join(red.out).decode(), [e.decode() for e in red.late]

    for args, text, want, want_late in CASES:
        got, late = ref(args, text)
        assert got == want, "%s\n got %r\nwant %r" % (args, got, want)
        assert late == want_late, "%s late %r, want %r" % (args, late, want_late)
    assert fmt_double(1e300) == "1e+300" and fmt_double(2.0**53 + 2) == "9007199254740994"
    assert fmt_double(2.0**53) == "9007199254740992"  # %.16g, not an int
    assert fmt_double(-2.5) == "-2.5" and fmt_double(1 / 3) == "0.3333333333333333"
    assert event_time(b"1764539040.25") == 1764539040250000000
    assert event_time(b"2026-11-30T21:44:00.250+01:00") == event_time(b"2026-11-30T20:44:00.250Z")
    assert fmt_time(event_time(b"2026-11-30T21:44:00Z")) == "2026-11-30T21:44:00Z"
    assert exact_sum([b"9223372036854775807", b"1"]) == 9223372036854775808.0
    print("reduce_ref.py: %d cases and the formatters agree" % len(CASES))


def write_cases(d):
    """The cases as files for running them through spsc-reduce: N.args
    (one argument a line), N.in, N.want and N.late."""
    for n, (args, text, want, late) in enumerate(CASES):
        for ext, data in (("args", "".join(a + "\n" for a in args)),
                          ("in", text), ("want", want),
                          ("late", "".join(e + "\n" for e in late))):
            with open("%s/%d.%s" % (d, n, ext), "w") as f:
                f.write(data)
    print(len(CASES))


if __name__ == "__main__":
    if sys.argv[1:] == ["--selftest"]:
        selftest()
    elif sys.argv[1:2] == ["--write-cases"]:
        write_cases(sys.argv[2])
    else:
        main(sys.argv[1:])
