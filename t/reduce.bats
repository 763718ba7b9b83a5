#!/usr/bin/env bats
# spsc-reduce: usage errors, every aggregate and window kind on small
# hand-made inputs with exact expected results, late events, bad events
# under each --on-error, checkpoints that cannot be used, and exactly-once
# results over a queue through kill -9 and restarts.
load coord_helpers

# reduce ARGS...: the events on stdin, in atoms of 2 (so that windows and
# keys span atoms), through spsc-reduce ARGS, results as events on stdout.
# Its diagnostics go to ./err, apart from the results, whose order with
# them a pipe does not keep.
reduce() {
	set -o pipefail
	spsc-source -n 2 --name in | spsc-reduce "$@" 2> err | spsc-sink
}

# --- the command line ---------------------------------------------------

@test "usage errors: exit 2 and a message naming what is wrong" {
	run spsc-reduce count
	[ "$status" -eq 2 ]; [[ "$output" == *"missing -k KEY"* ]]
	run spsc-reduce -k 1
	[ "$status" -eq 2 ]; [[ "$output" == *"missing AGG"* ]]
	run spsc-reduce -k 1 total:2
	[ "$status" -eq 2 ]; [[ "$output" == *"'total:2' is not an aggregate (count, sum:F"* ]]
	run spsc-reduce -k 1 sum
	[ "$status" -eq 2 ]; [[ "$output" == *"'sum' needs a field: sum:F"* ]]
	run spsc-reduce -k 1 count:3
	[ "$status" -eq 2 ]; [[ "$output" == *"count takes no field"* ]]
	run spsc-reduce -k 1 sum:x
	[ "$status" -eq 2 ]; [[ "$output" == *"'sum:x': key 'x' is neither a field number"* ]]
	run spsc-reduce -k 0 count
	[ "$status" -eq 2 ]; [[ "$output" == *"-k: key '0': fields count from 1"* ]]
	run spsc-reduce -k 1 --tumbling 10s --session 5s count
	[ "$status" -eq 2 ]; [[ "$output" == *"--tumbling, --sliding and --session exclude each other"* ]]
	run spsc-reduce -k 1 --tumbling 10x count
	[ "$status" -eq 2 ]; [[ "$output" == *"--tumbling: '10x' is not a duration"* ]]
	run spsc-reduce -k 1 --tumbling 0 count
	[ "$status" -eq 2 ]; [[ "$output" == *"must be longer than 0"* ]]
	run spsc-reduce -k 1 --sliding 10s count
	[ "$status" -eq 2 ]; [[ "$output" == *"'10s' is not SIZE/SLIDE"* ]]
	run spsc-reduce -k 1 --sliding 5s/10s count
	[ "$status" -eq 2 ]; [[ "$output" == *"SLIDE must not be longer than SIZE"* ]]
	run spsc-reduce -k 1 --lateness 5s count
	[ "$status" -eq 2 ]; [[ "$output" == *"--lateness needs --time"* ]]
	run spsc-reduce -k 1 --on-error maybe count
	[ "$status" -eq 2 ]; [[ "$output" == *"--on-error: 'maybe' is not dlq, skip or fail"* ]]
	run spsc-reduce -k 1 --late - count
	[ "$status" -eq 2 ]; [[ "$output" == *"would mix late events into the results"* ]]
	run spsc-reduce -k 1 --checkpoint-atoms 0 count
	[ "$status" -eq 2 ]
	run spsc-reduce -k 1 -z count
	[ "$status" -eq 2 ]; [[ "$output" == *"unknown option '-z'"* ]]
	run spsc-reduce -k 1 --time
	[ "$status" -eq 2 ]; [[ "$output" == *"option '--time' needs a value"* ]]
	run spsc-reduce --help
	[ "$status" -eq 0 ]; [[ "$output" == "Usage: spsc-reduce"* ]]
	run spsc-reduce --version
	[ "$status" -eq 0 ]; [[ "$output" == "spsc-reduce (spsc) "* ]]
}

