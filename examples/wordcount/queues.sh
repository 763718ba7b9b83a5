#!/bin/sh
# WordCount over queues: the same job as run.sh, but the stages are joined
# by durable queues on a private coordinator, and two operator processes
# compete for the atoms of one queue.  Any of them could be killed and
# restarted without losing or duplicating a word.
#
#   corpus --source--> raw --2 x spsc-op--> words --sink--> sort | uniq -c
#
# Usage: examples/wordcount/queues.sh [TOP]   (programs from PATH or $SPSC_BIN)
# It starts everything it needs and stops all of it, even on failure.
set -eu
export LC_ALL=C

top=${1:-10}
here=$(cd "$(dirname "$0")" && pwd)
[ -z "${SPSC_BIN:-}" ] || PATH=$SPSC_BIN:$PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/spsc-wcq.XXXXXX")
export SPSC_HOME="$work/state"
unset SPSC_COORD
pids=
stop_all() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

awk -f "$here/gen-corpus.awk" "$here/words.txt" >"$work/corpus.txt"

# A coordinator of our own, with its state in $work.
mkdir -p -m 700 "$SPSC_HOME"	# serve refuses one open to others
spsc-coord serve 2>"$work/coord.log" &
pids="$pids $!"
i=0
until spsc-coord status >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { cat "$work/coord.log" >&2; exit 1; }
	sleep 0.1
done

# The source fills raw and exits; the two operators drain raw into words
# and exit when raw is empty with nothing in flight.
spsc-source -n 500 --name wordcount -o raw "$work/corpus.txt"
ops=
for n in 1 2; do
	spsc-op -i raw -o words -j 2 --drain --shell -- \
		"tr -cs A-Za-z '\n' | tr A-Z a-z" 2>"$work/op$n.log" &
	ops="$ops $!"
done
pids="$pids $ops"
for p in $ops; do
	wait "$p" || { cat "$work"/op*.log >&2; exit 1; }
done

echo "queues after the map:"
spsc-coord status raw words
spsc-sink -i words --drain >"$work/words"

"$here/reduce.sh" "$work/words" "$work/corpus.txt" "$top"
