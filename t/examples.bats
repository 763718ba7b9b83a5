#!/usr/bin/env bats
# examples/: each run.sh runs for real on the freshly built programs (the
# DAG files under spsc run --once) and prints exactly its expected output,
# and leaves no file behind.

load helpers

# run_example NAME [ARG...]: runs examples/NAME/run.sh from an empty
# directory with a private TMPDIR; stdout to out, stderr to err.
run_example() {
	local name=$1
	shift
	mkdir -p cwd tmpdir
	status=0
	# bounded: an example that hangs fails, and is killed with its group
	(cd cwd && TMPDIR=$TMP/tmpdir timeout -k 10 300 \
		"$SPSC_SRCDIR/examples/$name/run.sh" "$@") >out 2>err || status=$?
}

# expect_clean: the example removed its temp files and wrote nothing else.
expect_clean() {
	if [ -n "$(ls -A cwd)" ] || [ -n "$(ls -A tmpdir)" ]; then
		ls -lAR cwd tmpdir
		return 1
	fi
}

show() {
	echo "exit status $status; stderr:"
	cat err
}

@test "wordcount: prints the expected top words" {
	run_example wordcount
	[ "$status" -eq 0 ] || { show; return 1; }
	diff -u "$SPSC_SRCDIR/examples/wordcount/expected.txt" out || { show; return 1; }
	expect_clean
}

@test "wordcount: TOP sets the number of words shown" {
	run_example wordcount 3
	[ "$status" -eq 0 ] || { show; return 1; }
	[ "$(sed -n 1p out)" = "top 3 of 60225 words (141 distinct) in 6000 lines:" ]
	[ "$(sed -n 2,4p out)" = "$(sed -n 2,4p "$SPSC_SRCDIR/examples/wordcount/expected.txt")" ]
	# the header, 3 words and the check (one counts file: no words per
	# partition)
	[ "$(wc -l <out)" -eq 5 ]
	[ "$(tail -n 1 out)" = "same counts as plain tr | sort | uniq -c: yes" ]
	expect_clean
}

@test "wordcount: the corpus is the same with every awk" {
	local a sums=
	for a in gawk mawk original-awk busybox; do
		command -v "$a" >/dev/null || continue
		[ "$a" = busybox ] && a="busybox awk"
		sums+="$($a -f "$SPSC_SRCDIR/examples/wordcount/gen-corpus.awk" \
			"$SPSC_SRCDIR/examples/wordcount/words.txt" | cksum) "$'\n'
	done
	[ -n "$sums" ] || skip "no awk by name"
	[ "$(printf '%s' "$sums" | sort -u | wc -l)" -eq 1 ]
}

@test "logfilter: good records out, poison atom dead-lettered, exit 3" {
	run_example logfilter
	[ "$status" -eq 0 ] || { show; return 1; }
	diff -u "$SPSC_SRCDIR/examples/logfilter/expected.txt" out || { show; return 1; }
	expect_clean
}

@test "logfilter: the operator's complaint reaches stderr" {
	run_example logfilter
	grep -q 'filter.awk: cannot parse record: .*level=POISON' err || { show; return 1; }
}

@test "logfilter: app.log is what gen-log.awk writes" {
	awk -f "$SPSC_SRCDIR/examples/logfilter/gen-log.awk" |
		cmp - "$SPSC_SRCDIR/examples/logfilter/app.log"
}

@test "campaigns: counts per campaign and window as the reference does" {
	command -v python3 >/dev/null || skip "no python3"
	command -v mawk >/dev/null || skip "no mawk (campaigns.dag runs it)"
	run_example campaigns
	[ "$status" -eq 0 ] || { show; return 1; }
	diff -u "$SPSC_SRCDIR/examples/campaigns/expected.txt" out || { show; return 1; }
	grep -q 'spsc-reduce: .* late events' err || { show; return 1; }
	expect_clean
}

@test "campaigns: another seed, another stream, the same agreement" {
	command -v python3 >/dev/null || skip "no python3"
	command -v mawk >/dev/null || skip "no mawk (campaigns.dag runs it)"
	run_example campaigns 11
	[ "$status" -eq 0 ] || { show; return 1; }
	[ "$(tail -n 1 out)" = "same counts and late views as reference.py: yes" ]
	! cmp -s "$SPSC_SRCDIR/examples/campaigns/expected.txt" out
	expect_clean
}