# --- aggregates -----------------------------------------------------------

@test "every aggregate, no window: one line per key at the end, in key order" {
	run reduce -k 1 -t , count sum:2 min:2 max:2 mean:2 first:3 last:3 distinct:3 \
		< <(printf 'a,1,x\nb,2.5,y\na,3,x\na,-1,z\nb,0.5,y\n')
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'a\t3\t3\t-1\t3\t1\tx\tz\t2\nb\t2\t3\t0.5\t2.5\t1.5\ty\ty\t1')" ]
}

@test "sums: exact int64 while they can be, then doubles printed shortest" {
	run reduce -k 1 sum:2 < <(printf 'big 9223372036854775807\nbig 1\nf 0.1\nf 0.2\nneg -9223372036854775808\nneg 0\nint 007\nint +3\n')
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'big\t9.223372036854776e+18\nf\t0.30000000000000004\nint\t10\nneg\t-9223372036854775808')" ]
	run reduce -k 1 mean:2 min:2 max:2 < <(printf 'k 1e3\nk 2\nk 1E-3\n')
	[ "$output" = "$(printf 'k\t334.00033333333334\t0.001\t1000')" ]
}

@test "first and last: by event time with --time (ties: arrival), else by arrival" {
	run reduce -k 1 first:3 last:3 < <(printf 'k 5 p\nk 1 q\nk 9 r\nk 3 s\n')
	[ "$output" = "$(printf 'k\tp\ts')" ]
	run reduce -k 1 --time 2 first:3 last:3 < <(printf 'k 5 p\nk 1 q\nk 9 r\nk 1 t\nk 9 s\n')
	[ "$output" = "$(printf 'k\tq\ts')" ]
}

@test "distinct counts value texts exactly: 0.10 and 0.1 differ" {
	run reduce -k 1 -t , distinct:2 count < <(printf 'a,0.1\na,0.10\na,0.1\na,\nb,x\n')
	[ "$output" = "$(printf 'a\t3\t4\nb\t1\t1')" ]
}

