#!/usr/bin/env bash
# Ad views per campaign per 10 seconds, over pipes: a job like the Yahoo
# Streaming Benchmark's.  The source cuts the generated ad events into
# atoms, a warm awk keeps the views and joins each ad to its campaign, the
# shuffle routes each campaign to one of four reducers through FIFOs, and
# each reducer counts its campaigns' views in 10 s event-time windows,
# with out-of-order views up to 5 s accepted and later ones set aside.
#
#   events.json --source--> --op (join.awk)--> --shuffle--> part0..3 (FIFOs)
#     part0..3 --4 x spsc-reduce--> --4 x spsc-sink--> counts.0..3.tsv
#
# Usage: examples/campaigns/run.sh [SEED]   (programs from PATH or $SPSC_BIN)
set -eu -o pipefail
export LC_ALL=C

seed=${1:-7}
here=$(cd "$(dirname "$0")" && pwd)
[ -z "${SPSC_BIN:-}" ] || PATH=$SPSC_BIN:$PATH
for p in spsc-source spsc-op spsc-shuffle spsc-reduce spsc-sink python3; do
	command -v "$p" >/dev/null || { echo "run.sh: $p not found on PATH" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/spsc-campaigns.XXXXXX")
pids=
stop_all() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	# A reducer whose FIFO no writer opened would wait for ever: open
	# each once (read-write, which never blocks), so that all end.
	for f in "$work"/part?; do
		[ ! -p "$f" ] || : <>"$f"
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 30000 events over a minute of event time, the same on every machine.
awk -v seed="$seed" -f "$here/gen-events.awk" "$here/ads.tsv" >"$work/events.json"

# The operator's awk: mawk, the fastest, with -W interactive (join.awk
# says why), else the awk there is.
join=(awk)
! command -v mawk >/dev/null || join=(mawk -W interactive)

# The reducers and their sinks wait on the FIFOs the shuffle will write.
# A pipe has one writer, so each reducer has a sink of its own (over
# queues, queues.sh, the four share one).
for p in 0 1 2 3; do
	mkfifo "$work/part$p"
	spsc-reduce -k 1 -t '\t' --time 2 --tumbling 10s --lateness 5s \
		--late "$work/late.$p.atoms" count <"$work/part$p" |
		spsc-sink "$work/counts.$p.tsv" &
	pids="$pids $!"
done

spsc-source -n 1000 --name campaigns "$work/events.json" |
	spsc-op --warm -- "${join[@]}" -v ads="$here/ads.tsv" -f "$here/join.awk" |
	spsc-shuffle -k 1 -t '\t' -p 4 -o "$work/part%d"
for p in $pids; do
	wait "$p" || { echo "run.sh: a reducer or its sink failed" >&2; exit 1; }
done
pids=

# Late views, as the reducers received them (CAMPAIGN<TAB>EVENT_TIME).
for p in 0 1 2 3; do
	[ ! -e "$work/late.$p.atoms" ] || spsc-sink -i "$work/late.$p.atoms"
done >"$work/late.tsv"
cat "$work"/counts.?.tsv >"$work/counts.tsv"

"$here/report.sh" "$work/counts.tsv" "$work/late.tsv" "$work/events.json"
