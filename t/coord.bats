#!/usr/bin/env bats
# spsc-coord: durable queues with SQS semantics, tested through real
# sockets, a real log on disk and real kill -9.
load coord_helpers

@test "status --json has the documented keys, spelled exactly" {
	start_coord
	mk -n 3 -e 2 | spsc-coord put raw
	run spsc-coord status --json
	[ "$status" -eq 0 ]
	for k in name ready inflight dlq put acked redelivered consumers oldest_age_ms; do
		[[ "$output" == *"\"$k\":"* ]] || { echo "missing $k"; return 1; }
	done
	[ "$(qstat raw ready)" -eq 3 ]
	[ "$(qstat raw put)" -eq 3 ]
}

@test "status prints one row per queue, and only the queues named" {
	start_coord
	mk -n 2 | spsc-coord put aa
	mk -n 1 | spsc-coord put bb
	run spsc-coord status
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[1]}" == "aa "*" 2 "* ]]
	run spsc-coord status bb
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == "bb "* ]]
}

@test "PUT is idempotent by atom id: a retried producer makes no duplicates" {
	start_coord
	mk -n 10 -e 3 > a.atoms
	spsc-coord put raw < a.atoms
	spsc-coord put raw < a.atoms
	mk -n 5 --first 8 -e 3 | spsc-coord put raw
	[ "$(qstat raw ready)" -eq 13 ]
	[ "$(qstat raw put)" -eq 13 ]
}

@test "an acked id is still a duplicate within the de-duplication window" {
	start_coord
	mk -n 1 > one.atoms
	spsc-coord put raw < one.atoms
	run QT get raw 1 30000
	id=$(echo "$output" | awk 'NR==2 {print $1}')
	QT ack raw "$id" 1
	spsc-coord put raw < one.atoms
	[ "$(qstat raw ready)" -eq 0 ]
	[ "$(qstat raw acked)" -eq 1 ]
}

@test "peek shows events without consuming them" {
	start_coord
	mk -n 2 -e 2 --name pk | spsc-coord put raw
	run spsc-coord peek raw 1
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'pk 0 0\npk 0 1')" ]
	[ "$(qstat raw ready)" -eq 2 ]
	[ "$(qstat raw inflight)" -eq 0 ]
}

@test "the visibility timeout returns an unacked atom, and counts the redelivery" {
	start_coord
	mk -n 1 -e 10 | spsc-coord put raw
	run QT get raw 1 1500
	[[ "${lines[1]}" == *" 1 10" ]]
	[ "$(qstat raw inflight)" -eq 1 ]
	[ "$(qstat raw ready)" -eq 0 ]
	wait_for '[ "$(qstat raw ready)" -eq 1 ]'
	run QT get raw 1 1500
	[[ "${lines[1]}" == *" 2 10" ]]
	[ "$(qstat raw redelivered)" -eq 1 ]
}

@test "TOUCH extends a lease; a stale receipt is refused" {
	start_coord
	mk -n 1 | spsc-coord put raw
	run QT get raw 1 1000
	id=$(echo "$output" | awk 'NR==2 {print $1}')
	run QT touch raw "$id" 1 10000
	[[ "$output" == "SPSC/1 OK 2 touched=1 stale=0" ]]
	sleep 1.5
	[ "$(qstat raw inflight)" -eq 1 ]
	run QT touch raw "$id" 7 5000
	[[ "$output" == "SPSC/1 STALE 2"* ]]
}

@test "NACK returns an atom at once, or after its delay" {
	start_coord
	mk -n 1 | spsc-coord put raw
	run QT get raw 1 30000
	id=$(echo "$output" | awk 'NR==2 {print $1}')
	run QT nack raw "$id" 1 1500
	[[ "$output" == "SPSC/1 OK 2 nacked=1 stale=0" ]]
	[ "$(qstat raw delayed)" -eq 1 ]
	[ "$(qstat raw ready)" -eq 0 ]
	wait_for '[ "$(qstat raw ready)" -eq 1 ]'
	run QT get raw 1 30000
	run QT nack raw "$id" 2
	[ "$(qstat raw ready)" -eq 1 ]
}

