#!/usr/bin/env bats
# QUEUE@nats://...: the same endpoints on NATS JetStream.  Every test runs
# a real nats-server (-js) on 127.0.0.1 with a fresh store, and checks
# what the spsc-coord tests check: nothing lost, nothing doubled, leases,
# dead letters, back-pressure, large atoms, and a server killed mid-run.

load nats_helpers

setup() {
	coord_test_setup
	nats_setup
}

lines_of() { seq 1 "$1" | awk '{ printf "%06d %033d\n", $1, 0 }'; }

@test "nats: source to a NATS queue to sink, every event once and in order" {
	lines_of 5000 >in.txt
	spsc-source --no-progress -n 100 -o "q@$NATS_URL" in.txt
	[ "$(qstat q ready)" -eq 50 ]
	spsc-sink -i "q@$NATS_URL" --drain >out.txt
	cmp in.txt out.txt
	[ "$(qstat q ready)" -eq 0 ]
	[ "$(qstat q inflight)" -eq 0 ]
}

@test "nats: SPSC_COORD=nats://... is the default backend" {
	lines_of 300 >in.txt
	spsc-source --no-progress -n 100 -o q in.txt
	spsc-sink -i q --drain >out.txt
	cmp in.txt out.txt
}

@test "nats: spsc-op --warm between two NATS queues" {
	lines_of 20000 >in.txt
	spsc-source --no-progress -n 200 -o a in.txt
	background spsc-op -q --warm -i a -o b -- cat
	wait_for '[ "$(qstat a ready)" -eq 0 ] && [ "$(qstat a inflight)" -eq 0 ]'
	spsc-sink -i b --drain >out.txt
	cmp in.txt out.txt
}

@test "nats: a PUT sent again is dropped as a duplicate (the atom id is the Nats-Msg-Id)" {
	lines_of 1000 >in.txt
	spsc-source --no-progress -n 100 --name src -o q in.txt
	# a rerun, as after a crash (reopen: the first run said it was done)
	spsc-coord reopen q
	spsc-source --no-progress -n 100 --name src -o q in.txt
	[ "$(qstat q ready)" -eq 10 ]
	[ "$(qstat q put)" -eq 10 ]
	spsc-sink -i q --drain >out.txt
	cmp in.txt out.txt
}

@test "nats: an atom whose consumer is killed comes back after the visibility timeout" {
	spsc-coord create q --visibility 1s
	lines_of 10 >in.txt
	spsc-source --no-progress -o q in.txt
	background spsc-op -q -i q -o out -- sleep 60
	wait_for '[ "$(qstat q inflight)" -eq 1 ]'
	kill -9 "$LAST_PID"
	# JetStream counts it in flight until it is delivered again
	[ "$(qstat q ready)" -eq 0 ]
	spsc-sink -i q --drain >out.txt
	cmp in.txt out.txt
	[ "$(qstat q redelivered)" -eq 0 ]
	[ "$(qstat q inflight)" -eq 0 ]
}

@test "nats: past max-receives an atom moves to QUEUE.dlq, once, with its events" {
	spsc-coord create q --visibility 300ms --max-receives 2
	lines_of 10 >in.txt
	spsc-source --no-progress -o q in.txt
	# two deliveries, each to a consumer killed while it holds the atom
	for n in 0 1; do
		background spsc-op -q -i q -o out -- sleep 60
		wait_for "[ \"\$(qstat q inflight)\" -eq 1 ] && [ \"\$(qstat q redelivered)\" -eq $n ]"
		sleep 0.2
		kill -9 "$LAST_PID"
	done
	run spsc-sink -i q --drain
	[ "$status" -eq 0 ]
	[ -z "$(printf '%s\n' "${lines[@]}" | grep -v 'moved to q.dlq')" ]
	[[ "$output" == *"delivered 2 times: moved to q.dlq"* ]]
	[ "$(qstat q ready)" -eq 0 ]
	[ "$(qstat q dlq)" -eq 1 ]
	spsc-sink -i q.dlq --drain >dead.txt
	cmp in.txt dead.txt
}

