#!/usr/bin/env bats
# spsc-sink: the three destinations, de-duplication within a run and across
# reruns, crash recovery after a real kill -9, statistics, bad input and
# write errors.  Frames come from t/mkatoms.py, which can also damage them.
load helpers

BG_PIDS=

teardown() {
	for p in $BG_PIDS; do
		kill -9 "$p" 2>/dev/null || true
	done
	cd / && rm -rf "$TMP"
}

mkatoms() {
	python3 "$SPSC_SRCDIR/t/mkatoms.py" "$@"
}

# The events that atoms FIRST..LAST of mkatoms' default stream hold.
events_of() {
	local name=$1 first=$2 last=$3 events=$4
	for k in $(seq "$first" "$last"); do
		for j in $(seq 0 $((events - 1))); do
			echo "$name $k $j"
		done
	done
}

# wait_for COMMAND...: poll until it succeeds, for at most 10 s.
wait_for() {
	for _ in $(seq 1 200); do
		"$@" && return 0
		sleep 0.05
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

size_over() {
	[ -e "$1" ] && [ "$(stat -c %s "$1")" -gt "$2" ]
}

files_over() {
	[ -d "$1" ] && [ "$(ls "$1" | wc -l)" -gt "$2" ]
}

@test "stdout: the events of every atom, in order, exactly" {
	mkatoms -n 3 -e 2 > in.atoms
	run spsc-sink < in.atoms
	[ "$status" -eq 0 ]
	[ "$output" = "$(events_of t 0 2 2)" ]
	spsc-sink - < in.atoms > out.txt
	events_of t 0 2 2 | cmp - out.txt
}

@test "stdout: duplicates within one stream are skipped and counted" {
	mkatoms -n 4 > in.atoms
	mkatoms -n 4 --first 2 >> in.atoms	# atoms 2 and 3 come twice
	mkatoms -n 1 --first 0 >> in.atoms	# and atom 0 again
	spsc-sink --stats < in.atoms > out.txt 2> err
	events_of t 0 5 2 | cmp - out.txt
	grep -q 'stats: atoms 6, events 12, bytes 72, ' err
	grep -q ', duplicates 3$' err
}

@test "stdout: zstd payloads are decoded, and -i reads a file of frames" {
	mkatoms -n 3 -e 40 --zstd > in.atoms
	[ "$(od -A n -j 5 -N 1 -t u1 in.atoms | tr -d ' ')" = 1 ]
	spsc-sink -i ./in.atoms > out.txt
	events_of t 0 2 40 | cmp - out.txt
}

@test "stdout with --journal: reruns skip what was written" {
	mkatoms -n 3 > first.atoms
	mkatoms -n 5 > all.atoms
	spsc-sink --journal ids < first.atoms > out.txt
	spsc-sink --journal ids < all.atoms >> out.txt
	spsc-sink --journal ids < all.atoms >> out.txt
	events_of t 0 4 2 | cmp - out.txt
	[ "$(stat -c %a ids)" = 600 ]
	# Without the journal, stdout only knows the current run.
	spsc-sink < all.atoms > again.txt
	events_of t 0 4 2 | cmp - again.txt
}

@test "FILE: appends, and reruns with overlapping input duplicate nothing" {
	mkatoms -n 3 > first.atoms
	mkatoms -n 4 --first 2 > second.atoms
	spsc-sink out.txt < first.atoms
	spsc-sink out.txt < second.atoms
	spsc-sink --stats out.txt < second.atoms 2> err
	events_of t 0 5 2 | cmp - out.txt
	grep -q 'stats: atoms 0, events 0, bytes 0, .*, duplicates 4$' err
	[ -f out.txt.spsc-ids ]
	[ "$(stat -c %a out.txt.spsc-ids)" = 600 ]
	# 32-byte header, one 40-byte record per atom written
	[ "$(stat -c %s out.txt.spsc-ids)" -eq $((32 + 6 * 40)) ]
	[ "$(head -c 8 out.txt.spsc-ids)" = SPSC-IDS ]
}

@test "FILE: what was in the file before the first run is kept" {
	printf 'written by hand\n' > out.txt
	mkatoms -n 2 > in.atoms
	spsc-sink out.txt < in.atoms
	spsc-sink out.txt < in.atoms
	{ echo 'written by hand'; events_of t 0 1 2; } | cmp - out.txt
}

@test "FILE: --journal names the journal instead of FILE.spsc-ids" {
	mkatoms -n 2 > in.atoms
	spsc-sink --journal ./elsewhere.ids out.txt < in.atoms
	spsc-sink --journal ./elsewhere.ids out.txt < in.atoms
	events_of t 0 1 2 | cmp - out.txt
	[ -f elsewhere.ids ]
	[ ! -e out.txt.spsc-ids ]
}

@test "FILE: bytes past the last journaled atom are cut (crash before the record)" {
	mkatoms -n 6 -e 3 > all.atoms
	mkatoms -n 3 -e 3 > first.atoms
	spsc-sink clean.txt < all.atoms
	spsc-sink out.txt < first.atoms
	printf 't 3 0\nt 3 1\nt 3' >> out.txt	# atom 3, half written
	run spsc-sink out.txt < all.atoms
	[ "$status" -eq 0 ]
	[[ "$output" == *"warning: out.txt: removed 15 unacknowledged byte(s) past the last journaled atom"* ]]
	cmp out.txt clean.txt
}

@test "FILE: a torn journal record is cut and its atom written again" {
	mkatoms -n 6 -e 3 > all.atoms
	mkatoms -n 3 -e 3 > first.atoms
	spsc-sink clean.txt < all.atoms
	spsc-sink out.txt < first.atoms
	mkatoms -n 1 -e 3 --first 3 | spsc-sink > atom3
	cat atom3 >> out.txt
	head -c 23 /dev/urandom >> out.txt.spsc-ids	# the record, torn
	run spsc-sink out.txt < all.atoms
	[ "$status" -eq 0 ]
	[[ "$output" == *"out.txt.spsc-ids: cut 1 damaged record(s) off the end"* ]]
	[[ "$output" == *"out.txt: removed 18 unacknowledged byte(s)"* ]]
	cmp out.txt clean.txt
}

@test "FILE: records past a file that lost its tail are dropped and rewritten" {
	mkatoms -n 6 -e 3 > all.atoms
	spsc-sink clean.txt < all.atoms
	mkatoms -n 4 -e 3 | spsc-sink out.txt
	truncate -s -5 out.txt	# the last atom's data never reached the disk
	run spsc-sink out.txt < all.atoms
	[ "$status" -eq 0 ]
	[[ "$output" == *"dropped 1 record(s) whose data did not reach out.txt"* ]]
	cmp out.txt clean.txt
}

@test "FILE: a journaled atom whose bytes did not survive is written again" {
	mkatoms -n 4 -e 3 > all.atoms
	spsc-sink clean.txt < all.atoms
	spsc-sink out.txt < all.atoms
	# Same length, other bytes: the pages of the last atom were lost.
	size=$(stat -c %s out.txt)
	printf '\0\0\0\0' | dd of=out.txt bs=1 seek=$((size - 4)) conv=notrunc status=none
	run spsc-sink out.txt < all.atoms
	[ "$status" -eq 0 ]
	[[ "$output" == *"dropped 1 record(s)"* ]]
	cmp out.txt clean.txt
}

@test "FILE: kill -9 at any point, then a rerun, equals a clean run" {
	mkatoms -n 300 -e 40 --created 1 > all.atoms	# 100600 bytes of events
	spsc-sink clean.txt < all.atoms
	# Three runs killed at growing sizes, each resuming the last one.
	for limit in 10000 40000 70000; do
		rm -f slow
		mkfifo slow
		mkatoms -n 300 -e 40 --created 1 --delay 0.005 > slow 3>&- &
		feeder=$!
		spsc-sink out.txt < slow 3>&- &
		sink=$!
		BG_PIDS="$feeder $sink"
		wait_for size_over out.txt "$limit"
		kill -9 "$sink"
		wait "$sink" || true
		kill "$feeder" 2>/dev/null || true
		wait "$feeder" || true
		[ "$(stat -c %s out.txt)" -lt "$(stat -c %s clean.txt)" ]
	done
	spsc-sink out.txt < all.atoms
	cmp out.txt clean.txt
}

@test "FILE: a second sink on the same file is refused" {
	mkfifo slow
	mkatoms -n 20 --delay 0.5 > slow 3>&- &
	BG_PIDS=$!
	spsc-sink out.txt < slow 3>&- &
	BG_PIDS="$BG_PIDS $!"
	wait_for size_over out.txt 0
	mkatoms -n 2 > in.atoms
	run spsc-sink out.txt < in.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"out.txt.spsc-ids: in use by another spsc-sink"* ]]
}