@test "JSON keys and fields; --json results; a number as a key; strings holding numbers" {
	run reduce -k .u.id --json count sum:.p first:.tags[0] 'last:.tags[-1]' < <(printf '%s\n' \
		'{"u":{"id":"x"},"p":"2","tags":["c"]}' \
		'{"u":{"id":"x"},"p":1.5,"tags":["a","b"]}' \
		'{"u":{"id":7},"p":1,"tags":["d"]}')
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"key":"7","count":1,"sum:.p":1,"first:.tags[0]":"d","last:.tags[-1]":"d"}' ]
	[ "${lines[1]}" = '{"key":"x","count":2,"sum:.p":3.5,"first:.tags[0]":"c","last:.tags[-1]":"b"}' ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "TSV keys keep their blanks; a tab or newline in a key is written \\t or \\n" {
	run reduce -k 1 -t '\t' count < <(printf 'a b\t1\na b\t2\n c\t3\n')
	[ "$output" = "$(printf ' c\t1\na b\t2')" ]
	run reduce -k .k count < <(printf '{"k":"x\\ty"}\n{"k":"x\\ny"}\n')
	[ "$output" = "$(printf 'x\\ty\t1\nx\\ny\t1')" ]
	run reduce -k .k --json count < <(printf '{"k":"x\\ty\\"z"}\n')
	[ "$output" = '{"key":"x\ty\"z","count":1}' ]
}

# --- windows over pipes -----------------------------------------------------

@test "tumbling windows on event time: results when the watermark passes END, late events out" {
	run reduce -k 1 --time 2 --tumbling 10s --lateness 0 --late ./late.atoms count first:3 \
		< <(printf 'a 1 x\nb 3 y\na 12 z\na 5 w\nb 21 v\n')
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(printf 'a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t1\tx')" ]
	[ "${lines[1]}" = "$(printf 'b\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t1\ty')" ]
	[ "${lines[2]}" = "$(printf 'a\t1970-01-01T00:00:10Z\t1970-01-01T00:00:20Z\t1\tz')" ]
	[ "${lines[3]}" = "$(printf 'b\t1970-01-01T00:00:20Z\t1970-01-01T00:00:30Z\t1\tv')" ]
	[ "${#lines[@]}" -eq 4 ]
	[ "$(cat err)" = "spsc-reduce: 1 late events (behind the watermark) went to ./late.atoms" ]
	[ "$(spsc-sink -i ./late.atoms)" = "a 5 w" ]
	[ "$(headers ./late.atoms | field fail)" = "late:1" ]
}

@test "without --lateness or stamps upstream, event-time windows close at the end of input, none late" {
	run reduce -k 1 --time 2 --tumbling 10s --late ./late.atoms count \
		< <(printf 'a 1\na 12\na 5\nb 30\na 3\n')
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t3\na\t1970-01-01T00:00:10Z\t1970-01-01T00:00:20Z\t1\nb\t1970-01-01T00:00:30Z\t1970-01-01T00:00:40Z\t1')" ]
	[ ! -s ./late.atoms ]
}

@test "lateness keeps out-of-order events in their windows" {
	run reduce -k 1 --time 2 --tumbling 10s --lateness 5s count first:3 last:3 \
		< <(printf 'a 1 x\na 12 z\na 5 w\na 5 u\n')
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t3\tx\tu\na\t1970-01-01T00:00:10Z\t1970-01-01T00:00:20Z\t1\tz\tz')" ]
}

@test "an input with a watermark of its own moves the stage's; --lateness adds the stage's guess" {
	# spsc-source stamps each atom with its watermark: 5 s behind the
	# latest time read, so t=9 after t=12 is on time for it.
	printf 'a 1\na 12\na 9\na 25\n' | spsc-source -n 1 --time 2 --lateness 5s > in.atoms
	run spsc-sink < <(spsc-reduce -k 1 --time 2 --tumbling 10s count < in.atoms)
	[ "$output" = "$(printf 'a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t2\na\t1970-01-01T00:00:10Z\t1970-01-01T00:00:20Z\t1\na\t1970-01-01T00:00:20Z\t1970-01-01T00:00:30Z\t1')" ]
	spsc-reduce -k 1 --time 2 --tumbling 10s --lateness 0 --late ./late.atoms count < in.atoms > out.atoms 2> err
	[ "$(spsc-sink -i ./out.atoms | head -1)" = "$(printf 'a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t1')" ]
	[ "$(spsc-sink -i ./late.atoms)" = "a 9" ]
}

@test "sliding windows: an event in every window that holds it; late only when all are closed" {
	run reduce -k 1 --time 2 --sliding 10s/5s --lateness 0 --late ./late.atoms count \
		< <(printf 'a 7\na 16\na 12\na 4\n')
	[ "${lines[0]}" = "$(printf 'a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t1')" ]
	[ "${lines[1]}" = "$(printf 'a\t1970-01-01T00:00:05Z\t1970-01-01T00:00:15Z\t1')" ]
	[ "${lines[2]}" = "$(printf 'a\t1970-01-01T00:00:10Z\t1970-01-01T00:00:20Z\t2')" ]
	[ "${lines[3]}" = "$(printf 'a\t1970-01-01T00:00:15Z\t1970-01-01T00:00:25Z\t1')" ]
	[ "${#lines[@]}" -eq 4 ]
	[ "$(cat err)" = "spsc-reduce: 1 late events (behind the watermark) went to ./late.atoms" ]
	[ "$(spsc-sink -i ./late.atoms)" = "a 4" ]
	# SIZE not a multiple of SLIDE: windows every 3s, 7s long.
	run reduce -k 1 --time 2 --sliding 7s/3s count < <(printf 'a 7\n')
	[ "$output" = "$(printf 'a\t1970-01-01T00:00:03Z\t1970-01-01T00:00:10Z\t1\na\t1970-01-01T00:00:06Z\t1970-01-01T00:00:13Z\t1')" ]
}

@test "session windows: merges, a gap of exactly GAP does not merge, late sessions" {
	run reduce -k 1 --time 2 --session 10s --lateness 100s count sum:2 \
		< <(printf 'a 0\na 10\nb 1.5\na 5\na 30\n')
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'b\t1970-01-01T00:00:01.500Z\t1970-01-01T00:00:11.500Z\t1\t1.5\na\t1970-01-01T00:00:00Z\t1970-01-01T00:00:20Z\t3\t15\na\t1970-01-01T00:00:30Z\t1970-01-01T00:00:40Z\t1\t30')" ]
	run reduce -k 1 --time 2 --session 10s --lateness 0 --late ./late.atoms count \
		< <(printf 'a 0\na 30\na 15\na 25\n')
	[ "${lines[0]}" = "$(printf 'a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t1')" ]
	[ "${lines[1]}" = "$(printf 'a\t1970-01-01T00:00:25Z\t1970-01-01T00:00:40Z\t2')" ]
	[ "$(spsc-sink -i ./late.atoms)" = "a 15" ]
}