@test "campaigns: expected.txt is what reference.py computes, without spsc" {
	command -v python3 >/dev/null || skip "no python3"
	local d=$SPSC_SRCDIR/examples/campaigns
	awk -f "$d/gen-events.awk" "$d/ads.tsv" >events.json
	"$d/reference.py" --late late.tsv "$d/ads.tsv" events.json >counts.tsv
	"$d/report.sh" counts.tsv late.tsv events.json >report.txt
	diff -u "$d/expected.txt" report.txt
	# One count off, or one late view missing, and the check says so.
	awk -F '\t' -v OFS='\t' 'NR == 5 { $4++ } 1' counts.tsv >bad.tsv
	run "$d/report.sh" bad.tsv late.tsv events.json
	[ "$status" -eq 1 ]
	[ "${lines[${#lines[@]} - 1]}" = "same counts and late views as reference.py: NO" ]
	sed 1d late.tsv >fewer.tsv
	run "$d/report.sh" counts.tsv fewer.tsv events.json
	[ "$status" -eq 1 ]
}

@test "campaigns: ads.tsv is what gen-ads.awk writes; the events are the same with every awk" {
	local a d=$SPSC_SRCDIR/examples/campaigns sums=
	awk -f "$d/gen-ads.awk" | cmp - "$d/ads.tsv"
	for a in gawk mawk original-awk busybox; do
		command -v "$a" >/dev/null || continue
		[ "$a" = busybox ] && a="busybox awk"
		$a -f "$d/gen-ads.awk" | cmp - "$d/ads.tsv"
		sums+="$($a -v events=3000 -f "$d/gen-events.awk" "$d/ads.tsv" | cksum) "$'\n'
	done
	[ -n "$sums" ] || skip "no awk by name"
	[ "$(printf '%s' "$sums" | sort -u | wc -l)" -eq 1 ]
}

@test "campaigns: join.awk answers every atom at once, warm, in each awk" {
	local a d=$SPSC_SRCDIR/examples/campaigns
	awk -v events=5000 -f "$d/gen-events.awk" "$d/ads.tsv" >events.json
	grep '"event_type":"view"' events.json | wc -l >views
	for a in "mawk -W interactive" gawk "busybox awk" original-awk; do
		command -v "${a%% *}" >/dev/null || continue
		# -t 5s -r 1: an atom whose marker never came would fail.
		spsc-source -n 1000 events.json |
			spsc-op -q --warm -t 5s -r 1 --dlq ./dead.atoms -- \
				$a -v ads="$d/ads.tsv" -f "$d/join.awk" |
			spsc-sink >"joined"
		[ ! -s dead.atoms ]
		[ "$(wc -l <joined)" -eq "$(cat views)" ]
		# CAMPAIGN<TAB>EVENT_TIME, the campaign from the table.
		awk -F '\t' 'NF != 2 || length($1) != 36 || length($2) != 13 ||
			$2 !~ /^[0-9]+$/ { exit 1 }' joined
	done
}

@test "README's tour shows wordcount.dag as it is, and the example DAGs pass spsc check" {
	# the indented lines after "$ cat wordcount.dag", up to the first
	# line that is neither indented nor empty, less the blank end
	awk '/^    \$ cat wordcount.dag$/ { on = 1; next }
	     on && /^[^ ]/ { exit }
	     on { sub(/^    /, ""); print }' "$SPSC_SRCDIR/README" |
		sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >shown.dag
	diff -u "$SPSC_SRCDIR/examples/wordcount/wordcount.dag" shown.dag
	for d in wordcount campaigns; do
		spsc check -q "$SPSC_SRCDIR/examples/$d/$d.dag"
	done
}

@test "cluster: the wordcount DAG on a 3-node NATS cluster prints the same top words" {
	command -v nats-server >/dev/null ||
		skip "nats-server is not installed (apt-get install nats-server)"
	run_example cluster auto
	[ "$status" -eq 0 ] || { show; return 1; }
	diff -u "$SPSC_SRCDIR/examples/cluster/expected.txt" out || { show; return 1; }
	expect_clean
}
