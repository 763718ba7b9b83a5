#!/usr/bin/env bats
# The guarantees under fire: source -> queue -> 2 x op -> queue -> sink,
# while the coordinator and the operators are killed with kill -9 and
# restarted.  The sink's file must equal the reference exactly: nothing
# lost, nothing duplicated; and status must have counted redeliveries.
load coord_helpers

setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/spsc-test.XXXXXX")
	cd "$TMP" || return 1
	coord_setup
	export SPSC_CONNECT_TIMEOUT=60s
}

# An operator that takes a little time per atom, so kills land mid-atom.
start_op() {
	spsc-op -i q1 -o q2 -j 2 -t 20s --shell -- 'sleep 0.02; exec awk "{ print \$0 \" ok\" }"' \
		2>>"$TMP/op$1.log" &
	eval "OP$1=$!"
	BG_PIDS="$BG_PIDS $!"
}

@test "chaos: 200k events survive 5 coordinator and 5 operator kill -9s, exactly once" {
	seq -f 'event %06g' 1 200000 > input.txt
	awk '{ print $0 " ok" }' input.txt | sort > expected.txt
	start_coord --visibility 2s
	spsc-coord create q1 --visibility 2s --max-receives 100
	spsc-coord create q2 --visibility 2s --max-receives 100

	spsc-source --name chaos -n 500 -o q1 input.txt 2>source.log &
	SRC=$!
	BG_PIDS="$BG_PIDS $SRC"
	start_op 1
	start_op 2
	spsc-sink -i q2 out.txt 2>sink.log &
	SINK=$!
	BG_PIDS="$BG_PIDS $SINK"

	coord_kills=0 op_kills=0
	for round in 1 2 3 4 5; do
		sleep 0.4
		crash_coord
		coord_kills=$((coord_kills + 1))
		sleep 0.1
		start_coord --visibility 2s
		sleep 0.3
		victim=$((round % 2 + 1))
		eval "kill -9 \$OP$victim"
		op_kills=$((op_kills + 1))
		start_op "$victim"
	done
	echo "kills: coordinator $coord_kills, operators $op_kills" >&3

	# Let the source finish, then drain both queues.
	wait "$SRC"
	wait_for '[ "$(qstat q1 ready)" -eq 0 ] && [ "$(qstat q1 inflight)" -eq 0 ] && [ "$(qstat q1 delayed)" -eq 0 ]' 1200
	wait_for '[ "$(qstat q2 ready)" -eq 0 ] && [ "$(qstat q2 inflight)" -eq 0 ]' 1200
	kill -TERM "$SINK" "$OP1" "$OP2"
	wait "$SINK" || true

	sort out.txt > got.txt
	lost=$(comm -23 expected.txt got.txt | wc -l)
	extra=$(comm -13 expected.txt got.txt | wc -l)
	dups=$(uniq -d got.txt | wc -l)
	redelivered=$(qstat q1 redelivered)
	echo "events: $(wc -l < out.txt), lost $lost, unexpected $extra, duplicated $dups, redeliveries on q1: $redelivered" >&3
	[ "$lost" -eq 0 ]
	[ "$extra" -eq 0 ]
	[ "$dups" -eq 0 ]
	[ "$(wc -l < out.txt)" -eq 200000 ]
	[ "$redelivered" -gt 0 ]
	[ "$(qstat q1 dlq)" -eq 0 ]
}
