#!/usr/bin/env bats
# spsc-op over queues: chain acknowledgement, NACK on failure (the queue's
# max-receives dead-letters), leases kept alive by TOUCH, and an operator
# killed mid-atom losing nothing.
load nats_helpers

# numbers N NAME: the events 1..N as atoms of 10 events on queue raw.
numbers() {
	seq 1 "$1" | spsc-source --name "$2" -n 10 -o raw
}

# stop_op PID: SIGTERM drains; the exit status must be 0.  The operator
# may have ended by itself already: its input queue was complete.
stop_op() {
	kill -TERM "$1" 2>/dev/null || true
	wait "$1"
}

@test "op/queue: no coordinator is a clear error, exit 1, not a hang" {
	export SPSC_CONNECT_TIMEOUT=500ms
	no_backend
	run spsc-op -i raw -- cat
	[ "$status" -eq 1 ]
	[[ "$output" == *"raw: $NO_BACKEND_SAYS"* ]]
}

@test "op/queue: every atom is processed, its outputs stored, and only then acked" {
	start_backend
	numbers 200 n
	background spsc-op -i raw -o done -j 2 -- cat
	op=$LAST_PID
	wait_for '[ "$(qstat raw acked)" -eq 20 ]'
	[ "$(qstat raw inflight)" -eq 0 ]
	[ "$(qstat done put)" -eq 20 ]
	stop_op "$op"
	spsc-sink -i done --drain | sort -n > got
	seq 1 200 | cmp - got
}

@test "op/queue: an input whose output a full queue refuses stays unacked until the output is stored" {
	on_nats && skip "spsc-coord's PUT batches and ACKs"
	start_backend
	spsc-coord create done --max-depth 2
	numbers 50 n
	background spsc-op -i raw -o done -- cat
	op=$LAST_PID
	# two outputs fit; the third waits for room, and its input with it
	wait_for '[ "$(qstat done ready)" -eq 2 ] && [ "$(qstat raw acked)" -eq 2 ]'
	sleep 0.5
	[ "$(qstat raw acked)" -eq 2 ]
	[ "$(qstat raw inflight)" -ge 1 ]
	# room, a little at a time: each input is acked once its output is in
	for i in 1 2 3 4 5 6 7 8 9 10; do
		spsc-sink -i done --drain >>got
		[ "$(qstat raw acked)" -le $(( $(wc -l <got) / 10 + 2 )) ]
		[ "$(qstat raw acked)" -eq 5 ] && break
		sleep 0.2
	done
	spsc-sink -i done --drain >>got
	stop_op "$op"
	spsc-sink -i done --drain >>got
	[ "$(qstat raw acked)" -eq 5 ]
	sort -n got | cmp - <(seq 1 50)
}

@test "op/queue: a per-atom op leases only the atoms its slots start on" {
	start_backend
	numbers 100 n
	background spsc-op -j 2 -i raw -o done --shell -- 'sleep 2; cat'
	op=$LAST_PID
	# nothing fetched ahead waits, leased, while the commands run: the
	# other eight are there for any other consumer
	wait_for '[ "$(qstat raw inflight)" -eq 2 ]'
	sleep 0.5
	[ "$(qstat raw inflight)" -eq 2 ]
	[ "$(qstat raw ready)" -eq 8 ]
	stop_op "$op"
	[ "$(qstat raw acked)" -eq 2 ]
}

@test "op/queue: a failure is NACKed; max-receives moves it to NAME.dlq; the rest flow on" {
	start_backend
	spsc-coord create raw --max-receives 2
	numbers 100 p
	background spsc-op -i raw -o done -- awk '$1 == 55 { exit 4 } { print }'
	op=$LAST_PID
	wait_for '[ "$(qstat raw.dlq ready)" -eq 1 ] && [ "$(qstat raw acked)" -eq 9 ]'
	[ "$(qstat raw inflight)" -eq 0 ]
	stop_op "$op"
	[ "$(spsc-sink -i done --drain | wc -l)" -eq 90 ]
	[ "$(spsc-sink -i raw.dlq --drain | tr '\n' ' ')" = "51 52 53 54 55 56 57 58 59 60 " ]
}

@test "op/queue: a long invocation keeps its atom by extending the lease" {
	start_backend
	spsc-coord create raw --visibility 1s
	seq 1 3 | spsc-source -n 10 -o raw
	background spsc-op -i raw -o done -t 10s --shell -- 'sleep 2.5; cat'
	op=$LAST_PID
	wait_for '[ "$(qstat raw acked)" -eq 1 ]' 200
	[ "$(qstat raw redelivered)" -eq 0 ]
	stop_op "$op"
	[ "$(spsc-sink -i done --drain | tr '\n' ' ')" = "1 2 3 " ]
}

@test "op/queue: an operator killed mid-atom loses nothing; the atom comes out once" {
	start_backend
	spsc-coord create raw --visibility 1s
	numbers 30 k
	# The first operator hangs on the atom holding 15, and is killed.
	background spsc-op -i raw -o done --shell -- \
		'in=$(cat); case $in in *15*) echo $$ > hung.pid; exec sleep 30;; esac; printf "%s\n" "$in"'
	first=$LAST_PID
	wait_for '[ -s hung.pid ]'
	kill -9 "$first"
	kill -9 "$(cat hung.pid)"
	# A second one gets it once the lease runs out.
	background spsc-op -i raw -o done -- cat
	second=$LAST_PID
	wait_for '[ "$(qstat raw acked)" -eq 3 ]' 200
	# (JetStream counts only redeliveries not yet acknowledged)
	on_nats || [ "$(qstat raw redelivered)" -ge 1 ]
	stop_op "$second"
	spsc-sink -i done --drain | sort -n > got
	seq 1 30 | cmp - got
}

@test "op/queue: an atom that comes while another is worked on is taken at once; a clean stop leaves no GET waiting" {
	start_backend
	spsc-coord create raw --visibility 60s
	echo slow | spsc-source --name a -o raw
	background spsc-op -j 2 -i raw -o done --shell -- \
		'read -r x; [ "$x" = slow ] && sleep 3; echo "$x"'
	op=$LAST_PID
	wait_for '[ "$(qstat raw inflight)" -eq 1 ]'
	# the free slot's look left a GET waiting in the coordinator (on
	# NATS, a pull request open): the next atom goes straight to it,
	# while the first still runs
	echo fast | spsc-source --name b -o raw
	wait_for '[ "$(qstat done ready)" -eq 1 ]'
	[ "$(qstat raw inflight)" -eq 1 ]
	stop_op "$op"
	[ "$(qstat raw acked)" -eq 2 ]
	# the stop waited for its last GET's answer: nothing is leased to a
	# reader that has gone
	echo late | spsc-source --name c -o raw
	[ "$(qstat raw ready)" -eq 1 ]
	[ "$(qstat raw inflight)" -eq 0 ]
	[ "$(spsc-sink -i done --drain | tr '\n' ' ')" = "fast slow " ]
}