@test "event times: epoch ms from 1e11, RFC 3339 with offsets, fractions exact" {
	run reduce -k 1 -t , --time 2 --tumbling 1s --json count < <(printf '%s\n' \
		'x,2026-11-30T22:44:00.250+01:00' 'x,1796075040750' 'x,1796075041.5' 'y,2026-11-30T21:44:01Z')
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"key":"x","start":"2026-11-30T21:44:00Z","end":"2026-11-30T21:44:01Z","count":2}' ]
	[ "${lines[1]}" = '{"key":"x","start":"2026-11-30T21:44:01Z","end":"2026-11-30T21:44:02Z","count":1}' ]
	[ "${lines[2]}" = '{"key":"y","start":"2026-11-30T21:44:01Z","end":"2026-11-30T21:44:02Z","count":1}' ]
}

@test "result atoms: ids from their bytes (a rerun makes the same frames), event times in the header" {
	printf 'a 1\nb 3\na 12\nb 21\n' | spsc-source -n 1 > in.atoms
	spsc-reduce -k 1 --time 2 --tumbling 10s --lateness 0 count < in.atoms > one.atoms
	spsc-reduce -k 1 --time 2 --tumbling 10s --lateness 0 count < in.atoms > two.atoms
	[ "$(headers one.atoms | field id)" = "$(headers two.atoms | field id)" ]
	run headers one.atoms
	[ "${#lines[@]}" -eq 3 ]
	# The pass that closed [0, 10) for both keys made one atom of 2.
	[[ "${lines[0]}" == *" events=2 "*" tmin=0 tmax=10000000000 wm=12000000000 "* ]]
	[[ "${lines[1]}" == *" events=1 "*" tmin=10000000000 tmax=20000000000 wm=21000000000 "* ]]
	[[ "${lines[2]}" == *" events=1 "*" tmin=20000000000 tmax=30000000000 wm=end "* ]]
}

@test "processing time: windows close while the input is idle" {
	mkfifo in.fifo
	spsc-reduce -k 1 --tumbling 1s count < in.fifo > out.atoms &
	pid=$!
	exec 7> in.fifo
	printf 'a\na\nb\n' | spsc-source -n 10 >&7
	wait_for '[ -s out.atoms ] && spsc-sink -i ./out.atoms | grep -q "^b	"' 100
	run spsc-sink -i ./out.atoms
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "a	"*"	2" ]]
	exec 7>&-
	wait "$pid"
}

# --- bad events ----------------------------------------------------------

bad_events() {
	printf '%s\n' '{"k":"a","v":1,"ts":10}' 'not json' '{"v":2,"ts":11}' \
		'{"k":"b","v":"x","ts":12}' '{"k":"c","v":3,"ts":"yesterday"}' \
		'{"k":"a","v":4,"ts":13}' | spsc-source -n 2 --name bad > bad.atoms
}

