#!/bin/sh
# The last step of run.sh: rank the counts that the reducers wrote, print
# the top TOP, and check every count against the same job done without
# spsc (they must agree exactly; exit 1 if not).
#
# Usage: top.sh CORPUS TOP COUNTS...
#   COUNTS: files of "word<TAB>count" lines, in any order (run.sh gives
#   one, counts.tsv, which the four reducers share); with several (one per
#   partition), how many words each holds is shown too.
#   Writes COUNTS.all, .ranked and .plain beside the first.
set -eu
export LC_ALL=C
corpus=$1 top=$2
shift 2
all=$1.all
tab=$(printf '\t')

sort "$@" >"$all"
sort -t "$tab" -k2,2nr -k1,1 "$all" >"$all.ranked"
printf 'top %d of %d words (%d distinct) in %d lines:\n' "$top" \
	"$(awk -F '\t' '{ n += $2 } END { print n + 0 }' "$all")" \
	"$(wc -l <"$all")" "$(wc -l <"$corpus")"
head -n "$top" "$all.ranked" | awk -F '\t' '{ printf "%8d  %s\n", $2, $1 }'
if [ $# -gt 1 ]; then
	printf 'words per partition:'
	for f in "$@"; do printf ' %d' "$(wc -l <"$f")"; done
	printf '\n'
fi

tr -cs A-Za-z '\n' <"$corpus" | tr A-Z a-z | grep -v '^$' | sort | uniq -c |
	awk '{ print $2 "\t" $1 }' >"$all.plain"
if cmp -s "$all" "$all.plain"; then
	echo "same counts as plain tr | sort | uniq -c: yes"
else
	echo "same counts as plain tr | sort | uniq -c: NO"
	exit 1
fi
