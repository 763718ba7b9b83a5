#!/usr/bin/env bats
# DAGs joined by queues, as users run them: the example DAG files under
# spsc run --once, competing consumers, and the status display.
load coord_helpers

teardown() {
	left_behind "$TMP/dag" | awk '{ print $1 }' | xargs -r kill -KILL 2>/dev/null || true
	for p in $BG_PIDS; do kill -9 "$p" 2>/dev/null || true; done
	for p in $BG_PIDS; do wait "$p" 2>/dev/null || true; done
	cd / && rm -rf "$TMP"
}

# left_behind DIR: "PID COMMAND" of each process working in DIR or naming
# it on its command line: what a DAG run there started and should have
# stopped.  (t/dag-run.bats's looks at command lines alone; the example
# DAGs name their files by relative paths, so their stages, which run in
# the DAG file's directory, are known by their working directory.)
left_behind() {
	local p cwd args
	for p in /proc/[0-9]*; do
		cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
		args=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		if [ "$cwd" = "$1" ] || [[ $cwd == "$1"/* ]] || [[ $args == *"$1"* ]]; then
			echo "${p#/proc/} $args"
		fi
	done
}

# example_dag NAME FILE...: a copy of examples/NAME/NAME.dag and the FILEs
# of that example in $TMP/dag, the DAG's directory, with SPSC_HOME in it as
# the example's run.sh has it.
example_dag() {
	local name=$1 f
	shift
	mkdir dag
	for f in "$name.dag" "$@"; do
		cp "$SPSC_SRCDIR/examples/$name/$f" dag/
	done
	export SPSC_HOME="$TMP/dag/state"
}

@test "examples/wordcount/wordcount.dag under spsc run --once counts as plain sort | uniq -c does, and stops what it starts" {
	local ex=$SPSC_SRCDIR/examples/wordcount
	example_dag wordcount combine.awk
	awk -f "$ex/gen-corpus.awk" "$ex/words.txt" >dag/corpus.txt
	run spsc check "$TMP/dag/wordcount.dag"
	[ "$status" -eq 0 ]
	[[ "$output" == *"wordcount.dag: ok: 6 stages, 16 queues" ]]
	run timeout 120 spsc run --once "$TMP/dag/wordcount.dag"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[ "$(grep -c ': finished$' <<<"$output")" -eq 10 ]	# 6 stages, 10 replicas
	[ -z "$(left_behind "$TMP/dag")" ]
	# its coordinator stopped and took its socket with it
	[ ! -e "$SPSC_HOME/dags/wordcount/coord/coord.sock" ]
	run "$ex/top.sh" dag/corpus.txt 3 dag/counts.tsv
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "top 3 of 60225 words (141 distinct) in 6000 lines:" ]
	[ "${lines[1]}" = "   10772  the" ]
	[ "${lines[${#lines[@]} - 1]}" = "same counts as plain tr | sort | uniq -c: yes" ]
	# one line a word: the four reducers never share a word
	[ "$(wc -l <dag/counts.tsv)" -eq 141 ]
	# Again: the source has ingested the corpus already, so nothing new
	# comes and nothing is written twice.
	cp dag/counts.tsv first.tsv
	run timeout 120 spsc run --once "$TMP/dag/wordcount.dag"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	cmp first.tsv dag/counts.tsv
	[ -z "$(left_behind "$TMP/dag")" ]
}

@test "two operator processes share one queue as competing consumers" {
	start_coord
	seq 1 20000 > in.txt
	spsc-source -n 100 -o raw in.txt
	spsc-op -i raw -o out -j 2 --drain --shell -- 'sleep 0.01; cat' 2>op1.log &
	a=$!
	spsc-op -i raw -o out -j 2 --drain --shell -- 'sleep 0.01; cat' 2>op2.log &
	b=$!
	BG_PIDS="$BG_PIDS $a $b"
	wait_for '[ "$(qstat raw consumers)" -eq 2 ]'
	wait "$a"
	wait "$b"
	spsc-sink -i out --drain | sort -n > got.txt
	cmp in.txt got.txt
	[ "$(qstat raw acked)" -eq 200 ]
}

@test "status --watch refreshes until stopped" {
	start_coord
	printf 'a\n' | spsc-source -o raw
	timeout 2.5 spsc-coord status --watch=500ms > watch.txt || true
	[ "$(grep -c '^QUEUE ' watch.txt)" -ge 3 ]
	[ "$(grep -c '^raw ' watch.txt)" -ge 3 ]
}

@test "status shows the oldest ready atom's age and the dead letters" {
	start_coord
	spsc-coord create raw --max-receives 1 --visibility 100ms
	printf 'x\n' | spsc-source -o raw
	QT get raw 1 >/dev/null
	wait_for '[ "$(qstat raw ready)" -eq 1 ]'
	QT get raw 1 >/dev/null
	printf 'y\n' | spsc-source --name other -o raw
	sleep 0.2
	run spsc-coord status raw
	[[ "${lines[1]}" =~ ^raw\ +1\ +0\ +0\ +1\  ]]
	[ "$(qstat raw oldest_age_ms)" -ge 200 ]
	[ "$(qstat raw dead_lettered)" -eq 1 ]
}

@test "examples/campaigns/campaigns.dag under spsc run --once ends by itself, as the reference counts" {
	command -v python3 >/dev/null || skip "no python3"
	command -v mawk >/dev/null || skip "no mawk"
	local ex=$SPSC_SRCDIR/examples/campaigns p
	example_dag campaigns ads.tsv join.awk
	awk -f "$ex/gen-events.awk" "$ex/ads.tsv" >dag/events.json
	run spsc check "$TMP/dag/campaigns.dag"
	[ "$status" -eq 0 ]
	run timeout 120 spsc run --once "$TMP/dag/campaigns.dag"
	[ "$status" -eq 0 ] || { echo "$output"; return 1; }
	[ -z "$(left_behind "$TMP/dag")" ]
	# each reducer that set views aside said how many, 25 in all
	[ "$(sed -n 's/^window\.[0-3]  *| spsc-reduce: \([0-9]*\) late events (behind the watermark) went to \.\/late\.[0-3]\.atoms$/\1/p' <<<"$output" |
		awk '{ n += $1 } END { print n + 0 }')" -eq 25 ]
	for p in 0 1 2 3; do
		[ ! -e "dag/late.$p.atoms" ] || spsc-sink -i "./dag/late.$p.atoms"
	done >late.tsv
	[ "$(wc -l <late.tsv)" -eq 25 ]
	run "$ex/report.sh" dag/counts.tsv late.tsv dag/events.json
	[ "$status" -eq 0 ]
	diff -u "$ex/expected.txt" <(printf '%s\n' "$output")
}