@test "bad events are dead-lettered by default, each named, counted; exit 3" {
	bad_events
	run spsc-reduce -k .k --time .ts --tumbling 1m -o ./res.atoms sum:.v < bad.atoms
	[ "$status" -eq 3 ]
	ids=($(headers bad.atoms | field id))
	[[ "$output" == *"no --dlq given: dead letters and late events go to ./spsc-reduce.dlq"* ]]
	[[ "$output" == *"atom ${ids[0]}, event 2: malformed JSON at byte 0; dead-lettered"* ]]
	[[ "$output" == *"atom ${ids[1]}, event 1: member .k missing; dead-lettered"* ]]
	[[ "$output" == *"atom ${ids[1]}, event 2: sum:.v: 'x' is not a number; dead-lettered"* ]]
	[[ "$output" == *"atom ${ids[2]}, event 1: --time .ts: 'yesterday' is not a time"* ]]
	[[ "$output" == *"4 events could not be used (no key, value or time) and were dead-lettered"* ]]
	[ "$(spsc-sink -i ./spsc-reduce.dlq | wc -l)" -eq 4 ]
	[ "$(headers ./spsc-reduce.dlq | field fail | tr '\n' ' ')" = "key:1 key:2 key:1 " ]
	[ "$(spsc-sink -i ./res.atoms)" = "$(printf 'a\t1970-01-01T00:00:00Z\t1970-01-01T00:01:00Z\t5')" ]
}

@test "--on-error skip counts and goes on (exit 0); fail stops at the event (exit 1)" {
	bad_events
	run spsc-reduce -k .k --time .ts --on-error skip -o ./res.atoms sum:.v < bad.atoms
	[ "$status" -eq 0 ]
	[[ "$output" == *"event 2: malformed JSON at byte 0; skipped"* ]]
	[[ "$output" == *"4 events could not be used (no key, value or time) and were skipped"* ]]
	[ ! -e spsc-reduce.dlq ]
	run spsc-reduce -k .k --time .ts --on-error fail -o ./res.atoms sum:.v < bad.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"error: atom "*", event 2: malformed JSON at byte 0"* ]]
	[ ! -e spsc-reduce.dlq ]
}

# --- checkpoints -----------------------------------------------------------

@test "--state over a file: a rerun of the same input adds nothing and says the input was complete" {
	printf 'a 1\nb 2\na 3\n' | spsc-source -n 1 > in.atoms
	spsc-reduce -i ./in.atoms --state st -k 1 sum:2 > one.atoms
	[ "$(spsc-sink -i ./one.atoms)" = "$(printf 'a\t4\nb\t2')" ]
	[ -f st/checkpoint ] && [ ! -e st/checkpoint.tmp ]
	[ "$(stat -c %a st/checkpoint)" = 600 ]
	run spsc-reduce -i ./in.atoms --state st -k 1 sum:2
	[ "$status" -eq 0 ]
	[[ "$output" == *"the input was complete: atoms applied then are skipped, new events start new results"* ]]
	[ "$(printf '%s' "$output" | grep -c SPSC || true)" -eq 0 ]
}

@test "--state: a later run goes on past the windows written; before them is late" {
	printf 'a 1\na 3\n' | spsc-source -n 1 > in1.atoms
	run sh -c 'spsc-reduce -i ./in1.atoms --state st -k 1 --time 2 --tumbling 10s count | spsc-sink'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(printf 'a\t1970-01-01T00:00:00Z\t1970-01-01T00:00:10Z\t2')" ]
	printf 'a 5\na 15\n' | spsc-source -n 1 --name two > in2.atoms
	spsc-reduce -i ./in2.atoms --state st -k 1 --time 2 --tumbling 10s \
		--late ./late.atoms count > two.atoms 2> err
	grep -q 'the input was complete up to 1970-01-01T00:00:10Z: later events start new windows, earlier ones are late' err
	[ "$(spsc-sink -i ./two.atoms)" = "$(printf 'a\t1970-01-01T00:00:10Z\t1970-01-01T00:00:20Z\t1')" ]
	[ "$(spsc-sink -i ./late.atoms)" = "a 5" ]
}