@test "FILE: a journal damaged in the middle, or not a journal, is an error" {
	mkatoms -n 4 > in.atoms
	spsc-sink out.txt < in.atoms
	printf 'X' | dd of=out.txt.spsc-ids bs=1 seek=$((32 + 40 + 5)) conv=notrunc status=none
	run spsc-sink out.txt < in.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"out.txt.spsc-ids: record 1 (byte 72) is damaged but later records are intact"* ]]
	echo 'my notes' > notes
	run spsc-sink --journal ./notes < in.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"./notes: not an spsc-sink journal (bad magic)"* ]]
	[ "$(cat notes)" = 'my notes' ]
}

@test "a journal is never the data itself, nor another destination's" {
	mkatoms -n 2 > in.atoms
	run bash -c 'spsc-sink --journal out.txt < in.atoms > out.txt'
	[ "$status" -eq 1 ]
	[[ "$output" == *"out.txt: the journal cannot be stdout itself"* ]]
	run spsc-sink --journal ./data.txt data.txt < in.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"./data.txt: the journal cannot be data.txt itself"* ]]
	spsc-sink --journal ids < in.atoms > /dev/null
	cp ids ids.before
	run spsc-sink --journal ./ids file.txt < in.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"./ids: this journal belongs to standard output or a stream, not to a file"* ]]
	cmp ids ids.before
}

