#!/usr/bin/env python3
"""reference.py: the campaigns job computed without spsc, as a check.

  reference.py [--lateness MS] [--window MS] [--late FILE] [--stats FILE]
               ads.tsv events.json > counts.tsv

Reads the ad events with Python's json module, keeps the views, joins each
one's ad to its campaign with ads.tsv, and counts the views per campaign in
tumbling event-time windows aligned to the Unix epoch, as spsc-reduce(1)
does with --tumbling 10s --lateness 5s: the watermark is the largest event
time seen so far minus the lateness; a view whose window ends at or before
the watermark when it arrives is late, and is not counted but written to
--late FILE as CAMPAIGN<TAB>EVENT_TIME, the line the reducer receives.

Prints one line per campaign and window, as spsc-reduce prints them,

  CAMPAIGN<TAB>START<TAB>END<TAB>COUNT       (RFC 3339, UTC)

sorted by bytes.  --stats FILE gets one line: events, views, views out of
order (earlier than one seen before them) and late views.

The job runs four reducers, each seeing only its own campaigns, so each
has a watermark of its own: between the watermark of one campaign's views
alone and that of all views.  Every view must be late under both or under
neither, so that the counts cannot depend on how the campaigns are
partitioned; if one is not, this script says so and exits 1.
"""
import argparse
import json
import sys
import time


def rfc3339(ms):
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))
    return s + ("Z" if ms % 1000 == 0 else ".%03dZ" % (ms % 1000))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lateness", type=int, default=5000)
    ap.add_argument("--window", type=int, default=10000)
    ap.add_argument("--late")
    ap.add_argument("--stats")
    ap.add_argument("ads")
    ap.add_argument("events")
    opt = ap.parse_args()

    campaign = {}
    with open(opt.ads) as f:
        for line in f:
            ad, camp = line.rstrip("\n").split("\t")
            campaign[ad] = camp

    counts, late = {}, []
    events = views = disorder = 0
    top = None                  # the largest event time of all views
    top_of = {}                 # ... of each campaign's views
    with open(opt.events) as f:
        for n, line in enumerate(f, 1):
            ev = json.loads(line)
            events += 1
            if ev["event_type"] != "view" or ev["ad_id"] not in campaign:
                continue
            views += 1
            camp, t = campaign[ev["ad_id"]], int(ev["event_time"])
            start = t // opt.window * opt.window
            end = start + opt.window
            verdicts = set()
            for seen in (top, top_of.get(camp)):
                verdicts.add(seen is not None and end <= seen - opt.lateness)
            if len(verdicts) > 1:
                sys.exit("reference.py: %s line %d: whether this view is late "
                         "depends on the partitioning" % (opt.events, n))
            if top is not None and t < top:
                disorder += 1
            if verdicts.pop():
                late.append("%s\t%s\n" % (camp, ev["event_time"]))
            else:
                counts[camp, start] = counts.get((camp, start), 0) + 1
            top = t if top is None else max(top, t)
            top_of[camp] = max(top_of.get(camp, t), t)

    out = ["%s\t%s\t%s\t%d\n" % (c, rfc3339(s), rfc3339(s + opt.window), n)
           for (c, s), n in counts.items()]
    sys.stdout.write("".join(sorted(out)))
    if opt.late:
        with open(opt.late, "w") as f:
            f.write("".join(late))
    if opt.stats:
        with open(opt.stats, "w") as f:
            f.write("%d %d %d %d\n" % (events, views, disorder, len(late)))


if __name__ == "__main__":
    main()