@test "a damaged checkpoint is a clear error (exit 1), never a wrong result" {
	printf 'a 1\nb 2\na 3\n' | spsc-source -n 1 > in.atoms
	spsc-reduce -i ./in.atoms --state st -k 1 sum:2 > /dev/null
	cp st/checkpoint good
	# One flipped byte in the middle.
	size=$(stat -c %s good)
	cp good st/checkpoint
	printf '\377' | dd of=st/checkpoint bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
	run spsc-reduce -i ./in.atoms --state st -k 1 sum:2
	[ "$status" -eq 1 ]
	[[ "$output" == *"st/checkpoint: damaged checkpoint (checksum mismatch)"* ]]
	# Cut short.
	head -c $((size - 7)) good > st/checkpoint
	run spsc-reduce -i ./in.atoms --state st -k 1 sum:2
	[ "$status" -eq 1 ]
	[[ "$output" == *"st/checkpoint: damaged checkpoint"* ]]
	# Not a checkpoint at all.
	echo 'hello, world' > st/checkpoint
	run spsc-reduce -i ./in.atoms --state st -k 1 sum:2
	[ "$status" -eq 1 ]
	[[ "$output" == *"st/checkpoint: not a spsc-reduce checkpoint (bad magic)"* ]]
	: > st/checkpoint
	run spsc-reduce -i ./in.atoms --state st -k 1 sum:2
	[ "$status" -eq 1 ]
	[[ "$output" == *"too short to be one"* ]]
	cp good st/checkpoint
	run spsc-reduce -i ./in.atoms --state st -k 1 sum:2
	[ "$status" -eq 0 ]
}

@test "a checkpoint made with other options is refused, naming both" {
	printf 'a 1\n' | spsc-source > in.atoms
	spsc-reduce -i ./in.atoms --state st -k 1 --tumbling 10s sum:2 > /dev/null
	run spsc-reduce -i ./in.atoms --state st -k 1 --tumbling 10s count
	[ "$status" -eq 1 ]
	[[ "$output" == *"st/checkpoint: made with other options (-k 1, -t (blanks), window tumbling 10000000000ns, time (processing), aggregates sum:2), not these ("*"aggregates count)"* ]]
	run spsc-reduce -i ./in.atoms --state st -k 1 --tumbling 20s sum:2
	[ "$status" -eq 1 ]
	[[ "$output" == *"made with other options"* ]]
}

@test "one state directory, one stage: a second one is refused" {
	printf 'a\n' | spsc-source > in.atoms
	mkfifo in.fifo
	spsc-reduce --state st -k 1 count < in.fifo > /dev/null &
	pid=$!
	exec 7> in.fifo
	wait_for '[ -e st/lock ]'
	sleep 0.2
	run spsc-reduce -i ./in.atoms --state st -k 1 count
	[ "$status" -eq 1 ]
	[[ "$output" == *"st: another spsc-reduce is using this state directory"* ]]
	exec 7>&-
	wait "$pid"
}

@test "SIGTERM with --state: the state is kept and the next run goes on from it" {
	printf 'a 1\nb 2\n' | spsc-source -n 1 --name one > one.atoms
	printf 'a 10\nc 5\n' | spsc-source -n 1 --name two > two.atoms
	mkfifo in.fifo
	spsc-reduce --state st -k 1 sum:2 < in.fifo > out1.atoms 2> err1 &
	pid=$!
	exec 7> in.fifo
	cat one.atoms >&7
	wait_for '[ -f st/checkpoint ]'
	kill -TERM "$pid"
	wait "$pid"
	exec 7>&-
	[ ! -s out1.atoms ]
	cat one.atoms two.atoms | spsc-reduce --state st -k 1 sum:2 > out2.atoms
	[ "$(spsc-sink -i ./out2.atoms)" = "$(printf 'a\t11\nb\t2\nc\t5')" ]
}