@test "FILE: a write error is clear, exits 1, and loses nothing acknowledged" {
	mkatoms -n 20 -e 100 > all.atoms
	spsc-sink clean.txt < all.atoms
	run bash -c 'ulimit -f 8; spsc-sink out.txt < all.atoms'
	[ "$status" -eq 1 ]
	[[ "$output" == *"out.txt: write error: File too large"* ]]
	# Only whole atoms are left (0..10, 7690 bytes): the partial one was cut.
	events_of t 0 10 100 | cmp - out.txt
	spsc-sink out.txt < all.atoms
	cmp out.txt clean.txt
}

@test "stdout: a full device is a clear error, exit 1" {
	mkatoms -n 2 > in.atoms
	run spsc-sink /dev/full < in.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"/dev/full: write error: No space left on device"* ]]
	# A device is a stream, not a file: no journal is made next to it.
	[ ! -e /dev/full.spsc-ids ]
	spsc-sink /dev/null < in.atoms
}

@test "stdout: a reader that goes away (EPIPE) ends the sink with exit 1, no signal" {
	# Several MB, far more than the 1 MiB the sink may grow its pipe to,
	# so the reader is gone before the sink could finish.
	mkatoms -n 1000 -e 1000 > in.atoms
	run bash -c 'spsc-sink < in.atoms 2>err | head -1; echo "rc=${PIPESTATUS[0]}"'
	[ "${lines[0]}" = "t 0 0" ]
	[ "${lines[1]}" = "rc=1" ]
	grep -q 'error: stdout: write error: Broken pipe' err
}

