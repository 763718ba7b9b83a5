#!/usr/bin/env bats
# Batched queue endpoints: a GET brings several atoms, PUTs and ACKs go
# many to a request.  What batching must not change: nothing is lost or
# doubled when a consumer dies holding atoms it fetched ahead, or a
# producer dies with writes not yet sent; and a clean stop hands back at
# once what it fetched ahead, and what a GET sent ahead brought.

load nats_helpers

# fill_raw [EVENTS]: 100 atoms of EVENTS (default 1000) events of 100
# bytes into queue raw; in.txt holds the events.
fill_raw() {
	local n=${1:-1000}
	seq 1 $((100 * n)) | awk '{ printf "%06d %093d\n", $1, 0 }' >in.txt
	spsc-source -n "$n" --name fill -o raw in.txt
}

# stuck_sink 'CONDITION': a sink whose output nobody reads: it blocks once
# its pipe is full, holding the rest of what it fetched, and CONDITION
# (on LEASED, what it acked or has in flight) holds.  SINK_PID, and fd 8
# the other end of its output (bats keeps 3 for itself).
stuck_sink() {
	mkfifo out.fifo
	exec 8<>out.fifo
	spsc-sink -i raw >out.fifo 2>sink.err &
	SINK_PID=$!
	BG_PIDS="$BG_PIDS $SINK_PID"
	wait_for 'LEASED=$(( $(qstat raw inflight) + $(qstat raw acked) )); '"$1"
}

# stop_stuck_sink: SIGTERM, and its pipe read into drained.txt until it
# has exited.
stop_stuck_sink() {
	kill -TERM "$SINK_PID"
	cat <&8 >drained.txt &
	BG_PIDS="$BG_PIDS $!"
	wait "$SINK_PID"
	exec 8<&-
}

@test "a consumer killed with a full prefetch buffer: its atoms come back after the lease, and appear once" {
	start_backend
	spsc-coord create raw --visibility 2s
	fill_raw
	# it fetched 32: some acknowledged (what went into its pipe, where a
	# backend acks at once), the rest in flight
	stuck_sink '[ "$LEASED" -eq 32 ]'
	kill -9 "$SINK_PID"
	written=$(qstat raw acked)
	[ "$(qstat raw ready)" -eq 68 ]
	timeout 1 cat <&8 >piped.txt || true
	exec 8<&-
	# what it had not acknowledged comes back after the lease, once; with
	# what it wrote before, that is every event
	spsc-sink -i raw --drain out.txt
	[ "$(wc -l <out.txt)" -eq $(( (100 - written) * 1000 )) ]
	head -n $((written * 1000)) piped.txt | sort - out.txt | cmp - in.txt
}

@test "a clean stop hands back at once what it fetched ahead" {
	start_backend
	spsc-coord create raw --visibility 60s
	fill_raw
	stuck_sink '[ "$LEASED" -eq 32 ]'
	stop_stuck_sink
	# what it wrote (its pipe took a few atoms before it blocked) is
	# acknowledged; the rest of what it fetched is back, long before the
	# 60 s leases would have run out
	acked=$(qstat raw acked)
	[ "$acked" -ge 1 ] && [ "$acked" -le 68 ]
	# (JetStream counts an atom handed back in flight until it is
	# delivered again)
	on_nats || [ "$(qstat raw inflight)" -eq 0 ]
	on_nats || [ "$(( $(qstat raw ready) + acked ))" -eq 100 ]
	wait_for '[ "$(wc -l <drained.txt)" -eq $((acked * 1000)) ]'
	head -n $((acked * 1000)) in.txt | cmp - drained.txt
	# another reader gets the rest, far within the 60 s leases
	timeout 30 spsc-sink -i raw --drain rest.txt
	tail -n +$((acked * 1000 + 1)) in.txt | sort - | cmp - <(sort rest.txt)
}

@test "a GET sent ahead: a clean stop hands its atoms back too" {
	start_backend
	spsc-coord create raw --visibility 60s
	# 100 atoms of 20 KB: the sink's pipe (grown to 1 MiB) takes about 50
	# before it blocks, so it hands out more than half of a GET's 32 and
	# sends the next GET ahead, whose atoms then wait in the endpoint (on
	# NATS, its pull request stays open in the background, and what it
	# brings waits)
	fill_raw 200
	stuck_sink '[ "$LEASED" -gt 32 ]'
	stop_stuck_sink
	# what it wrote is acknowledged; everything else it leased, fetched
	# ahead or not, is back at once, long before the 60 s leases end
	acked=$(qstat raw acked)
	on_nats || [ "$(qstat raw inflight)" -eq 0 ]
	on_nats || [ "$(( $(qstat raw ready) + acked ))" -eq 100 ]
	wait_for '[ "$(wc -l <drained.txt)" -eq $((acked * 200)) ]'
	head -n $((acked * 200)) in.txt | cmp - drained.txt
	timeout 30 spsc-sink -i raw --drain rest.txt
	tail -n +$((acked * 200 + 1)) in.txt | sort - | cmp - <(sort rest.txt)
}

@test "a producer killed with writes not yet sent: a rerun leaves nothing lost or doubled" {
	start_backend
	seq 1 400000 >in.txt
	background spsc-source -n 100 --rate 100000 --name big -o raw in.txt
	src=$LAST_PID
	wait_for '[ "$(qstat raw ready)" -gt 100 ]'
	kill -9 "$src"
	wait "$src" 2>/dev/null || true
	before=$(qstat raw ready)
	[ "$before" -lt 4000 ]
	spsc-source -n 100 --name big -o raw in.txt
	[ "$(qstat raw ready)" -eq 4000 ]
	spsc-sink -i raw --drain out.txt
	sort -n out.txt | cmp - in.txt
}

@test "an op between two batched queues: the output is the input, in order" {
	start_backend
	seq 1 20000 >in.txt
	spsc-source -n 10 -o raw in.txt
	spsc-op -i raw -o mid --drain -- cat
	spsc-sink -i mid --drain out.txt
	cmp out.txt in.txt
	[ "$(qstat raw acked)" -eq 2000 ]
	[ "$(qstat mid acked)" -eq 2000 ]
}
