#!/bin/sh
# WordCount over pipes, as a keyed job: the source cuts the corpus into
# atoms; the map splits them into words; a combiner counts each atom's
# words; spsc-shuffle sends every word to one of four partitions, by its
# key; each partition's spsc-reduce adds up the counts of its words.
#
#   corpus -source-> map (2 at a time) -> combine -> shuffle -+-> reduce 0 -> sink
#                                                            +-> reduce 1 -> sink
#                                                            +-> reduce 2 -> sink
#                                                            +-> reduce 3 -> sink
#
# Usage: examples/wordcount/run.sh [TOP]     (programs from PATH or $SPSC_BIN)
set -eu
export LC_ALL=C

top=${1:-10}
here=$(cd "$(dirname "$0")" && pwd)
[ -z "${SPSC_BIN:-}" ] || PATH=$SPSC_BIN:$PATH

work=$(mktemp -d "${TMPDIR:-/tmp}/spsc-wordcount.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The corpus is generated, not downloaded: the same 290 KB on every machine.
awk -f "$here/gen-corpus.awk" "$here/words.txt" >"$work/corpus.txt"

# The four partitions are FIFOs, each read by its reducer, whose results
# (one "word<TAB>count" line per word) a sink writes out.
parts=4
reducers=
n=0
while [ "$n" -lt "$parts" ]; do
	mkfifo "$work/part$n"
	spsc-reduce -k 1 -t '\t' sum:2 <"$work/part$n" |
		spsc-sink >"$work/counts$n" &
	reducers="$reducers $!"
	n=$((n + 1))
done

# The map: 500 lines an atom, so the corpus makes 12 atoms, tokenised two
# at a time.  The combiner runs once per atom; the shuffle keys on the
# word, the first tab-separated field.
status=0
spsc-source -n 500 --name wordcount "$work/corpus.txt" |
	spsc-op -j 2 --shell -- "tr -cs A-Za-z '\n' | tr A-Z a-z" |
	spsc-op -- awk -f "$here/combine.awk" |
	spsc-shuffle -k 1 -t '\t' -p "$parts" -o "$work/part%d" || status=$?
if [ "$status" -ne 0 ]; then
	# A reducer whose FIFO was never opened would wait for ever: open
	# each once (read-write, which never blocks), so that all end.
	for n in $(seq 0 $((parts - 1))); do : <>"$work/part$n"; done
fi
for p in $reducers; do
	wait "$p" || status=1
done
[ "$status" -eq 0 ] || exit 1

"$here/top.sh" "$work/corpus.txt" "$top" "$work"/counts[0-9]*
