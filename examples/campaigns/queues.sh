#!/usr/bin/env bash
# Ad views per campaign per 10 seconds, over queues: the job of run.sh with
# its stages joined by durable queues on a private coordinator.  The four
# reducers write one queue, read by one sink.  Every stage ends by itself
# when its input is complete, and any of them could be killed and
# restarted on the way without a view counted twice or lost.
#
#   events.json --source--> raw --op (join.awk)--> views --shuffle-->
#     bycamp.0..3 --4 x spsc-reduce--> counts --sink--> counts.tsv
#
# Usage: examples/campaigns/queues.sh [SEED]  (programs from PATH or $SPSC_BIN)
# It starts everything it needs and stops all of it, even on failure.
set -eu
export LC_ALL=C

seed=${1:-7}
here=$(cd "$(dirname "$0")" && pwd)
[ -z "${SPSC_BIN:-}" ] || PATH=$SPSC_BIN:$PATH
for p in spsc-coord spsc-source spsc-op spsc-shuffle spsc-reduce spsc-sink python3; do
	command -v "$p" >/dev/null || { echo "queues.sh: $p not found on PATH" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/spsc-campq.XXXXXX")
export SPSC_HOME="$work/state"
unset SPSC_COORD
pids=
stop_all() {
	# The stages first, one by one: on SIGTERM a reducer checkpoints
	# and acknowledges what it holds, which needs the coordinator.
	for p in $pids; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

awk -v seed="$seed" -f "$here/gen-events.awk" "$here/ads.tsv" >"$work/events.json"

# The operator's awk: mawk, the fastest, with -W interactive (join.awk
# says why), else the awk there is.
join=(awk)
! command -v mawk >/dev/null || join=(mawk -W interactive)

# A coordinator of our own, with its state in $work.
mkdir -m 700 "$SPSC_HOME"	# serve refuses one open to others
spsc-coord serve 2>"$work/coord.log" &
coord=$!
pids=$coord
i=0
until spsc-coord status >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { cat "$work/coord.log" >&2; exit 1; }
	sleep 0.1
done

# counts has four producers, the reducers: it is complete once all four
# have finished, not when the first one has.
spsc-coord create counts --producers 4 2>/dev/null

# Each stage waits for its input, and ends when that input is complete:
# when the stage before it has finished and nothing is left in the queue.
stages=
spsc-op -i raw -o views --warm -- "${join[@]}" -v ads="$here/ads.tsv" -f "$here/join.awk" &
stages="$stages $!"
spsc-shuffle -i views -o bycamp -k 1 -t '\t' -p 4 &
stages="$stages $!"
for p in 0 1 2 3; do
	spsc-reduce -i "bycamp.$p" -o counts -k 1 -t '\t' --time 2 \
		--tumbling 10s --lateness 5s --late "$work/late.$p.atoms" count &
	stages="$stages $!"
done
spsc-sink -i counts "$work/counts.tsv" &
stages="$stages $!"
pids="$stages $coord"

spsc-source -n 1000 --name campaigns -o raw "$work/events.json"
for p in $stages; do
	wait "$p" || { echo "queues.sh: a stage failed" >&2; exit 1; }
done

for p in 0 1 2 3; do
	[ ! -e "$work/late.$p.atoms" ] || spsc-sink -i "$work/late.$p.atoms"
done >"$work/late.tsv"

"$here/report.sh" "$work/counts.tsv" "$work/late.tsv" "$work/events.json"