@test "a poison atom goes to NAME.dlq after max-receives; redrive brings it back; others are not held up" {
	start_coord
	spsc-coord create raw --max-receives 2 --visibility 500ms
	mk -n 1 -e 10 --name poison | spsc-coord put raw
	mk -n 1 -e 10 --name good | spsc-coord put raw
	run QT get raw 1
	[[ "${lines[1]}" == *" 1 10" ]]
	id=$(echo "$output" | awk 'NR==2 {print $1}')
	# the good atom behind it is served while the poison is in flight
	run QT get raw 1
	good=$(echo "$output" | awk 'NR==2 {print $1}')
	[ -n "$good" ] && [ "$good" != "$id" ]
	QT ack raw "$good" 1 >/dev/null
	wait_for '[ "$(qstat raw ready)" -eq 1 ]'
	run QT get raw 1
	[ "${lines[1]}" = "$id 2 10" ]
	wait_for '[ "$(qstat raw ready)" -eq 1 ]'
	run QT get raw 1
	[ "${lines[0]}" = "# SPSC/1 OK 1 n=0 vis=500 ready=0 inflight=0 delayed=0" ]
	[ "$(qstat raw dlq)" -eq 1 ]
	[ "$(qstat raw.dlq ready)" -eq 1 ]
	[ "$(qstat raw acked)" -eq 1 ]
	run spsc-coord peek raw.dlq
	[ "${lines[0]}" = "poison 0 0" ]
	grep -q "received 2 times; moved to raw.dlq" "$TMP/coord.log"
	run spsc-coord redrive raw
	[ "$status" -eq 0 ]
	[ "$(qstat raw ready)" -eq 1 ]
	[ "$(qstat raw dlq)" -eq 0 ]
	run QT get raw 1
	[ "${lines[1]}" = "$id 1 10" ]
}

@test "malformed messages get error replies and the coordinator keeps serving" {
	start_coord --max-atom 1k
	run QT raw "SPSC/1 FROB 1 raw"
	[ "${lines[0]}" = "SPSC/1 BADREQ 1" ]
	[ "${lines[1]}" = "unknown operation 'FROB'" ]
	run QT raw "rand:300"
	[[ "${lines[0]}" == "SPSC/1 BADREQ 0"* ]]
	run QT raw "hello"
	[ "${lines[1]}" = "header does not start with SPSC/1" ]
	run QT raw "SPSC/1 ACK 4 raw"
	[ "${lines[0]}" = "SPSC/1 NOQUEUE 4" ] || [ "${lines[0]}" = "SPSC/1 BADREQ 4" ]
	run QT raw "SPSC/1 ACK 4 raw" "a" "b"
	[ "${lines[0]}" = "SPSC/1 BADREQ 4" ]
	[ "${lines[1]}" = "ACK needs one part of 20-byte receipts" ]
	run QT raw "SPSC/1 PUT 5 raw"
	[ "${lines[1]}" = "PUT needs at least one atom frame" ]
	run QT raw "SPSC/1 PUT 6 raw" "rand:200"
	[ "${lines[0]}" = "SPSC/1 BADATOM 6" ]
	seq 1 1000 | spsc-source 2>/dev/null > big.atoms || mk -n 1 -e 400 > big.atoms
	run QT raw "SPSC/1 PUT 7 raw" "file:big.atoms"
	[ "${lines[0]}" = "SPSC/1 TOOBIG 7" ]
	run QT raw "SPSC/1 GET 8 ../../etc/passwd"
	[ "${lines[1]}" = "bad queue name '../../etc/passwd'" ]
	run QT raw "SPSC/1 GET 9 raw max=0"
	[ "${lines[0]}" = "SPSC/1 BADREQ 9" ]
	run QT raw "SPSC/1 GET 10 raw max=x"
	[ "${lines[1]}" = "value is not a whole number: 'x'" ]
	run QT raw "SPSC/1 GET 11 $(printf 'q%.0s' $(seq 1 201))"
	[[ "${lines[1]}" == "bad queue name"* ]]
	# and a well-behaved client is still served
	mk -n 2 | spsc-coord put raw
	[ "$(qstat raw ready)" -eq 2 ]
	kill -0 "$COORD_PID"
}

@test "an answered PUT survives kill -9; in-flight atoms come back with their receive counts" {
	start_coord
	mk -n 20 -e 5 | spsc-coord put raw
	QT get raw 3 60000 >/dev/null
	crash_coord
	start_coord
	[ "$(qstat raw ready)" -eq 20 ]
	run QT get raw 20 60000
	[ "$(echo "$output" | awk '$2 == 2' | wc -l)" -eq 3 ]
	[ "$(echo "$output" | awk '$2 == 1' | wc -l)" -eq 17 ]
}

@test "fully acked segments are reclaimed" {
	start_coord --segment-size 8k
	mk -n 300 -e 20 | spsc-coord put raw
	[ "$(ls "$SPSC_HOME"/log/*.seg | wc -l)" -gt 5 ]
	spsc-sink -i raw --drain > out.txt
	[ "$(wc -l < out.txt)" -eq 6000 ]
	[ "$(ls "$SPSC_HOME"/log/*.seg | wc -l)" -le 2 ]
	# One reclaimed file is kept to be the next segment (beside, for a
	# moment, one the spare is being made of).
	wait_for '[ "$(ls "$SPSC_HOME"/log | grep -vc "\.seg$")" -eq 1 ]' 100
	[ -f "$SPSC_HOME/log/reuse" ]
}

