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

# The reduce.  (Once spsc-shuffle exists this becomes a keyed stage.)
grep -v '^$' "$work/words" | sort | uniq -c | sort -k1,1nr -k2,2 >"$work/counts"

printf 'top %d of %d words (%d distinct) in %d lines:\n' "$top" \
	"$(awk '{ n += $1 } END { print n }' "$work/counts")" \
	"$(wc -l <"$work/counts")" "$(wc -l <"$work/corpus.txt")"
head -n "$top" "$work/counts" | awk '{ printf "%8d  %s\n", $1, $2 }'

# The same count without spsc: the pipeline must agree with it exactly.
tr -cs A-Za-z '\n' <"$work/corpus.txt" | tr A-Z a-z | grep -v '^$' |
	sort | uniq -c | sort -k1,1nr -k2,2 >"$work/plain"
if cmp -s "$work/counts" "$work/plain"; then
	echo "same counts as plain tr | sort | uniq -c: yes"
else
	echo "same counts as plain tr | sort | uniq -c: NO"
	exit 1
fi
