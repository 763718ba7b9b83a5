#!/bin/sh
# WordCount over pipes: the source cuts the corpus into atoms, two operator
# processes tokenise atoms in parallel, the sink writes the words, and the
# reduce (count, rank) is ordinary sort | uniq -c after the sink.
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

# The map: 500 lines an atom, so the corpus makes 12 atoms for two jobs.
# The sink's statistics go to stderr; stdout carries only the words.
spsc-source -n 500 --name wordcount "$work/corpus.txt" |
	spsc-op -j 2 --shell -- "tr -cs A-Za-z '\n' | tr A-Z a-z" |
	spsc-sink --stats >"$work/words"

"$here/reduce.sh" "$work/words" "$work/corpus.txt" "$top"
