#!/usr/bin/env python3
"""gen_events.py: deterministic event streams for the spsc-reduce tests.

  gen_events.py [--count N] [--seed S] [--format tsv|ws|json] [options]

The same options and seed always print the same bytes.  Each event has a
key drawn from a Zipf-like distribution over --keys keys, an event time, an
integer, a decimal and a word:

  tsv   KEY<TAB>TIME<TAB>INT<TAB>DECIMAL<TAB>WORD
  ws    the same five fields between runs of blanks (spaces and tabs), some
        events with leading or trailing blanks, for awk-like splitting
  json  {"user":{"id":KEY},"ts":TIME,"n":INT,"price":DECIMAL,"tags":[WORD,...]}
        (some prices are strings holding the number)

Times: a clock that starts at --start (epoch seconds) and advances by 0 to
2 x --step ms per event (so some events tie).  A --disorder fraction of
events is up to --max-delay seconds behind the clock, and a --late fraction
is --max-delay plus up to --late-by seconds behind it.  Now and then the
clock jumps to the next whole second, so that windows' edges get events.  --time-format: s (epoch seconds with up to 3 decimals), ms
(epoch milliseconds), rfc3339 (with Z or an offset, and 1 to 3 fraction
digits when not a whole second).

Decimals are never integral.  --decimals dyadic (the default) keeps them to
halves, quarters and eighths, whose sums are exact in binary floating point
in any order; "any" gives hundredths.  In tsv and ws some decimals carry a
trailing zero ("12.50"), a distinct text with the same value.

--bad F: a fraction F of events that cannot be used (see bad_event).
"""

import argparse
import calendar
import random
import sys
import time

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet "
         "kilo lima mike november oscar papa quebec romeo sierra tango "
         "uniform victor whiskey xray yankee zulu").split()


def zipf_picker(rng, n, s):
    weights = [1.0 / (r ** s) for r in range(1, n + 1)]
    return lambda: rng.choices(range(1, n + 1), weights)[0]


def key_name(rank, utf8):
    if utf8 and rank % 5 == 0:
        return "\u00e9t\u00e9%d" % rank        # sorts after ASCII as bytes
    return ("U%d" if rank % 7 == 0 else "u%d") % rank


def fmt_time(ms, how, rng):
    if how == "ms":
        return str(ms)
    if how == "s":
        s, frac = divmod(ms, 1000)
        return ("%d.%03d" % (s, frac)).rstrip("0").rstrip(".") if frac else str(s)
    off = rng.choice((0, 0, 60, -330, 540))      # minutes east of UTC
    s, frac = divmod(ms + off * 60000, 1000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s))
    if frac:
        text += ("." + "%03d" % frac).rstrip("0")
    if off == 0:
        return text + "Z"
    sign = "+" if off > 0 else "-"
    return text + "%s%02d:%02d" % (sign, abs(off) // 60, abs(off) % 60)


def decimal(rng, how):
    if how == "dyadic":
        den = rng.choice((2, 4, 8))
        v = (2 * rng.randint(-400, 2000) + 1) / den
    else:
        v = (rng.randint(-100, 1000) * 100 + rng.randint(1, 99)) / 100
    return repr(v)


def bad_event(rng, fmt, key, t):
    """An event spsc-reduce cannot use: no time, a time or a number that
    does not parse, no key or no JSON.  Its time, when it has one, is the
    latest so far, so that whether it counts toward the watermark does not
    matter."""
    if fmt == "json":
        return rng.choice((
            '{"user":{"id":"%s"},"n":1,"price":0.5,"tags":["x"]}' % key,
            '{"user":{"id":"%s"},"ts":"soon","n":1,"price":0.5,"tags":["x"]}' % key,
            '{"user":{"id":"%s"},"ts":%s,"n":"n/a","price":0.5,"tags":["x"]}' % (key, t),
            '{"ts":%s,"n":1,"price":0.5,"tags":["x"]}' % t,
            '{"user":{"id":"%s"},"ts":%s,"n":1,"price":0.5,"tags":[]}' % (key, t),
            '{"user":"%s", oops' % key))
    fields = rng.choice(([key], [key, "soon", "1", "0.5", "x"],
                         [key, t, "n/a", "0.5", "x"], [key, t, "1", "1,5", "x"],
                         [key, t, "1", "0.5"]))
    return ("\t" if fmt == "tsv" else " ").join(fields)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=("tsv", "ws", "json"), default="tsv")
    ap.add_argument("--keys", type=int, default=50)
    ap.add_argument("--zipf", type=float, default=1.1)
    ap.add_argument("--utf8", action="store_true", help="some non-ASCII keys")
    ap.add_argument("--start", type=int,
                    default=calendar.timegm((2026, 11, 30, 21, 44, 0)))
    ap.add_argument("--step", type=int, default=50, help="mean ms per event")
    ap.add_argument("--time-format", choices=("s", "ms", "rfc3339"), default="s")
    ap.add_argument("--disorder", type=float, default=0.1)
    ap.add_argument("--max-delay", type=float, default=2.0)
    ap.add_argument("--late", type=float, default=0.0)
    ap.add_argument("--late-by", type=float, default=20.0)
    ap.add_argument("--decimals", choices=("dyadic", "any"), default="dyadic")
    ap.add_argument("--bad", type=float, default=0.0)
    o = ap.parse_args(argv)

    rng = random.Random(o.seed)
    key = zipf_picker(rng, o.keys, o.zipf)
    word = zipf_picker(rng, len(WORDS), 0.8)
    clock = o.start * 1000
    top = clock             # the latest time so far
    out = []
    for _ in range(o.count):
        clock += rng.randint(0, 2 * o.step)
        if rng.random() < 0.02:
            clock += -clock % 1000              # on a whole second
        ms, r = clock, rng.random()
        if r < o.late:
            ms -= int(o.max_delay * 1000) + rng.randint(1, int(o.late_by * 1000))
        elif r < o.late + o.disorder:
            ms -= rng.randint(1, int(o.max_delay * 1000))
        k = key_name(key(), o.utf8)
        t = fmt_time(ms, o.time_format, rng)
        n = rng.randint(-100, 1000)
        d = decimal(rng, o.decimals)
        w = WORDS[word() - 1]
        if rng.random() < o.bad:
            out.append(bad_event(rng, o.format, k, fmt_time(top, o.time_format, rng)))
            continue
        top = max(top, ms)
        if o.format == "json":
            price = '"%s"' % d if rng.random() < 0.1 else d
            ts = '"%s"' % t if o.time_format == "rfc3339" else t
            tags = ",".join('"%s"' % x for x in [w] + rng.sample(WORDS, rng.randint(0, 2)))
            out.append('{"user":{"id":"%s"},"ts":%s,"n":%d,"price":%s,"tags":[%s]}'
                       % (k, ts, n, price, tags))
            continue
        if rng.random() < 0.1:
            d += "0"
        fields = [k, t, str(n), d, w]
        if o.format == "tsv":
            out.append("\t".join(fields))
        else:
            blanks = lambda: "".join(rng.choice(" \t") for _ in range(rng.randint(1, 3)))
            line = "".join(f + blanks() for f in fields[:-1]) + fields[-1]
            if rng.random() < 0.2:
                line = blanks() + line
            if rng.random() < 0.2:
                line += blanks()
            out.append(line)
    sys.stdout.write("".join(line + "\n" for line in out))


if __name__ == "__main__":
    main(sys.argv[1:])