@test "DIR/: one file per atom named from its id; reruns write nothing new" {
	mkatoms -n 3 -e 2 > in.atoms
	spsc-sink out/ < in.atoms
	[ "$(ls out | wc -l)" -eq 3 ]
	[ -z "$(ls out | grep -vE '^[0-9a-f]{32}\.events$')" ]
	id=$(od -A n -j 8 -N 16 -t x1 in.atoms | tr -d ' \n')
	events_of t 0 0 2 | cmp - "out/$id.events"
	touch -d '2000-01-01' out/*
	mkatoms -n 5 -e 2 | spsc-sink --stats out 2> err
	grep -q 'stats: atoms 2, .*, duplicates 3$' err
	[ "$(ls out | wc -l)" -eq 5 ]
	[ "$(stat -c %Y "out/$id.events")" = "$(date -d 2000-01-01 +%s)" ]
	[ -z "$(ls -A out | grep -v '\.events$')" ]
	cat out/* | sort | cmp - <(events_of t 0 4 2 | sort)
}

@test "DIR/: missing directories are made; an existing one needs no slash" {
	mkatoms -n 2 | spsc-sink a/b/c/
	[ "$(ls a/b/c | wc -l)" -eq 2 ]
	mkdir plain
	mkatoms -n 2 | spsc-sink plain
	[ "$(ls plain | wc -l)" -eq 2 ]
	run spsc-sink --journal j plain/
	[ "$status" -eq 2 ]
	[[ "$output" == *"--journal: a directory destination needs no journal"* ]]
}

@test "DIR/: kill -9 mid-stream, then a rerun, equals a clean run with no temporary files" {
	mkatoms -n 150 -e 200 --created 1 > all.atoms
	spsc-sink clean/ < all.atoms
	mkfifo slow
	mkatoms -n 150 -e 200 --created 1 --delay 0.005 > slow 3>&- &
	feeder=$!
	spsc-sink out/ < slow 3>&- &
	sink=$!
	BG_PIDS="$feeder $sink"
	wait_for files_over out 20
	kill -9 "$sink"
	wait "$sink" || true
	kill "$feeder" 2>/dev/null || true
	wait "$feeder" || true
	[ "$(ls out | wc -l)" -lt 150 ]
	spsc-sink out/ < all.atoms
	diff -r clean out
	[ -z "$(ls -A out | grep -v '\.events$')" ]
}

@test "DIR/: temporary files of dead sinks are removed, a live sink's are not" {
	mkatoms -n 2 | spsc-sink out/
	dead=$(bash -c 'echo $$')
	tmpdead=".0123456789abcdef0123456789abcdef.$dead.tmp"
	tmplive=".0123456789abcdef0123456789abcdef.$$.tmp"
	touch "out/$tmpdead" "out/$tmplive" out/.hidden-but-mine
	run spsc-sink out/ < /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"out/: removed 1 temporary file(s) left by an interrupted run"* ]]
	[ ! -e "out/$tmpdead" ]
	[ -e "out/$tmplive" ]
	[ -e out/.hidden-but-mine ]
}

@test "an atom with no events: recorded, so a rerun skips it too" {
	mkatoms -n 1 > in.atoms
	mkatoms -n 1 -e 0 --first 1 >> in.atoms
	mkatoms -n 1 --first 2 >> in.atoms
	spsc-sink out/ < in.atoms
	[ "$(ls out | wc -l)" -eq 3 ]
	[ "$(find out -empty -type f | wc -l)" -eq 1 ]
	spsc-sink out.txt < in.atoms
	spsc-sink --stats out.txt < in.atoms 2> err
	{ events_of t 0 0 2; events_of t 2 2 2; } | cmp - out.txt
	[ "$(stat -c %s out.txt.spsc-ids)" -eq $((32 + 3 * 40)) ]
	grep -q 'stats: atoms 0, .*, duplicates 3$' err
}

@test "--fsync gives the same output for all three destinations" {
	mkatoms -n 5 > in.atoms
	spsc-sink --fsync out.txt < in.atoms
	spsc-sink --fsync out/ < in.atoms
	spsc-sink --fsync --journal ids < in.atoms > std.txt
	events_of t 0 4 2 | cmp - out.txt
	events_of t 0 4 2 | cmp - std.txt
	[ "$(ls out | wc -l)" -eq 5 ]
}

@test "--stats: counts, throughput and latency on one line of stderr" {
	mkatoms -n 3 -e 4 > in.atoms
	mkatoms -n 1 >> in.atoms
	spsc-sink --stats < in.atoms > out.txt 2> err
	[ "$(wc -l < err)" -eq 1 ]
	grep -Eq '^spsc-sink\[[0-9]+\]: stats: atoms 3, events 12, bytes 72, events/s [0-9]+, latency p50 [0-9.]+[mun]?s p90 [0-9.]+[mun]?s p99 [0-9.]+[mun]?s max [0-9.]+[mun]?s, duplicates 1$' err
}

@test "--stats=json: one object with documented keys and exact counts" {
	mkatoms -n 3 -e 4 > in.atoms
	mkatoms -n 2 >> in.atoms
	spsc-sink --stats=json < in.atoms > /dev/null 2> err
	[ "$(wc -l < err)" -eq 1 ]
	python3 - err <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert sorted(s) == sorted(["atoms", "events", "bytes", "seconds",
                            "events_per_sec", "latency_ms", "duplicates"]), s
assert (s["atoms"], s["events"], s["bytes"], s["duplicates"]) == (3, 12, 72, 2), s
assert s["seconds"] >= 0 and s["events_per_sec"] >= 0, s
lat = s["latency_ms"]
assert sorted(lat) == ["max", "p50", "p90", "p99"], lat
assert 0 <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"] < 60000, lat
PY
}

@test "--stats: latency is per event, from created-at to the write" {
	mkatoms -n 1 -e 1 --name old --age 10 > in.atoms	# 1 event, 10 s old
	mkatoms -n 1 -e 99 --name new --age 1 >> in.atoms	# 99 events, 1 s old
	spsc-sink --stats=json < in.atoms > /dev/null 2> err
	python3 - err <<'PY'
import json, sys
lat = json.load(open(sys.argv[1]))["latency_ms"]
# Weighted by events, the one old event is only the maximum.
assert 1000 <= lat["p50"] < 5000, lat
assert 1000 <= lat["p99"] < 5000, lat
assert 10000 <= lat["max"] < 14000, lat
PY
}

@test "--stats with no atoms: zero counts and null latencies" {
	spsc-sink --stats=json < /dev/null 2> err
	python3 - err <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert (s["atoms"], s["events"], s["events_per_sec"]) == (0, 0, 0), s
assert s["latency_ms"] == {"p50": None, "p90": None, "p99": None, "max": None}, s
PY
	spsc-sink --stats < /dev/null 2> err
	grep -q 'stats: atoms 0, events 0, bytes 0, events/s 0, latency p50 - p90 - p99 - max -, duplicates 0$' err
}

@test "bad input: atoms before the damage are written, then one clear error" {
	for bad in payload-crc header-crc version magic codec cut-header cut-payload; do
		mkatoms -n 3 --bad "$bad" > bad.atoms
		run spsc-sink < bad.atoms
		echo "$bad: $output"
		[ "$status" -eq 1 ]
		[ "${#lines[@]}" -eq 5 ]
		[ "${lines[3]}" = "t 1 1" ]
		case $bad in
		payload-crc) want="payload CRC mismatch" ;;
		header-crc) want="header CRC mismatch" ;;
		version) want="unknown frame version 7 (this reader knows 1 to 2)" ;;
		magic) want="not an atom frame (bad magic 58 58 58 58)" ;;
		codec) want="unknown codec 9" ;;
		cut-header) want="truncated frame header (30 bytes at end of input)" ;;
		cut-payload) want="truncated frame: header promises 12 payload bytes, input ends after 2" ;;
		esac
		[[ "${lines[4]}" == "spsc-sink["*"]: error: stdin: byte 152: $want" ]]
	done
}

@test "bad input into a FILE: the atoms before it are journaled, a rerun completes" {
	mkatoms -n 4 > good.atoms
	mkatoms -n 3 --bad payload-crc > bad.atoms
	run spsc-sink out.txt < bad.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin: byte 152: payload CRC mismatch"* ]]
	events_of t 0 1 2 | cmp - out.txt
	spsc-sink out.txt < good.atoms
	events_of t 0 3 2 | cmp - out.txt
}

@test "bad input: an oversized frame, and random bytes" {
	mkatoms -n 2 --bad oversize > big.atoms
	run spsc-sink < big.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin: byte 76: frame of 2147483647 bytes is over the size limit of 67108864 bytes (see --max-atom)"* ]]
	mkatoms -n 2 -e 200 > in.atoms
	run spsc-sink --max-atom 1k < in.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin: byte 0: frame of 1490 bytes is over the size limit of 1024 bytes"* ]]
	run spsc-sink --max-atom 2k < in.atoms
	[ "$status" -eq 0 ]
	head -c 10000 /dev/urandom > junk
	run spsc-sink out/ < junk
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin: byte 0: "* ]]
	[ -z "$(ls -A out)" ]
}

@test "many atoms whose ids share their first eight bytes" {
	mkatoms -n 20000 -e 1 --weak-ids --created 1 > in.atoms
	mkatoms -n 100 -e 1 --weak-ids --created 1 >> in.atoms
	run timeout 20 spsc-sink --stats < in.atoms
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 20001 ]
	[[ "${lines[20000]}" == *"atoms 20000, events 20000,"*"duplicates 100" ]]
}

@test "SIGTERM finishes the atom in hand and exits 0" {
	mkfifo slow
	mkatoms -n 100 --delay 0.2 > slow 3>&- &
	BG_PIDS=$!
	spsc-sink --stats out.txt < slow 2> err 3>&- &
	sink=$!
	BG_PIDS="$BG_PIDS $sink"
	wait_for size_over out.txt 0
	kill -TERM "$sink"
	rc=0
	wait "$sink" || rc=$?
	[ "$rc" -eq 0 ]
	n=$(grep -o 'atoms [0-9]*' err | cut -d' ' -f2)
	[ "$n" -ge 1 ] && [ "$n" -lt 100 ]
	events_of t 0 $((n - 1)) 2 | cmp - out.txt
}

@test "usage: one destination, known --stats formats, --drain accepted" {
	run spsc-sink a b
	[ "$status" -eq 2 ]
	[[ "$output" == *"one destination only"* ]]
	run spsc-sink --stats=xml
	[ "$status" -eq 2 ]
	[[ "$output" == *"'xml' is not a format"* ]]
	mkatoms -n 2 > in.atoms
	run spsc-sink --drain < in.atoms
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	run spsc-sink -i no/such/file
	[ "$status" -eq 1 ]
	[[ "$output" == *"no/such/file: cannot open: No such file or directory"* ]]
}

# Realistic runs: atoms cut by spsc-source, ids derived from the input.

@test "spsc-source | spsc-sink: every event, with exact statistics" {
	seq 1 100000 > in.txt
	spsc-source -n 1000 in.txt | spsc-sink --stats=json > out.txt 2> err
	cmp in.txt out.txt
	python3 - err <<'PY'
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert (s["atoms"], s["events"], s["bytes"], s["duplicates"]) == (100, 100000, 588895, 0), s
assert s["events_per_sec"] > 0 and s["latency_ms"]["max"] is not None, s
PY
}

@test "spsc-source | spsc-sink FILE: a rerun of the same input adds nothing" {
	seq 1 5000 > in.txt
	spsc-source -n 100 in.txt | spsc-sink out.txt
	spsc-source -n 100 in.txt | spsc-sink --stats out.txt 2> err
	cmp in.txt out.txt
	grep -q 'stats: atoms 0, .*, duplicates 50$' err
}

@test "spsc-source --rate | spsc-sink FILE: kill -9 mid-stream, rerun equals the input" {
	seq 1 20000 > in.txt
	mkfifo slow
	spsc-source --rate 20000 -n 100 in.txt > slow 3>&- &
	BG_PIDS=$!
	spsc-sink out.txt < slow 3>&- &
	sink=$!
	BG_PIDS="$BG_PIDS $sink"
	wait_for size_over out.txt 20000
	kill -9 "$sink"
	wait "$sink" || true
	[ "$(stat -c %s out.txt)" -lt "$(stat -c %s in.txt)" ]
	spsc-source -n 100 in.txt | spsc-sink out.txt
	cmp in.txt out.txt
}

@test "spsc-source | spsc-sink DIR/: a rerun writes no file twice" {
	seq 1 1000 > in.txt
	spsc-source -n 100 in.txt | spsc-sink out/
	[ "$(ls out | wc -l)" -eq 10 ]
	spsc-source -n 100 in.txt | spsc-sink --stats out/ 2> err
	grep -q 'stats: atoms 0, .*, duplicates 10$' err
	cat out/* | sort -n | cmp - in.txt
}
