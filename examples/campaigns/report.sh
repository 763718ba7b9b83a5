#!/bin/sh
# The report of the campaigns job (run.sh): what the job counted, window
# by window, and the check against reference.py, which computes the same
# counts and late views from the raw events without spsc (they must agree
# exactly; exit 1 if not).
#
# Usage: report.sh COUNTS LATE EVENTS
#   COUNTS  the reducers' results as the sink wrote them, in any order:
#           CAMPAIGN<TAB>START<TAB>END<TAB>COUNT
#   LATE    the late views the reducers set aside, in any order:
#           CAMPAIGN<TAB>EVENT_TIME
#   EVENTS  the generated events
# Given reference.py's own results, it prints expected.txt (see README).
# (writes files named COUNTS.* and LATE.* next to them)
set -eu
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
counts=$1 late=$2 events=$3

sort "$counts" >"$counts.sorted"
"$here/reference.py" --late "$counts.ref-late" --stats "$counts.ref-stats" \
	"$here/ads.tsv" "$events" >"$counts.ref"
read -r nevents nviews disorder nlate <"$counts.ref-stats"

printf '%d ad events, %d views: %d out of order, %d of them late\n' \
	"$nevents" "$nviews" "$disorder" "$nlate"
awk -F '\t' -v late="$(wc -l <"$late")" '
	{ n += $4; if (!($2 in seen)) { seen[$2] = 1; w++ } }
	END { printf "counted %d views in %d results (%d windows); %d late views set aside\n", n, NR, w, late }
' "$counts.sorted"
echo
# Per window: how many campaigns, how many views, and the campaign with
# the most (the smallest id among equals).
sort -t "$(printf '\t')" -k2,2 -k4,4nr -k1,1 "$counts.sorted" | awk -F '\t' '
	function flush() {
		if (win != "")
			printf "%-22s  %9d  %5d  %-36s  %5d\n",
				substr(win, 12, 8) " - " substr(wend, 12, 8),
				ncamp, nview, top, topn
	}
	NR == 1 {
		printf "%-22s  %9s  %5s  %-36s  %5s\n", "window, " substr($2, 1, 10) \
			" UTC", "campaigns", "views", "busiest campaign", "views"
	}
	$2 != win { flush(); win = $2; wend = $3; ncamp = 0; nview = 0; top = $1; topn = $4 }
	{ ncamp++; nview += $4 }
	END { flush() }
'
echo
sort "$late" >"$late.sorted"
sort "$counts.ref-late" >"$counts.ref-late.sorted"
if cmp -s "$counts.sorted" "$counts.ref" &&
	cmp -s "$late.sorted" "$counts.ref-late.sorted"; then
	echo "same counts and late views as reference.py: yes"
else
	echo "same counts and late views as reference.py: NO"
	exit 1
fi
