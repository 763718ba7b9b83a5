#!/bin/sh
# WordCount, a keyed job, as one DAG file run by spsc: the source cuts the
# corpus into atoms; two maps split them into words; a combiner counts
# each atom's words; spsc-shuffle sends every word to one of four
# partitions, by its key; each partition's spsc-reduce adds up the counts
# of its words; one sink writes them all.  The stages are joined by
# durable queues on a private coordinator, which spsc starts and stops.
#
#   corpus.txt -ingest-> raw -map x2-> words -combine-> partial -split->
#     bykey.0 .. bykey.3 -count x4-> counts -store-> counts.tsv
#
# The job is wordcount.dag; this script only prepares its input in a
# temporary directory, runs `spsc run --once` there and checks the counts.
#
# Usage: examples/wordcount/run.sh [TOP]     (programs from PATH or $SPSC_BIN)
set -eu
export LC_ALL=C

top=${1:-10}
here=$(cd "$(dirname "$0")" && pwd)
[ -z "${SPSC_BIN:-}" ] || PATH=$SPSC_BIN:$PATH
for p in spsc spsc-coord spsc-source spsc-op spsc-shuffle spsc-reduce spsc-sink; do
	command -v "$p" >/dev/null || { echo "run.sh: $p not found on PATH" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/spsc-wordcount.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The DAG and what it refers to by relative path, side by side: the
# stages run in the DAG file's directory.  The corpus is generated, not
# downloaded: the same 290 KB on every machine.
cp "$here/wordcount.dag" "$here/combine.awk" "$work/"
awk -f "$here/gen-corpus.awk" "$here/words.txt" >"$work/corpus.txt"

# A coordinator of the DAG's own, with its state in $work.
export SPSC_HOME="$work/state"
unset SPSC_COORD
spsc run --once "$work/wordcount.dag" 2>"$work/spsc.log" || {
	status=$?
	cat "$work/spsc.log" >&2
	echo "run.sh: spsc run --once exited $status" >&2
	exit 1
}

"$here/top.sh" "$work/corpus.txt" "$top" "$work/counts.tsv"
