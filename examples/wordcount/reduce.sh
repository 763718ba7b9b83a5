#!/bin/sh
# The reduce of both WordCount scripts: count and rank the words the
# pipeline wrote, print the top TOP, and check the counts against the same
# job done without spsc (they must agree exactly; exit 1 if not).
# (Once spsc-shuffle exists this becomes a keyed stage.)
#
# Usage: reduce.sh WORDS CORPUS TOP      (writes WORDS.counts, WORDS.plain)
set -eu
export LC_ALL=C
words=$1 corpus=$2 top=$3

grep -v '^$' "$words" | sort | uniq -c | sort -k1,1nr -k2,2 >"$words.counts"

printf 'top %d of %d words (%d distinct) in %d lines:\n' "$top" \
	"$(awk '{ n += $1 } END { print n }' "$words.counts")" \
	"$(wc -l <"$words.counts")" "$(wc -l <"$corpus")"
head -n "$top" "$words.counts" | awk '{ printf "%8d  %s\n", $1, $2 }'

tr -cs A-Za-z '\n' <"$corpus" | tr A-Z a-z | grep -v '^$' |
	sort | uniq -c | sort -k1,1nr -k2,2 >"$words.plain"
if cmp -s "$words.counts" "$words.plain"; then
	echo "same counts as plain tr | sort | uniq -c: yes"
else
	echo "same counts as plain tr | sort | uniq -c: NO"
	exit 1
fi
