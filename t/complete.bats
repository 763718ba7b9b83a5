#!/usr/bin/env bats
# Completion: a finite job over queues ends by itself, exactly when its
# input is all through.  Producers name themselves, replicas of a stage
# count once, a crashed producer never completes a queue and a restarted
# one is not counted twice (spsc(7), "Completion").  A queue conformance
# file: t/nats-complete.natsbats runs it again on NATS.
load nats_helpers

numbers() {
	seq 1 "$1" | spsc-source --name "$2" -n 10 -o "${3:-raw}"
}

@test "complete: source -> 2 x op -> sink over queues ends by itself, output exact" {
	start_backend
	numbers 1000 n
	background spsc-op -i raw -o up -- awk '{ print $1 * 2 }'
	op1=$LAST_PID
	background spsc-op -i raw -o up -- awk '{ print $1 * 2 }'
	op2=$LAST_PID
	run_bounded 30 spsc-sink -i up > got
	wait "$op1"
	wait "$op2"
	sort -n got | cmp - <(seq 2 2 2000)
	[ "$(qstat raw complete)" -eq 1 ]
	[ "$(qstat up complete)" -eq 1 ]
	[ "$(qstat up producers)" -eq 1 ]
	[ "$(qstat up producers_done)" -eq 1 ]
}

@test "complete: status shows DONE and WATERMARK" {
	start_backend
	numbers 100 n
	run spsc-coord status raw
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *" DONE WATERMARK" ]]
	[[ "${lines[1]}" == *" 1/1 -" ]]
	run_bounded 30 spsc-sink -i raw > /dev/null
	run spsc-coord status raw
	[[ "${lines[1]}" == *" 1/1 complete" ]]
}

@test "complete: a shuffle completes every partition, even an empty one" {
	start_backend
	printf 'a\t1\na\t2\na\t3\n' | spsc-source --name s -n 2 -o raw
	run_bounded 30 spsc-shuffle -i raw -k 1 -t '\t' -p 4 -o bykey
	for i in 0 1 2 3; do
		run_bounded 30 spsc-sink -i "bykey.$i" > "got.$i"
	done
	[ "$(cat got.*)" = "$(printf 'a\t1\na\t2\na\t3')" ]
	for i in 0 1 2 3; do
		[ "$(qstat "bykey.$i" complete)" -eq 1 ]
	done
	# "a" hashes to one partition; the other three completed empty.
	[ "$(for i in 0 1 2 3; do [ -s "got.$i" ] && echo "$i"; done | wc -l)" -eq 1 ]
}

@test "complete: a producer killed before it finished never completes its queue" {
	start_backend
	seq 1 200000 > in.txt
	background spsc-source --name slow -n 100 --rate 20000 -o raw in.txt
	src=$LAST_PID
	wait_for '[ "$(qstat raw put)" -ge 5 ]'
	kill -9 "$src"
	wait "$src" || true
	background spsc-op -i raw -o up -- cat
	op=$LAST_PID
	wait_for '[ "$(qstat raw ready)" -eq 0 ] && [ "$(qstat raw inflight)" -eq 0 ]' 400
	sleep 1
	kill -0 "$op"			# still waiting for the rest of its input
	[ "$(qstat raw complete)" -eq 0 ]
	[ "$(qstat raw producers_done)" -eq 0 ]
	# The restarted source puts everything again; ids absorb the repeats.
	run_bounded 60 spsc-source --name slow -n 100 -o raw in.txt
	wait "$op"
	run_bounded 30 spsc-sink -i up > got
	[ "$(wc -l < got)" -eq 200000 ]
	sort -n got | cmp - in.txt
}

@test "complete: a producer restarted after it finished is refused, loudly, and counted once" {
	start_backend
	numbers 100 n
	run numbers 100 n
	[ "$status" -eq 1 ]
	[[ "$output" == *"has finished queue raw; it accepts nothing more"* ]]
	[ "$(qstat raw producers)" -eq 1 ]
	[ "$(qstat raw producers_done)" -eq 1 ]
	run_bounded 30 spsc-sink -i raw > got
	seq 1 100 | cmp - got
}

@test "complete: a stage whose output another replica finished drops its late output, warns, and exits 0" {
	on_nats && skip "marks a producer done with the coordinator's PRODUCER request"
	start_backend
	spsc-coord create raw
	id=$(spsc-op -i raw -o up --print-endpoints -- cat | awk '$1 == "out" { print $3 }')
	spsc-op -i raw -o up -- cat 2>late.err &
	late=$!
	BG_PIDS="$BG_PIDS $late"
	wait_for '[ "$(qstat up producers)" -eq 1 ]' 100
	# What a replica that saw the input complete first says (PRODUCER done).
	QT raw "SPSC/1 PRODUCER 1 up producer=$((16#$id)) done=1" | grep -q '^SPSC/1 OK'
	echo a | spsc-source --name one -o raw
	wait_for '! kill -0 "$late" 2>/dev/null' 300
	wait "$late"
	grep -q '^spsc-op\[[0-9]*\]: warning: up: this stage has finished the queue already (another replica saw its input complete); late outputs of work done there are dropped$' late.err
	[ "$(qstat raw complete)" -eq 1 ]
	[ "$(qstat up ready)" -eq 0 ]
}

