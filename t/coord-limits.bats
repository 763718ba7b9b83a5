#!/usr/bin/env bats
# spsc-coord's limits (spsc-coord(1), LIMITS): reading a queue makes
# nothing, clients make at most --max-queues queues and wait in at most
# --max-waiters GETs, and what is refused is refused with a message while
# everyone else is served.
load coord_helpers

# queue_names: the names in status, one a line.
queue_names() {
	spsc-coord status --json | /usr/bin/python3 -c \
		'import json,sys; [print(q["name"]) for q in json.load(sys.stdin)["queues"]]'
}

# get_many PREFIX N: a GET (no wait) on PREFIX0 .. PREFIXN-1 over one
# connection; prints how many came back OK with no atoms.
get_many() {
	/usr/bin/python3 - "$1" "$2" <<'EOF'
import os, sys, zmq
sock = zmq.Context.instance().socket(zmq.DEALER)
sock.setsockopt(zmq.RCVTIMEO, 10000)
sock.connect("ipc://%s/coord.sock" % os.environ["SPSC_HOME"])
empty = 0
for i in range(int(sys.argv[2])):
    sock.send(b"SPSC/1 GET %d %s%d" % (i, sys.argv[1].encode(), i))
    head = sock.recv_multipart()[0].decode()
    empty += head.startswith("SPSC/1 OK %d n=0 " % i) and head.endswith(" ready=0 inflight=0 delayed=0")
print(empty)
EOF
}

@test "GET, PEEK, ACK, NACK and TOUCH on a queue that does not exist make no queue" {
	start_coord
	spsc-coord create keep
	sum=$(md5sum < "$SPSC_HOME/queues.json")
	run QT get nosuch 1
	[ "${lines[0]}" = "# SPSC/1 OK 1 n=0 vis=30000 ready=0 inflight=0 delayed=0" ]
	run QT get nosuch 1 5000 200
	[ "${lines[0]}" = "# SPSC/1 OK 1 n=0 vis=5000 ready=0 inflight=0 delayed=0" ]
	run get_many unknown 500
	[ "$output" -eq 500 ]
	run QT ack nosuch 27249927bb7c610c5bc21bfb190d46d9 1
	[ "${lines[0]}" = "SPSC/1 NOQUEUE 2" ]
	run QT nack nosuch 27249927bb7c610c5bc21bfb190d46d9 1
	[ "${lines[0]}" = "SPSC/1 NOQUEUE 2" ]
	run QT touch nosuch 27249927bb7c610c5bc21bfb190d46d9 1
	[ "${lines[0]}" = "SPSC/1 NOQUEUE 2" ]
	run spsc-coord peek nosuch
	[ "$status" -eq 1 ]
	run spsc-coord redrive nosuch
	[ "$status" -eq 0 ]
	[ "$(queue_names)" = "keep" ]
	sleep 0.5	# past the batching of the queue table
	[ "$(md5sum < "$SPSC_HOME/queues.json")" = "$sum" ]
	# and a drained sink on a queue nobody made ends at once, as before
	run spsc-sink -i nosuch --drain
	[ "$status" -eq 0 ]
	[ "$(queue_names)" = "keep" ]
}

@test "a consumer waiting on a queue not made yet gets the first atom put there" {
	start_coord
	QT get later 1 30000 10000 > got &
	getter=$!
	BG_PIDS="$BG_PIDS $getter"
	sleep 0.3
	[ -z "$(queue_names)" ]
	mk -n 1 -e 3 | spsc-coord put later
	wait "$getter" || true
	[[ "$(sed -n 1p got)" == "# SPSC/1 OK 1 n=1 "* ]]
	[[ "$(sed -n 2p got)" == *" 1 3" ]]
	# a sink started before its producer, as in a DAG started all at once
	spsc-sink -i later2 > out.txt &
	sink=$!
	BG_PIDS="$BG_PIDS $sink"
	sleep 0.3
	mk -n 2 -e 2 --name p | spsc-coord put later2
	wait_for '[ "$(wc -l < out.txt)" -eq 4 ]'
}

@test "--max-queues refuses the queue past the limit, says why, and serves the rest" {
	start_coord --max-queues 3
	spsc-coord create a
	mk -n 1 | spsc-coord put b
	mk -n 1 | spsc-coord put c
	mk -n 1 > d.atoms
	run spsc-coord put d < d.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"LIMIT"*"too many queues (limit 3); raise --max-queues or delete queues"* ]]
	run spsc-coord create d
	[ "$status" -eq 1 ]
	[[ "$output" == *"too many queues (limit 3)"* ]]
	run spsc-source -o d d.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"too many queues (limit 3); raise --max-queues or delete queues"* ]]
	run QT raw "SPSC/1 PUT 9 e" "file:d.atoms"
	[ "${lines[0]}" = "SPSC/1 LIMIT 9" ]
	# the queues there are served as before, and changing one is no creation
	mk -n 2 --first 1 | spsc-coord put b
	[ "$(qstat b ready)" -eq 3 ]
	spsc-coord create a --visibility 5s
	[ "$(printf '%s ' $(queue_names))" = "a b c " ]
	# a deletion makes room
	spsc-coord delete c
	spsc-coord put d < d.atoms
	[ "$(qstat d ready)" -eq 1 ]
	kill -0 "$COORD_PID"
}

