#!/usr/bin/env bats
# Exactly-once keyed aggregates under fire: a source stamps event times,
# two operators keep the views, a shuffle partitions them by campaign, four
# reducers count views per campaign per 10 s window, and a sink writes the
# counts.  The coordinator, the shuffle and the reducers are killed with
# kill -9 and restarted, again and again.  The job must end by itself, and
# its counts must equal an independent count of the input exactly: no
# window counted twice, no event lost.
#
#   CHAOS_KEYED_EVENTS  events in the input (default 60000)
#   CHAOS_KEYED_ROUNDS  rounds of kills: each kills the coordinator, the
#                       shuffle and one reducer (default 5)
#   CHAOS_KEYED_SEED    seed of the reducer victims and pauses (default 1)
load coord_helpers

setup() {
	coord_test_setup
	export SPSC_CONNECT_TIMEOUT=60s
}

# campaign <TAB> type <TAB> epoch seconds, in time order but for a
# jitter of up to 2 s, well within the source's 5 s of lateness
make_input() {
	awk -v n="$1" 'BEGIN {
		srand(7)
		for (i = 0; i < n; i++) {
			t = 1764500000 + int(i / 50) + int(rand() * 3) - 2
			printf "c%d\t%s\t%d\n", int(rand() * rand() * 40), (rand() < 0.6 ? "view" : "click"), t
		}
	}'
}

# The reference: views per campaign per 10 s window, as spsc-reduce
# prints them (RFC 3339 UTC).
reference() {
	python3 - "$1" <<'PY'
import collections, sys, time
n = collections.Counter()
for line in open(sys.argv[1]):
    c, kind, t = line.rstrip("\n").split("\t")
    if kind == "view":
        n[(c, int(t) // 10 * 10)] += 1
fmt = lambda s: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))
for (c, s), k in sorted(n.items()):
    print("%s\t%s\t%s\t%d" % (c, fmt(s), fmt(s + 10), k))
PY
}

start_shuffle() {
	spsc-shuffle -i views -k 1 -t '\t' -p 4 -o bycamp 2>>"$TMP/shuffle.log" &
	SHUF=$!
	BG_PIDS="$BG_PIDS $!"
}

start_reduce() {
	spsc-reduce -i "bycamp.$1" -o counts -k 1 -t '\t' --time 3 \
		--tumbling 10s --checkpoint 300ms count 2>>"$TMP/reduce$1.log" &
	eval "RED$1=$!"
	BG_PIDS="$BG_PIDS $!"
}

kill9() {
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

@test "chaos keyed: kill -9 of coordinator, shuffle and reducers; the counts are exact and the job ends by itself" {
	local events=${CHAOS_KEYED_EVENTS:-60000} rounds=${CHAOS_KEYED_ROUNDS:-5}
	command -v spsc-reduce
	make_input "$events" > input.tsv
	reference input.tsv > expected.tsv
	start_coord --visibility 3s
	for q in raw views bycamp.0 bycamp.1 bycamp.2 bycamp.3; do
		spsc-coord create "$q" --visibility 3s --max-receives 1000
	done
	spsc-coord create counts --visibility 3s --max-receives 1000 --producers 4

	spsc-source --name keyed -n 200 --time 3 -t '\t' --lateness 5s \
		--rate $((events / 6)) -o raw input.tsv 2>source.log &
	SRC=$!
	BG_PIDS="$BG_PIDS $SRC"
	for r in 1 2; do
		spsc-op -i raw -o views -- awk -F'\t' '$2 == "view"' 2>>"$TMP/op.log" &
		BG_PIDS="$BG_PIDS $!"
		eval "OP$r=$!"
	done
	start_shuffle
	for p in 0 1 2 3; do start_reduce "$p"; done
	spsc-sink -i counts out.tsv 2>sink.log &
	SINK=$!
	BG_PIDS="$BG_PIDS $SINK"

	RANDOM=${CHAOS_KEYED_SEED:-1}
	kills_coord=0 kills_shuffle=0 kills_reduce=0
	for round in $(seq 1 "$rounds"); do
		sleep "0.$((3 + RANDOM % 5))"
		crash_coord
		kills_coord=$((kills_coord + 1))
		start_coord --visibility 3s
		sleep "0.$((2 + RANDOM % 4))"
		kill9 "$SHUF"
		kills_shuffle=$((kills_shuffle + 1))
		start_shuffle
		sleep "0.$((2 + RANDOM % 4))"
		victim=$((RANDOM % 4))
		eval "kill9 \$RED$victim"
		kills_reduce=$((kills_reduce + 1))
		start_reduce "$victim"
	done
	echo "kills: coordinator $kills_coord, shuffle $kills_shuffle, reducers $kills_reduce" >&3

	# The job ends by itself: every stage exits 0 once its input is
	# complete, and the sink once the counts are.
	wait "$SRC"
	# Windows closed while the data flowed, on the source's watermark,
	# not all at the end of input.
	mid=$(wc -l < out.tsv)
	wait_for '! kill -0 "$SINK" 2>/dev/null' 2400
	wait "$SINK"
	wait "$OP1"
	wait "$OP2"
	wait "$SHUF"
	for p in 0 1 2 3; do eval "wait \$RED$p"; done

	sort out.tsv > got.tsv
	lost=$(comm -23 expected.tsv got.tsv | wc -l)
	extra=$(comm -13 expected.tsv got.tsv | wc -l)
	echo "windows: $(wc -l < expected.tsv) expected, $(wc -l < got.tsv) written; missing or wrong $lost, unexpected $extra; redeliveries on bycamp: $(( $(qstat bycamp.0 redelivered) + $(qstat bycamp.1 redelivered) + $(qstat bycamp.2 redelivered) + $(qstat bycamp.3 redelivered) ))" >&3
	echo "windows written before the source had finished: $mid" >&3
	cmp expected.tsv got.tsv
	[ "$mid" -gt 0 ]
	[ "$(qstat counts complete)" -eq 1 ]
	for p in 0 1 2 3; do [ "$(qstat "bycamp.$p" dlq)" -eq 0 ]; done
}
