#!/usr/bin/env bats
# A keyed job on a 3-node NATS JetStream cluster (examples/cluster/
# nats-cluster) with every queue replicated on all three servers, while
# servers are killed -9: the counts must equal the reference exactly,
# nothing lost nor counted twice, and the job must end by itself.

load nats_helpers

setup() {
	coord_test_setup
	command -v nats-server >/dev/null ||
		skip "nats-server is not installed (apt-get install nats-server)"
	CLUSTER="$SPSC_SRCDIR/examples/cluster/nats-cluster"
	export SPSC_COORD
	SPSC_COORD=$("$CLUSTER" start "$TMP/nats" auto)
	export SPSC_NATS_REPLICAS=3
	# atoms whose delivery or ack a failover lost come back soon
	export SPSC_VISIBILITY=3s
}

teardown() {
	"$CLUSTER" stop "$TMP/nats" 2>/dev/null || true
	for p in $BG_PIDS; do kill -9 "$p" 2>/dev/null || true; done
	for p in $BG_PIDS; do wait "$p" 2>/dev/null || true; done
	cd / && rm -rf "$TMP"
}

# leader QUEUE: the server (1, 2 or 3) that leads the queue's stream.
leader() {
	spsc-coord status --json "$1" | python3 -c \
		'import json,sys; q=json.load(sys.stdin)["queues"]; print(q[0].get("leader", "n1")[1:] if q else 1)'
}

@test "nats cluster: servers killed -9 three times during a keyed job, leaders among them: exact counts" {
	cp "$SPSC_SRCDIR/examples/wordcount/combine.awk" .
	LC_ALL=C awk -f "$SPSC_SRCDIR/examples/wordcount/gen-corpus.awk" \
		"$SPSC_SRCDIR/examples/wordcount/words.txt" >corpus.txt
	# wordcount.dag, its source slowed to last about 10 s
	sed 's/^ingest: *spsc-source -n 500/ingest:   spsc-source -n 100 --rate 600/' \
		"$SPSC_SRCDIR/examples/wordcount/wordcount.dag" >wordcount.dag
	grep -q -- '--rate 600' wordcount.dag
	spsc run --once wordcount.dag 2>spsc.log &
	RUN=$!
	BG_PIDS="$BG_PIDS $RUN"
	wait_for '[ "$(qstat raw put)" -ge 1 ]' 600
	killed=""
	for q in raw bykey.0 counts; do
		n=$(leader "$q")
		"$CLUSTER" kill "$TMP/nats" "$n"
		killed="$killed n$n($q)"
		sleep 1
		"$CLUSTER" restart "$TMP/nats" "$n"
		sleep 1.5
	done
	echo "killed:$killed"
	# a failover can cost a visibility timeout per stage; 3 minutes is
	# far beyond that, so a run still going then is stuck
	wait_for '! kill -0 "$RUN" 2>/dev/null' 3600 || {
		spsc-coord status; tail -n 20 spsc.log; false; }
	run wait "$RUN"
	[ "$status" -eq 0 ] || { tail -n 20 spsc.log; false; }
	grep -E "warning|error" spsc.log | grep -v "consumer info" | head -n 20
	LC_ALL=C tr -cs A-Za-z '\n' <corpus.txt | tr A-Z a-z | grep -v '^$' |
		LC_ALL=C sort | uniq -c | awk '{ print $2 "\t" $1 }' | LC_ALL=C sort >ref.tsv
	LC_ALL=C sort counts.tsv | diff -u ref.tsv -
}

@test "nats cluster: source, warm op and sink at full speed over replicated queues: each event once" {
	# Readers' pull requests bring messages while the readers work: the
	# case where libnats 3.4's fetch, which they used, wrote past its
	# message list.
	seq -f '%099.0f' 1 1000000 >in.txt
	spsc-coord create q1
	spsc-coord create q2
	background spsc-op -q --warm -i q1 -o q2 -- cat 2>op.log
	OP=$LAST_PID
	background spsc-sink -i q2 >out.txt 2>sink.log
	SINK=$LAST_PID
	spsc-source --no-progress -n 1000 -o q1 in.txt 2>source.log
	# both end by themselves once their input is complete
	wait_for '! kill -0 "$OP" 2>/dev/null' 6000
	run wait "$OP"
	[ "$status" -eq 0 ] || { tail -n 5 op.log; false; }
	wait_for '! kill -0 "$SINK" 2>/dev/null' 1200
	wait "$SINK"
	[ "$(wc -l <out.txt)" -eq 1000000 ]
	LC_ALL=C sort out.txt | cmp - in.txt
}