@test "complete: fan-in waits for every producer it was told of (create --producers 2)" {
	start_backend
	spsc-coord create up --producers 2
	numbers 100 a raw1
	numbers 100 b raw2
	run_bounded 30 spsc-op -i raw1 -o up -- cat
	[ "$(qstat up complete)" -eq 0 ]
	[ "$(qstat up producers_done)" -eq 1 ]
	background spsc-sink -i up
	sink=$LAST_PID
	sleep 0.5
	kill -0 "$sink"
	run_bounded 30 spsc-op -i raw2 -o up -- cat
	wait "$sink"
	[ "$(qstat up complete)" -eq 1 ]
}

@test "complete: a registered producer that has not finished holds the queue open" {
	start_backend
	numbers 10 a raw1
	spsc-coord create raw2
	# The second op registers on 'up' and then waits on an empty raw2.
	background spsc-op -i raw2 -o up -- cat
	wait_for '[ "$(qstat up producers)" -eq 1 ]'
	run_bounded 30 spsc-op -i raw1 -o up -- cat
	[ "$(qstat up producers)" -eq 2 ]
	[ "$(qstat up producers_done)" -eq 1 ]
	[ "$(qstat up complete)" -eq 0 ]
}

@test "complete: seal ends a queue filled by hand; reopen starts it afresh" {
	on_nats && skip "fills the queue with spsc-coord put, not on NATS"
	start_backend
	seq 1 30 | spsc-source -n 10 > in.atoms
	spsc-coord put q < in.atoms
	background spsc-sink -i q
	sink=$LAST_PID
	wait_for '[ "$(qstat q acked)" -eq 3 ]'
	sleep 0.3
	kill -0 "$sink"
	run spsc-coord seal q
	[ "$status" -eq 0 ]
	[[ "$output" == *"queue q sealed and complete"* ]]
	wait "$sink"
	[ "$(qstat q sealed)" -eq 1 ]
	run spsc-coord reopen q
	[ "$status" -eq 0 ]
	[ "$(qstat q complete)" -eq 0 ]
	run spsc-coord seal nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"no queue nosuch"* ]]
}

@test "complete: done survives kill -9 of the coordinator (or nats-server)" {
	start_backend
	spsc-coord create raw --producers 2
	numbers 50 a
	crash_backend
	restart_backend
	[ "$(qstat raw producers_done)" -eq 1 ]
	[ "$(qstat raw producers_expected)" -eq 2 ]
	numbers 50 b
	crash_backend
	restart_backend
	[ "$(qstat raw producers_done)" -eq 2 ]
	run_bounded 30 spsc-sink -i raw > got
	[ "$(wc -l < got)" -eq 100 ]
	[ "$(qstat raw complete)" -eq 1 ]
}

@test "complete: PRODUCER and SEAL refuse what they cannot take" {
	on_nats && skip "the coordinator's protocol"
	start_backend
	run QT raw "SPSC/1 PRODUCER 1 q producer=0"
	[[ "$output" == *"BADREQ"*"PRODUCER takes producer=ID"* ]]
	run QT raw "SPSC/1 PRODUCER 2 q producer=7 expect=5000"
	[[ "$output" == *"BADREQ"* ]]
	run spsc-coord create q --producers 2000
	[ "$status" -eq 2 ]
}

# put_timed QUEUE K PRODUCER WM TMIN: atom K with event times TMIN..TMIN+9
# (ns), put as producer PRODUCER reporting watermark WM.
put_timed() {
	mk -n 1 --first "$2" --times "$5,$(($5 + 9))" --wm "$4" > "a$2"
	QT raw "SPSC/1 PUT 1 $1 producer=$3 wm=$4" "file:a$2" | head -1
}

@test "watermark: least of the producers' and of the event times still held" {
	on_nats && skip "the coordinator's protocol"
	start_backend
	spsc-coord create q --producers 2
	put_timed q 1 11 1000000000000 500000000000 >/dev/null
	[ "$(qwm q)" = "None" ]			# producer 2 has said nothing
	QT raw "SPSC/1 PRODUCER 1 q producer=12 wm=2000000000000" >/dev/null
	# min(1000 s, 2000 s, an atom at 500 s) = 500 s
	[ "$(qwm q)" = "1970-01-01T00:08:20Z" ]
	run QT get q 1
	[[ "${lines[0]}" == *" wm=500000000000"* ]]
	id=$(echo "${lines[1]}" | cut -d' ' -f1)
	QT ack q "$id" 1 >/dev/null
	[ "$(qwm q)" = "1970-01-01T00:16:40Z" ]
	# An atom without event times could hold any: unknown while held.
	mk -n 1 --first 9 | QT raw "SPSC/1 PUT 1 q producer=11" "file:/dev/stdin" >/dev/null
	[ "$(qwm q)" = "None" ]
	QT get q 1 >/dev/null
	run QT raw "SPSC/1 PRODUCER 1 q producer=11 done=1"
	run QT raw "SPSC/1 PRODUCER 1 q producer=12 done=1"
	[ "$(qwm q)" = "None" ]			# the untimed atom is in flight
}