@test "open sessions with every aggregate survive a checkpoint and a restart exactly" {
	local aggs="count sum:2 min:2 max:2 mean:2 first:3 last:3 distinct:3"
	printf 'a 0 x\nb 1 p\na 30 z\nb 4 q\n' | spsc-source -n 1 --name one > one.atoms
	printf 'a 25 x\na 12 y\nb 2.5 p\na 6 y\n' | spsc-source -n 1 --name two > two.atoms
	# shellcheck disable=SC2086
	cat one.atoms two.atoms | spsc-reduce -k 1 --time 2 --session 10s --lateness 1h $aggs > want.atoms
	mkfifo in.fifo
	# shellcheck disable=SC2086
	spsc-reduce --state st -k 1 --time 2 --session 10s --lateness 1h $aggs < in.fifo > out1.atoms &
	pid=$!
	exec 7> in.fifo
	cat one.atoms >&7
	wait_for '[ -f st/checkpoint ]'
	kill -TERM "$pid"
	wait "$pid"
	exec 7>&-
	# shellcheck disable=SC2086
	spsc-reduce --state st -k 1 --time 2 --session 10s --lateness 1h $aggs < two.atoms > out2.atoms
	# a: 0, 6, 12 merge into [0, 22) and 25, 30 into [25, 40); b: 1, 2.5, 4.
	want=$(printf '%s\n' \
		"b	1970-01-01T00:00:01Z	1970-01-01T00:00:14Z	3	7.5	1	4	2.5	p	q	2" \
		"a	1970-01-01T00:00:00Z	1970-01-01T00:00:22Z	3	18	0	12	6	x	y	2" \
		"a	1970-01-01T00:00:25Z	1970-01-01T00:00:40Z	2	55	25	30	27.5	x	z	2")
	[ "$(spsc-sink -i ./want.atoms)" = "$want" ]
	[ "$(cat out1.atoms out2.atoms | spsc-sink)" = "$want" ]
}

# --- exactly once over a queue -----------------------------------------------

# A keyed stream: 60000 events of 500 keys, event times 1 s apart per 100
# events, in 600 atoms.
make_stream() {
	awk 'BEGIN { for (i = 1; i <= 60000; i++)
		printf "k%d\t%d\t%d\n", (i * 7) % 500, 1796075040 + int(i / 100), i % 1000 }' > in.tsv
	spsc-source -n 100 --name in in.tsv > in.atoms
}

# kill_restart N ARGS...: runs spsc-reduce -i raw -o out ARGS, killing it
# with -9 N times once it has made progress (more input acknowledged),
# then once more to the end, which must come by itself.
kill_restart() {
	local n=$1 acked=0 pid
	shift
	for ((k = 1; k <= n; k++)); do
		spsc-reduce -i raw -o out "$@" 2>> reduce.log &
		pid=$!
		BG_PIDS="$BG_PIDS $pid"
		wait_for "[ \"\$(qstat raw acked)\" -gt $acked ]" 400
		acked=$(qstat raw acked)
		kill -9 "$pid"
		wait "$pid" 2>/dev/null || true
	done
	timeout -s KILL 120 spsc-reduce -i raw -o out "$@" 2>> reduce.log
}

@test "exactly once over a queue: kill -9 four times mid-stream, results exactly those of one clean run" {
	make_stream
	spsc-reduce -k 1 -t '\t' count sum:3 distinct:3 < in.atoms | spsc-sink | sort > want
	[ "$(wc -l < want)" -eq 500 ]
	start_coord --visibility 1s
	background spsc-source -n 100 --name in --rate 15000 -o raw in.tsv
	kill_restart 4 -k 1 -t '\t' --checkpoint 100ms count sum:3 distinct:3
	[ "$(qstat raw acked)" -eq 600 ]
	[ "$(qstat raw complete)" -eq 1 ]
	timeout -s KILL 30 spsc-sink -i out | sort > got
	cmp want got
	[ "$(qstat out complete)" -eq 1 ]
	# The kills cost redeliveries, and the restarts absorbed them.
	[ "$(qstat raw redelivered)" -gt 0 ]
}

