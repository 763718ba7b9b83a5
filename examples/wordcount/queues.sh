#!/bin/sh
# WordCount over queues: the keyed job of run.sh, with its stages joined
# by durable queues on a private coordinator instead of pipes.  Two map
# processes compete for the atoms of one queue; the shuffle writes four
# partition queues, bykey.0 .. bykey.3, each read by its own reducer; the
# four reducers write one queue, counts.  Any process could be killed and
# restarted without losing or double-counting a word.
#
#   corpus -source-> raw -2 x map-> words -combine-> partial -shuffle->
#     bykey.0 .. bykey.3 -4 x reduce-> counts -sink-> file
#
# Every stage runs at once and ends by itself: a stage whose input queue
# is complete (its producers are done and it is empty) finishes, says so
# on its output queue, and exits, so completion flows down the job.
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

# Four reducers write into counts: it is complete once all four are done.
spsc-coord create counts --producers 4 >"$work/create.log" 2>&1 ||
	{ cat "$work/create.log" >&2; exit 1; }

# The stages, all started together; each waits for atoms as they come.
stages=
spsc-source -n 500 --name wordcount -o raw "$work/corpus.txt" 2>"$work/source.log" &
stages="$stages $!"
for n in 1 2; do
	spsc-op -i raw -o words -j 2 --shell -- \
		"tr -cs A-Za-z '\n' | tr A-Z a-z" 2>"$work/map$n.log" &
	stages="$stages $!"
done
spsc-op -i words -o partial -- awk -f "$here/combine.awk" 2>"$work/combine.log" &
stages="$stages $!"
spsc-shuffle -i partial -k 1 -t '\t' -p 4 -o bykey 2>"$work/shuffle.log" &
stages="$stages $!"
for n in 0 1 2 3; do
	spsc-reduce -i bykey.$n -o counts -k 1 -t '\t' sum:2 2>"$work/reduce$n.log" &
	stages="$stages $!"
done
pids="$pids $stages"

# The sink ends when counts is complete, that is, when the whole job is.
spsc-sink -i counts >"$work/counts" 2>"$work/sink.log" ||
	{ cat "$work"/*.log >&2; exit 1; }
for p in $stages; do
	wait "$p" || { cat "$work"/*.log >&2; exit 1; }
done

echo "queues at the end:"
spsc-coord status raw words partial bykey.0 bykey.1 bykey.2 bykey.3 counts
"$here/top.sh" "$work/corpus.txt" "$top" "$work/counts"