@test "SIGTERM stops the coordinator cleanly with status 0" {
	start_coord
	mk -n 3 | spsc-coord put raw
	kill -TERM "$COORD_PID"
	rc=0
	wait "$COORD_PID" || rc=$?
	[ "$rc" -eq 0 ]
	grep -q "stopped: log flushed" "$TMP/coord.log"
	[ ! -e "$SPSC_HOME/coord.sock" ]
	[ ! -e "$SPSC_HOME/coord.unix" ]
	start_coord
	[ "$(qstat raw ready)" -eq 3 ]
}

@test "a second coordinator on the same state directory refuses to start" {
	start_coord
	run spsc-coord serve
	[ "$status" -eq 1 ]
	[[ "$output" == *"another spsc-coord is serving this state directory"* ]]
}

@test "a dead letter keeps its failure stamp when it is received from NAME.dlq" {
	start_coord
	dead_letter_raw
	# failure kind 6 is max-receives (spsc-atom(5)); delivery 1 from raw.dlq
	run QT get raw.dlq 1
	[[ "${lines[1]}" == *" 1 10 fail=6" ]]
}

@test "a queue name of the full 200 bytes still gets its NAME.dlq" {
	start_coord
	long=$(printf 'q%.0s' $(seq 1 200))
	spsc-coord create "$long" --max-receives 1 --visibility 100ms
	mk -n 1 -e 10 | spsc-coord put "$long"
	QT get "$long" 1 >/dev/null
	wait_for "[ \"\$(qstat $long ready)\" -eq 1 ]"
	run QT get "$long" 1
	[[ "${lines[0]}" == "# SPSC/1 OK 1 n=0 "* ]]
	[ "$(qstat "$long.dlq" ready)" -eq 1 ]
}

@test "CREATE with a bad setting changes nothing and creates nothing" {
	start_coord
	run QT raw "SPSC/1 CREATE 1 fresh max_receives=0"
	[ "${lines[0]}" = "SPSC/1 BADREQ 1" ]
	run QT raw "SPSC/1 CREATE 2 fresh max_receives=4294967296"
	[ "${lines[0]}" = "SPSC/1 BADREQ 2" ]
	run spsc-coord status --json
	[[ "$output" == *'"queues":[]'* ]]
	run spsc-coord serve --visibility 0
	[ "$status" -eq 2 ]
}

@test "only loopback addresses are served unless --allow-remote is given" {
	run spsc-coord serve --bind tcp://0.0.0.0:7999
	[ "$status" -eq 2 ]
	[[ "$output" == *"not a loopback address; add --allow-remote"* ]]
}

@test "queues over TCP on loopback" {
	port=$((20000 + RANDOM % 20000))
	start_coord --bind "tcp://127.0.0.1:$port"
	mk -n 4 -e 2 | spsc-coord put "raw@tcp://127.0.0.1:$port"
	SPSC_COORD="tcp://127.0.0.1:$port" run spsc-coord status --json raw
	[[ "$output" == *'"ready":4'* ]]
}

@test "an unreachable coordinator is a clear error after the retry time" {
	export SPSC_CONNECT_TIMEOUT=1s
	mk -n 1 > a.atoms
	run spsc-coord put raw < a.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"coordinator at unix://$SPSC_HOME/coord.unix did not answer"* ]]
}

@test "a full queue makes producers wait, never drop" {
	start_coord
	spsc-coord create raw --max-depth 3
	mk -n 10 -e 1 > a.atoms
	spsc-coord put raw < a.atoms &
	BG_PIDS="$BG_PIDS $!"
	LAST_PID=$!
	wait_for '[ "$(qstat raw ready)" -eq 3 ]'
	spsc-sink -i raw --drain > out.txt
	wait "$LAST_PID"
	spsc-sink -i raw --drain >> out.txt
	[ "$(wc -l < out.txt)" -eq 10 ]
	[ "$(sort -u out.txt | wc -l)" -eq 10 ]
}

@test "create changes settings; delete and purge remove atoms" {
	start_coord
	spsc-coord create raw --visibility 5s --max-receives 9 --max-depth 100
	run spsc-coord status --json raw
	[[ "$output" == *'"visibility_ms":5000'* && "$output" == *'"max_receives":9'* ]]
	mk -n 5 | spsc-coord put raw
	spsc-coord purge raw
	[ "$(qstat raw ready)" -eq 0 ]
	mk -n 5 --first 5 | spsc-coord put raw
	spsc-coord delete raw
	run spsc-coord status --json raw
	[ "$output" = '{"queues":[],"pid":'"$COORD_PID"'}' ] || [[ "$output" == *'"queues":[]'* ]]
	crash_coord
	start_coord
	run spsc-coord status --json raw
	[[ "$output" == *'"queues":[]'* ]]
}