@test "queues.json and the log count toward --max-queues after a restart" {
	start_coord
	spsc-coord create a
	mk -n 1 | spsc-coord put b
	crash_coord
	start_coord --max-queues 2
	grep -q "2 queues, and --max-queues is 2" "$TMP/coord.log"
	mk -n 1 > c.atoms
	run spsc-coord put c < c.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"too many queues (limit 2)"* ]]
	[ "$(qstat b ready)" -eq 1 ]
}

@test "dead-lettering makes NAME.dlq even at --max-queues: no atom is stuck or lost" {
	start_coord --max-queues 1
	dead_letter_raw
	[ "$(qstat raw.dlq ready)" -eq 1 ]
	[ "$(qstat raw dead_lettered)" -eq 1 ]
	grep -q "received 1 times; moved to raw.dlq" "$TMP/coord.log"
	# over the limit now: clients make no more, redrive moves back into raw
	mk -n 1 --first 5 > x.atoms
	run spsc-coord put other < x.atoms
	[ "$status" -eq 1 ]
	run spsc-coord redrive raw
	[ "$status" -eq 0 ]
	[ "$(qstat raw ready)" -eq 1 ]
}

@test "a PUT to a new queue survives kill -9 before the queue table is saved" {
	start_coord
	spsc-coord create keep
	mk -n 3 -e 2 | spsc-coord put fresh
	crash_coord
	start_coord
	[ "$(qstat fresh ready)" -eq 3 ]
	# settings and deletions are synced before their reply
	spsc-coord create slow --visibility 7s
	spsc-coord delete keep
	crash_coord
	start_coord
	run spsc-coord status --json slow
	[[ "$output" == *'"visibility_ms":7000'* ]]
	[ "$(printf '%s ' $(queue_names))" = "fresh slow " ]
}

@test "the queue table is swapped into place: the old one is written over, not freed" {
	start_coord
	spsc-coord create a	# the first save has nothing to swap with
	[ ! -e "$SPSC_HOME/queues.json.tmp" ]
	spsc-coord create b --visibility 9s
	first=$(stat -c %i "$SPSC_HOME/queues.json")
	spare=$(stat -c %i "$SPSC_HOME/queues.json.tmp")
	[ "$first" != "$spare" ]
	spsc-coord create c
	# the two names traded inodes, and each file is a whole table
	[ "$(stat -c %i "$SPSC_HOME/queues.json")" = "$spare" ]
	[ "$(stat -c %i "$SPSC_HOME/queues.json.tmp")" = "$first" ]
	/usr/bin/python3 -c 'import json,sys; print(*[q["name"] for q in json.load(open(sys.argv[1]))["queues"]])' \
		"$SPSC_HOME/queues.json" > now
	/usr/bin/python3 -c 'import json,sys; print(*[q["name"] for q in json.load(open(sys.argv[1]))["queues"]])' \
		"$SPSC_HOME/queues.json.tmp" > before
	[ "$(cat now)" = "a b c" ]
	[ "$(cat before)" = "a b" ]
	crash_coord
	start_coord
	run spsc-coord status --json b
	[[ "$output" == *'"visibility_ms":9000'* ]]
}

@test "--max-waiters refuses a GET that would wait past the limit, and serves the others" {
	start_coord --max-waiters 2
	QT get w 1 30000 5000 > got1 &
	BG_PIDS="$BG_PIDS $!"
	QT get w 1 30000 5000 > got2 &
	BG_PIDS="$BG_PIDS $!"
	sleep 0.5
	run QT raw "SPSC/1 GET 7 w wait=1000"
	[ "${lines[0]}" = "SPSC/1 LIMIT 7" ]
	[ "${lines[1]}" = "too many waiting GETs (limit 2); raise --max-waiters" ]
	# a GET that need not wait is still answered
	run QT get w 1
	[ "${lines[0]}" = "# SPSC/1 OK 1 n=0 vis=30000 ready=0 inflight=0 delayed=0" ]
	mk -n 2 -e 1 | spsc-coord put w
	wait_for '[ -s got1 ] && [ -s got2 ]'
	[ "$(cat got1 got2 | grep -c ' n=1 ')" -eq 2 ]
	# the waiters are gone, so a new one fits
	run QT get w 1 30000 100
	[ "${lines[0]}" = "# SPSC/1 OK 1 n=0 vis=30000 ready=0 inflight=2 delayed=0" ]
}

@test "a deleted queue's waiters hear NOQUEUE" {
	start_coord
	spsc-coord create gone
	QT get gone 1 30000 5000 > got &
	getter=$!
	BG_PIDS="$BG_PIDS $getter"
	sleep 0.3
	spsc-coord delete gone
	wait "$getter" || true
	[ "$(sed -n 1p got)" = "# SPSC/1 NOQUEUE 1" ]
}

@test "ACK, NACK and TOUCH take at most 10000 receipts" {
	start_coord
	mk -n 1 | spsc-coord put raw
	run QT raw "SPSC/1 ACK 3 raw" "big:200020"
	[ "${lines[0]}" = "SPSC/1 BADREQ 3" ]
	[ "${lines[1]}" = "ACK takes at most 10000 receipts" ]
	run QT raw "SPSC/1 ACK 4 raw" "big:200000"
	[ "${lines[0]}" = "SPSC/1 OK 4 acked=0 missing=10000" ]
}

@test "bad values of --max-queues and --max-waiters are usage errors" {
	run spsc-coord serve --max-queues 0
	[ "$status" -eq 2 ]
	run spsc-coord serve --max-waiters x
	[ "$status" -eq 2 ]
}