# With windows that close while the stream goes on, a redelivered atom
# may come after later ones and find its windows closed: then its events
# are late, not lost.  What must hold: every event is counted in exactly
# one emitted window or is a late event, and no window comes twice.
@test "exactly once with windows closing mid-stream: each event in one result or late, through kill -9" {
	make_stream
	start_coord --visibility 1s
	background spsc-source -n 100 --name in --rate 15000 -o raw in.tsv
	kill_restart 3 -k 1 -t '\t' --time 2 --tumbling 10s --lateness 20s \
		--late late --checkpoint 100ms count sum:3
	[ "$(qstat raw acked)" -eq 600 ]
	timeout -s KILL 30 spsc-sink -i out > got
	timeout -s KILL 30 spsc-sink -i late --drain > late.tsv
	[ "$(qstat raw redelivered)" -gt 0 ]
	# Per window: the input's events less the late ones, count and sum;
	# and no window twice.
	/usr/bin/python3 - <<'PY'
import calendar, collections, time
def window(t):
    return int(t) - int(t) % 10
want = collections.Counter(), collections.Counter()
for name, sign in (("in.tsv", 1), ("late.tsv", -1)):
    for line in open(name):
        k, t, v = line.rstrip("\n").split("\t")
        want[0][k, window(t)] += sign
        want[1][k, window(t)] += sign * int(v)
have, seen = {}, set()
for line in open("got"):
    k, start, end, n, s = line.rstrip("\n").split("\t")
    t = calendar.timegm(time.strptime(start, "%Y-%m-%dT%H:%M:%SZ"))
    assert (k, t) not in seen, "window twice: " + line
    seen.add((k, t))
    have[k, t] = (int(n), int(s))
expect = {w: (n, want[1][w]) for w, n in want[0].items() if n}
assert have == expect, sorted(set(have.items()) ^ set(expect.items()))[:10]
PY
}

# The input is complete but for the atoms the stage holds: a 60 s
# checkpoint interval (leases of 10 min, so half a lease does not cut it
# shorter) must not hold the end back.  The bound, 10 s, is far above a
# normal run (well under a second) and far below the interval.
@test "a complete input ends the stage at once, not at its next checkpoint" {
	start_coord
	spsc-coord create raw --visibility 10m
	printf 'a\t1\nb\t2\na\t3\n' > in.tsv
	spsc-source -n 1 --name in -o raw in.tsv
	SECONDS=0
	timeout -s KILL 120 spsc-reduce -i raw -o out -k 1 -t '\t' --checkpoint 60s sum:2
	echo "took ${SECONDS}s"
	[ "$SECONDS" -lt 10 ]
	[ "$(timeout -s KILL 30 spsc-sink -i out)" = "$(printf 'a\t4\nb\t2')" ]
	[ "$(qstat raw acked)" -eq 3 ]
	[ "$(qstat raw complete)" -eq 1 ]
	[ "$(qstat out complete)" -eq 1 ]
}

# The same when the producer says done only after the stage has taken
# every atom and gone back to waiting: the end must reach a waiting stage.
@test "a producer that finishes while the stage waits ends it at once" {
	start_coord
	spsc-coord create raw --visibility 10m
	printf 'a\t1\nb\t2\na\t3\n' > in.tsv
	mkfifo in.fifo
	SECONDS=0
	background timeout -s KILL 120 spsc-reduce -i raw -o out -k 1 -t '\t' --checkpoint 60s sum:2
	reducer=$LAST_PID
	background spsc-source -n 1 --name in -o raw in.fifo
	exec 7> in.fifo
	cat in.tsv >&7
	wait_for '[ "$(qstat raw put)" -eq 3 ] && [ "$(qstat raw ready)" -eq 0 ]'
	exec 7>&-	# the source ends, and says done
	wait "$reducer"
	echo "took ${SECONDS}s"
	[ "$SECONDS" -lt 10 ]
	[ "$(timeout -s KILL 30 spsc-sink -i out)" = "$(printf 'a\t4\nb\t2')" ]
	[ "$(qstat raw complete)" -eq 1 ]
}
