#!/usr/bin/env bats
# The guarantees under fire: source -> queue -> 2 x op -> queue -> sink,
# while the coordinator and the operators (and, in the long run, the sink)
# are killed with kill -9 and restarted.  The sink's file must equal the
# reference exactly: nothing lost, nothing duplicated; and status must
# have counted redeliveries.
#
# make check runs the short version: 200k events, five rounds of one
# coordinator and one operator kill.  `make chaos` sets the knobs:
#
#   CHAOS_KILLS       kill -9s in all, at random moments and on random
#                     victims (coordinator or an operator)
#   CHAOS_SINK_KILLS  how many of those kill the sink instead (default 0)
#   CHAOS_EVENTS      events through the pipeline (default 200000)
#   CHAOS_RATE        the source's --rate, events per second, so that the
#                     events flow for as long as the kills go on (default:
#                     as fast as it can)
#   CHAOS_SEED        seed of the random schedule (default 1)
load coord_helpers

setup() {
	coord_test_setup
	export SPSC_CONNECT_TIMEOUT=60s
}

# An operator that takes a little time per atom, so kills land mid-atom.
start_op() {
	spsc-op -i q1 -o q2 -j 2 -t 20s --shell -- 'sleep 0.02; exec awk "{ print \$0 \" ok\" }"' \
		2>>"$TMP/op$1.log" &
	eval "OP$1=$!"
	BG_PIDS="$BG_PIDS $!"
}

start_sink() {
	spsc-sink -i q2 out.txt 2>>"$TMP/sink.log" &
	SINK=$!
	BG_PIDS="$BG_PIDS $SINK"
}

# The victim may have ended by itself already: its input was complete.
kill9() {
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# The short run: five rounds, each killing the coordinator, then an
# operator.
rounds_of_kills() {
	for round in 1 2 3 4 5; do
		sleep 0.4
		crash_coord
		coord_kills=$((coord_kills + 1))
		sleep 0.1
		start_coord --visibility 2s
		sleep 0.3
		victim=$((round % 2 + 1))
		eval "kill9 \$OP$victim"
		op_kills=$((op_kills + 1))
		start_op "$victim"
	done
}

# The long run: CHAOS_KILLS kills, CHAOS_SINK_KILLS of them of the sink and
# the others of the coordinator or an operator, in a shuffled order, each
# after a random pause of 50 to 500 ms; every victim is restarted at once.
random_kills() {
	local total=$CHAOS_KILLS sinks=${CHAOS_SINK_KILLS:-0} i victim
	RANDOM=${CHAOS_SEED:-1}
	for i in $(seq 1 "$total"); do
		if [ $((RANDOM % (total - i + 1))) -lt "$sinks" ]; then
			victim=sink
			sinks=$((sinks - 1))
		else
			victim=$(( RANDOM % 3 ))
		fi
		sleep "0.$(printf '%03d' $((50 + RANDOM % 450)))"
		case $victim in
		sink)
			kill9 "$SINK"
			sink_kills=$((sink_kills + 1))
			start_sink ;;
		0)
			crash_coord
			coord_kills=$((coord_kills + 1))
			start_coord --visibility 2s ;;
		*)
			eval "kill9 \$OP$victim"
			op_kills=$((op_kills + 1))
			start_op "$victim" ;;
		esac
	done
}

@test "chaos: every event survives kill -9s of the coordinator, the operators and the sink, exactly once, and the job ends by itself" {
	local events=${CHAOS_EVENTS:-200000} drain=1200
	seq -f 'event %07g' 1 "$events" > input.txt
	awk '{ print $0 " ok" }' input.txt | sort > expected.txt
	start_coord --visibility 2s
	spsc-coord create q1 --visibility 2s --max-receives 100
	spsc-coord create q2 --visibility 2s --max-receives 100

	spsc-source --name chaos -n 500 ${CHAOS_RATE:+--rate "$CHAOS_RATE"} -o q1 input.txt 2>source.log &
	SRC=$!
	BG_PIDS="$BG_PIDS $SRC"
	start_op 1
	start_op 2
	start_sink

	coord_kills=0 op_kills=0 sink_kills=0
	if [ -n "${CHAOS_KILLS:-}" ]; then
		random_kills
		drain=$((drain * 5))
	else
		rounds_of_kills
	fi
	echo "kills: coordinator $coord_kills, operators $op_kills, sink $sink_kills" >&3

	# The job ends by itself: once the source has finished and q1 is
	# drained, q1 is complete, the operators finish q2 and exit 0, and
	# the sink ends when q2 is drained too.
	wait "$SRC"
	wait_for '! kill -0 "$SINK" 2>/dev/null' "$drain"
	wait "$SINK"
	# an operator that failed says why in its log
	wait "$OP1" || { cat "$TMP"/op*.log; false; }
	wait "$OP2" || { cat "$TMP"/op*.log; false; }
	[ "$(qstat q1 complete)" -eq 1 ]
	[ "$(qstat q2 complete)" -eq 1 ]

	sort out.txt > got.txt
	lost=$(comm -23 expected.txt got.txt | wc -l)
	extra=$(comm -13 expected.txt got.txt | wc -l)
	dups=$(uniq -d got.txt | wc -l)
	redelivered=$(qstat q1 redelivered)
	echo "events: $(wc -l < out.txt), lost $lost, unexpected $extra, duplicated $dups, redeliveries on q1: $redelivered" >&3
	[ "$lost" -eq 0 ]
	[ "$extra" -eq 0 ]
	[ "$dups" -eq 0 ]
	[ "$(wc -l < out.txt)" -eq "$events" ]
	[ "$redelivered" -gt 0 ]
	[ "$(qstat q1 dlq)" -eq 0 ]
}
