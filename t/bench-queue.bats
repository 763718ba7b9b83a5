#!/usr/bin/env bats
# bench/queue is a benchmark, not a test; this only checks that it still
# builds its client and runs on tiny sizes with spsc alone (no peers,
# nothing installed), and reports what it should.

load helpers

@test "bench/queue: a tiny spsc-only raw run proves every atom and prints the table" {
	run env SPSC_BIN="$SPSC_BUILDDIR" TMPDIR="$TMP" "$SPSC_SRCDIR/bench/queue" \
		--quick --spsc-only -p 1 --atoms 2000,20
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"raw PUT -> GET -> ACK, 1 producer, batch 100 (1-event) / 10 (1000-event) atoms a message"* ]]
	for w in "1-event atoms, 1 consumer " "1-event atoms, 2 consumers" \
		"1000-event atoms, 1 consumer " "1000-event atoms, 2 consumers"; do
		echo "$output" | grep -Eq "^$w +spsc +(2000|20) +[0-9]+\.[0-9]{3} +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+$"
	done
	# No peer ran, so there is no ratio, and it says why.
	[[ $output == *"1-event atoms, 1 consumer       -     (needs spsc and at least one peer)"* ]]
	[[ $output == *"spsc            spsc-coord serve --home DIR --fsync interval=1000 --bind tcp://127.0.0.1:PORT"* ]]
	[[ $output == *"qb-spsc -s tcp://127.0.0.1:PORT -q bq -e 1000 -a 20 -b 10 -c 2"* ]]
	[[ $output != *beanstalkd* && $output != *redis* && $output != *nats* ]]
	# Servers, data and clients are gone.
	[ -z "$(ls -A "$TMP")" ]
}

@test "bench/queue: --atoms and --batch reach the client; -k keeps each run's result line" {
	run env SPSC_BIN="$SPSC_BUILDDIR" TMPDIR="$TMP" "$SPSC_SRCDIR/bench/queue" \
		--quick --spsc-only -p 1 --atoms 500,5 --batch 7,3 -k
	echo "$output"
	[ "$status" -eq 0 ]
	work=$(echo "$output" | sed -n 's/^kept: *//p')
	[ -d "$work" ]
	# Every run's line: all offered atoms came back once.
	[ "$(grep -c ' lost=0 dup=0 bad=0 .* ok srv_cpu_s=[0-9.]* cpu_mev=[0-9.]*$' "$work/raw.txt")" -eq 4 ]
	grep -q 'sys=spsc e=1 c=2 system=spsc atoms=500 events=500 batch=7 consumers=2 ' "$work/raw.txt"
	grep -q 'sys=spsc e=1000 c=1 system=spsc atoms=5 events=5000 batch=3 consumers=1 ' "$work/raw.txt"
}

@test "bench/queue: --window 1 and --window 8 both prove every atom and show the window" {
	for w in 1 8; do
		run env SPSC_BIN="$SPSC_BUILDDIR" TMPDIR="$TMP" "$SPSC_SRCDIR/bench/queue" \
			--quick --spsc-only -p 1 --atoms 2000,20 --window "$w" -k
		echo "$output"
		[ "$status" -eq 0 ]
		[[ $output == *"raw PUT -> GET -> ACK, 1 producer, batch 100 (1-event) / 10 (1000-event) atoms a message, window $w"* ]]
		[[ $output == *"qb-spsc -s tcp://127.0.0.1:PORT -q bq -e 1000 -a 20 -b 10 -c 2 -w $w"* ]]
		work=$(echo "$output" | sed -n 's/^kept: *//p')
		[ -d "$work" ]
		# Every run's line: all offered atoms came back once, with
		# the window asked for.
		[ "$(grep -c " window=$w .* lost=0 dup=0 bad=0 .* ok srv_cpu_s=" "$work/raw.txt")" -eq 4 ]
		rm -rf "$work"
	done
}

@test "bench/queue: a tiny end-to-end run proves the pipeline and prints its latency" {
	run env SPSC_BIN="$SPSC_BUILDDIR" TMPDIR="$TMP" "$SPSC_SRCDIR/bench/queue" \
		--quick -p 3 --e2e-events 20000 --lat-rates 2000 --lat-time 1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"verify:   end to end: 20000 events in, 20000 out, 0 duplicates: ok"* ]]
	# a figure for every transport (queues, nats and nats3 where
	# nats-server is installed, pipes), then queues / pipes
	echo "$output" | grep -Eq '^  events/s, 1000-event atoms( +[0-9]+){2,4} +[0-9]+\.[0-9]{2}$'
	# ... and the machine's own floor beside the latency
	echo "$output" | grep -Eq '^  latency p50 / p99 ms at +queues( +[a-z0-9]+)* +cat floor$'
	echo "$output" | grep -Eq '^    2000 events/s offered( +[0-9]+\.[0-9]{2} / [0-9]+\.[0-9]{2}){3,5}$'
	[[ $output == *"  { sleep 0.5; latprobe send RATE EVENTS; } | cat | cat | cat | latprobe recv"* ]]
	[[ $output == *"  spsc-op -q --warm -i q1 -o q2 -- cat &"* ]]
	# a latency run's input waits for the programs to start, and over
	# queues for the readers to wait on them; the queues are made first
	[[ $output == *"  spsc-coord create q1; spsc-coord create q2"* ]]
	[[ $output == *"# for latency: { sleep 0.5; READERS_READY; cat DATA; } | spsc-source --no-progress --rate RATE -n 100 -l 0 -o q1 - &"* ]]
	[[ $output == *"# READERS_READY: until spsc-coord status shows a consumer on q1 and on q2 (30 s at most)"* ]]
	[[ $output == *"the input held back 0.5 s (and over queues until the op and the"* ]]
	[[ $output == *"  spsc-source --no-progress -n 1000 DATA | spsc-op -q --warm -- cat | spsc-sink --stats=json >/dev/null"* ]]
	[[ $output != *"raw PUT"* ]]
	[ -z "$(ls -A "$TMP")" ]
}

@test "bench/queue: bad arguments are usage errors" {
	run "$SPSC_SRCDIR/bench/queue" -r 0
	[ "$status" -eq 2 ]
	[[ $output == *"bad run count: 0"* ]]
	run "$SPSC_SRCDIR/bench/queue" --atoms 12
	[ "$status" -eq 2 ]
	[[ $output == *"bad --atoms: 12 (want N,M)"* ]]
	run "$SPSC_SRCDIR/bench/queue" --batch 10,2000
	[ "$status" -eq 2 ]
	[[ $output == *"at most 1000 atoms"* ]]
	run "$SPSC_SRCDIR/bench/queue" --window 0
	[ "$status" -eq 2 ]
	[[ $output == *"bad --window: 0 (want 1 to 16)"* ]]
	run "$SPSC_SRCDIR/bench/queue" --window 17
	[ "$status" -eq 2 ]
	[[ $output == *"bad --window: 17 (want 1 to 16)"* ]]
	run "$SPSC_SRCDIR/bench/queue" --lat-rates 1000,x
	[ "$status" -eq 2 ]
	[[ $output == *"bad --lat-rates: 1000,x"* ]]
	run "$SPSC_SRCDIR/bench/queue" -s spsc,kafka
	[ "$status" -eq 2 ]
	[[ $output == *"unknown system: kafka"* ]]
	run "$SPSC_SRCDIR/bench/queue" --help
	[ "$status" -eq 0 ]
	[[ $output == Usage:* ]]
}