@test "nats: a full queue (max depth) holds its producer back, and loses nothing" {
	spsc-coord create q --max-depth 2
	lines_of 600 >in.txt
	spsc-source --no-progress -n 100 -o q in.txt 2>src.err &
	SRC=$!
	BG_PIDS="$BG_PIDS $SRC"
	wait_for 'grep -q "queue full" src.err'
	[ "$(qstat q ready)" -eq 2 ]
	spsc-sink -i q --drain >out.txt
	wait "$SRC"
	# (a publish refused while the queue was full goes again later, so
	# the order may change)
	sort out.txt | cmp in.txt -
}

@test "nats: a 64 MB atom goes in chunks and comes out whole" {
	python3 -c '
import sys
line = b"x" * 1023 + b"\n"
sys.stdout.buffer.write(line * (64 * 1024))' >big.txt
	[ "$(stat -c %s big.txt)" -eq 67108864 ]
	spsc-source --no-progress -n 100000 -b 70M --max-atom 70M -o big big.txt
	[ "$(qstat big ready)" -eq 1 ]
	spsc-sink -i big --max-atom 70M --drain >out.txt
	cmp big.txt out.txt
}

@test "nats: nats-server killed -9 mid-run and restarted: nothing lost or doubled" {
	lines_of 20000 >in.txt
	spsc-source --no-progress -n 100 --rate 20000 -o q in.txt 2>src.err &
	SRC=$!
	BG_PIDS="$BG_PIDS $SRC"
	wait_for '[ "$(qstat q ready)" -ge 20 ]'
	crash_nats
	sleep 0.5
	start_nats
	wait "$SRC"
	spsc-sink -i q --drain >out.txt
	# (a publish on its way when the server died goes again after
	# later ones were stored, so the order may change)
	sort out.txt | cmp in.txt -
}

@test "nats: no server: the error names the URL, and the program fails" {
	export SPSC_CONNECT_TIMEOUT=1s
	crash_nats
	lines_of 10 >in.txt
	run spsc-source --no-progress -o q in.txt
	[ "$status" -eq 1 ]
	[[ "$output" == *"q: $NATS_URL: no NATS server answered"* ]]
}

@test "nats: a reader whose queue is deleted under it fails, naming the queue" {
	spsc-coord create q
	run_bounded 20 spsc-sink -i q >out.txt 2>sink.err &
	SINK=$!
	wait_for '[ "$(qstat q consumers)" -eq 1 ]'
	# as the nats CLI's "stream rm" does: the JetStream API's request, in
	# NATS's own text protocol
	exec 5<>"/dev/tcp/127.0.0.1/$NATS_PORT"
	printf 'CONNECT {"verbose":false}\r\nPUB $JS.API.STREAM.DELETE.SPSC_q _INBOX.rm 0\r\n\r\nPING\r\n' >&5
	# (INFO comes first; PONG once the request has been read)
	for _ in 1 2 3 4; do read -r -t 5 line <&5 && [[ $line == PONG* ]] && break; done
	exec 5<&-
	rc=0
	wait "$SINK" || rc=$?
	[ "$rc" -eq 1 ]
	grep -q "error: q: $NATS_URL: stream info: .*10059" sink.err
}

@test "nats: spsc-coord status shows NATS queues in the same columns" {
	lines_of 300 >in.txt
	spsc-source --no-progress -n 100 -o q in.txt
	run spsc-coord status
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "QUEUE "*"READY INFLIGHT"* ]]
	[[ "${lines[1]}" =~ ^q\ +3\ +0\  ]]
}

@test "nats: spsc-coord put and purge work on NATS; the other management commands point to the nats CLI" {
	lines_of 300 | spsc-source --no-progress -n 100 > in.atoms
	spsc-coord put q < in.atoms
	[ "$(qstat q ready)" -eq 3 ]
	run spsc-coord purge q
	[ "$status" -eq 0 ]
	[[ "$output" == *"queue q: 3 atoms purged"* ]]
	[ "$(qstat q ready)" -eq 0 ]
	# unlike spsc-coord's, the ids of purged atoms are remembered for the
	# duplicate window: the same atoms put again are dropped
	spsc-coord put q < in.atoms
	[ "$(qstat q ready)" -eq 0 ]
	lines_of 300 | spsc-source --no-progress --name again -n 100 > in2.atoms
	spsc-coord put q < in2.atoms
	spsc-coord seal q
	spsc-sink -i q > out.txt
	lines_of 300 | cmp - out.txt
	for cmd in delete redrive peek; do
		run spsc-coord "$cmd" q
		[ "$status" -eq 2 ]
		[[ "$output" == *"$cmd: not supported on NATS; use the nats CLI"* ]]
	done
}