@test "watermark: producers' watermarks only rise, and reach 'end' at completion" {
	on_nats && skip "the coordinator's protocol"
	start_backend
	put_timed q 1 7 3000000000 3000000000 >/dev/null
	put_timed q 2 7 1000000000 4000000000 >/dev/null
	[ "$(qwm q)" = "1970-01-01T00:00:03Z" ]
	run QT get q 2
	[[ "${lines[0]}" == *" wm=3000000000"* ]]
	for id in $(echo "$output" | tail -n +2 | cut -d' ' -f1); do
		QT ack q "$id" 1 >/dev/null
	done
	run QT raw "SPSC/1 PRODUCER 1 q producer=7 done=1"
	[[ "${lines[0]}" == *" complete=1"* ]]
	[ "$(qwm q)" = "end" ]
	run QT get q 1
	[[ "${lines[0]}" == *" complete=1"* ]]
}

# stamps FILE: one line per atom: its version, tmin, tmax and wm (s).
stamps() {
	python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
o = 0
while o < len(d):
    hl, = struct.unpack_from("<H", d, o + 6)
    st, = struct.unpack_from("<I", d, o + 40)
    if hl >= 88:
        t = [v // 10**9 for v in struct.unpack_from("<qqq", d, o + 60)]
        print(d[o + 4], *t)
    else:
        print(d[o + 4], "-", "-", "-")
    o += hl + st
PY
}

# promises FILE FIELD: checks that no event lies below the watermark of an
# atom before it, and that watermarks never go back.
promises() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
d, field = open(sys.argv[1], "rb").read(), int(sys.argv[2]) - 1
o, wm = 0, None
while o < len(d):
    hl, = struct.unpack_from("<H", d, o + 6)
    st, = struct.unpack_from("<I", d, o + 40)
    for ev in d[o + hl:o + hl + st].decode().splitlines():
        t = int(ev.split()[field]) * 10**9
        assert wm is None or t >= wm, "event %r below watermark %d" % (ev, wm)
    if hl >= 88:
        w, = struct.unpack_from("<q", d, o + 76)
        assert wm is None or w >= wm, "watermark went back"
        wm = w
    o += hl + st
PY
}

@test "watermark: spsc-source --time stamps atoms; op and shuffle carry the stamps on" {
	# times 100..141 with a little disorder, well within 5s of lateness
	awk 'BEGIN { for (i = 0; i < 40; i++) printf "k%d %d\n", i % 3, 100 + i + (i % 4 == 1 ? 2 : 0) }' > ev.txt
	spsc-source -n 10 --time 2 --lateness 5s ev.txt > src.atoms
	run stamps src.atoms
	[ "${lines[0]}" = "2 100 111 106" ]
	[ "${lines[3]}" = "2 130 139 134" ]
	promises src.atoms 2
	spsc-op -j 2 -- cat < src.atoms > op.atoms
	# each output keeps its input's range, in whatever order they end
	stamps op.atoms | cut -d' ' -f1-3 | sort -k2n > ranges
	stamps src.atoms | cut -d' ' -f1-3 | cmp - ranges
	promises op.atoms 2
	mkdir parts
	spsc-shuffle -k 1 -p 2 -o parts/%d < op.atoms
	for p in parts/0 parts/1; do
		run stamps "$p"
		[ "${#lines[@]}" -eq 4 ]
		# in the order the operator finished them
		stamps "$p" | grep -q '^2 100 111 '
		promises "$p" 2
	done
}

@test "watermark: over queues, a source's stamps hold a queue's watermark back until consumed" {
	start_backend
	awk 'BEGIN { for (i = 0; i < 40; i++) printf "k %d\n", 1000 + i }' > ev.txt
	spsc-source -n 10 --time 2 --lateness 1s -o raw ev.txt
	# complete producer, but four atoms held: the least event time
	[ "$(qwm raw)" = "1970-01-01T00:16:40Z" ]
	run_bounded 30 spsc-op -i raw -o views -- cat
	[ "$(qwm raw)" = "end" ]
	[ "$(qwm views)" = "1970-01-01T00:16:40Z" ]
	run_bounded 30 spsc-sink -i views > got
	cmp got ev.txt
	[ "$(qwm views)" = "end" ]
}

@test "complete: a stage whose input breaks off does not finish its output" {
	start_backend
	seq 1 100 | spsc-source -n 10 > in.atoms
	run bash -c 'head -c 150 in.atoms | spsc-op -o up -- cat'
	[ "$status" -eq 1 ]
	[ "$(qstat up producers)" -eq 1 ]
	[ "$(qstat up producers_done)" -eq 0 ]
	run bash -c 'head -c 150 in.atoms | spsc-shuffle -k 1 -p 2 -o part'
	[ "$status" -eq 1 ]
	[ "$(qstat part.0 producers_done)" -eq 0 ]
	spsc-op -o up -- cat < in.atoms
	[ "$(qstat up producers_done)" -eq 1 ]
}
