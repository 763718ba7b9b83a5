#!/usr/bin/env bats
# DAGs joined by queues, as users run them: the example script, competing
# consumers, and the status display.
load coord_helpers

@test "examples/wordcount/queues.sh counts as plain sort | uniq -c does, and stops what it starts" {
	mkdir scratch
	TMPDIR="$TMP/scratch" run "$SPSC_SRCDIR/examples/wordcount/queues.sh" 3
	[ "$status" -eq 0 ]
	[[ "$output" == *"top 3 of 60225 words (141 distinct) in "*" lines:"* ]]
	[[ "$output" == *"   10772  the"* ]]
	[ "${lines[${#lines[@]} - 1]}" = "same counts as plain tr | sort | uniq -c: yes" ]
	# its coordinator's state and socket went with its work directory
	[ -z "$(ls scratch)" ]
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

@test "examples/campaigns/queues.sh: the keyed job over queues ends by itself, as the reference counts" {
	command -v python3 >/dev/null || skip "no python3"
	mkdir scratch
	TMPDIR="$TMP/scratch" run timeout 120 "$SPSC_SRCDIR/examples/campaigns/queues.sh"
	[ "$status" -eq 0 ]
	diff -u "$SPSC_SRCDIR/examples/campaigns/expected.txt" <(printf '%s\n' "$output" | grep -v '^spsc-reduce: ')
	[ -z "$(ls scratch)" ]
}