@test "nats: SIGTERM stops a reader waiting on an empty NATS queue" {
	spsc-coord create q
	background spsc-sink -i q
	sleep 0.5
	kill -TERM "$LAST_PID"
	wait_for '! kill -0 "$LAST_PID" 2>/dev/null' 60
	run wait "$LAST_PID"
	[ "$status" -eq 0 ]
}

@test "nats: a job over NATS queues ends by itself once its source has finished" {
	lines_of 3000 >in.txt
	spsc-source --no-progress -n 100 -o q1 in.txt
	background spsc-op -q -i q1 -o q2 -- cat
	OP=$LAST_PID
	run spsc-sink -i q2
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat in.txt)" ]
	wait_for '! kill -0 "$OP" 2>/dev/null'
	run wait "$OP"
	[ "$status" -eq 0 ]
	run spsc-coord status
	[[ "${lines[1]}" =~ ^q1\ .*\ 1/1\ complete$ ]]
	[[ "${lines[2]}" =~ ^q2\ .*\ 1/1\ complete$ ]]
}

@test "nats: a finished producer is refused until its queue is reopened" {
	lines_of 100 >in.txt
	spsc-source --no-progress -o q in.txt
	run spsc-source --no-progress -o q in.txt
	[ "$status" -eq 1 ]
	[[ "$output" == *"has finished queue q; it accepts nothing more from it"* ]]
	spsc-coord reopen q
	spsc-source --no-progress -o q in.txt
	# the same atoms, put again within the duplicate window: once
	spsc-sink -i q >out.txt
	cmp in.txt out.txt
}

@test "nats: a queue's watermark is unknown while a producer it waits for has told none" {
	spsc-coord create q --producers 2
	printf 'k 1000\nk 1005\n' > ev.txt
	spsc-source --no-progress --name one --time 2 -o q ev.txt
	[ "$(qwm q)" = "None" ]
	printf 'k 2000\n' > ev2.txt
	spsc-source --no-progress --name two --time 2 -o q ev2.txt
	[ "$(qwm q)" = "1970-01-01T00:16:40Z" ]
}

@test "nats: a reducer closes windows on the queue's watermark while its source still runs" {
	mkfifo in.fifo
	background spsc-source --no-progress -n 1 --time 2 --lateness 1s -o ev in.fifo
	SRC=$LAST_PID
	background spsc-reduce -i ev -o res -k 1 --tumbling 10s --time 2 count
	RED=$LAST_PID
	exec 5>in.fifo
	printf 'k 1000\nk 1001\nk 1005\nk 1012\n' >&5
	# 1012 less 1 s of lateness has passed 1010: [1000, 1010) closes now
	wait_for '[ "$(qstat res ready)" -ge 1 ]' 600
	kill -0 "$SRC"
	printf 'k 1013\n' >&5
	exec 5>&-
	wait "$SRC"
	wait_for '! kill -0 "$RED" 2>/dev/null' 600
	wait "$RED"
	spsc-sink -i res --drain > out.tsv
	printf 'k\t1970-01-01T00:16:40Z\t1970-01-01T00:16:50Z\t3\nk\t1970-01-01T00:16:50Z\t1970-01-01T00:17:00Z\t2\n' > want.tsv
	diff -u want.tsv out.tsv
}

@test "nats: the wordcount DAG, run by spsc on NATS queues, counts exactly" {
	cp "$SPSC_SRCDIR/examples/wordcount/wordcount.dag" "$SPSC_SRCDIR/examples/wordcount/combine.awk" .
	LC_ALL=C awk -f "$SPSC_SRCDIR/examples/wordcount/gen-corpus.awk" \
		"$SPSC_SRCDIR/examples/wordcount/words.txt" >corpus.txt
	run spsc run --once wordcount.dag
	[ "$status" -eq 0 ] || { echo "$output" | tail -n 20; false; }
	LC_ALL=C tr -cs A-Za-z '\n' <corpus.txt | tr A-Z a-z | grep -v '^$' |
		LC_ALL=C sort | uniq -c | awk '{ print $2 "\t" $1 }' | LC_ALL=C sort >ref.tsv
	LC_ALL=C sort counts.tsv | cmp - ref.tsv
}
