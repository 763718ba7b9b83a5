#!/usr/bin/env bats
# spsc-reduce's results, byte for byte, against t/reduce_ref.py (the same
# computation in Python, written from the contract): windows of every kind,
# several aggregates at once, TSV, blank-separated and JSON events, TSV and
# --json results, event times as epoch seconds, milliseconds and RFC 3339,
# out-of-order events within --lateness and late events beyond it.  Event
# streams come from t/gen_events.py (seeded), cut into atoms of a few hundred
# events so that windows span atoms.
load helpers

ref() { python3 "$SPSC_SRCDIR/t/reduce_ref.py" "$@"; }
gen() { python3 "$SPSC_SRCDIR/t/gen_events.py" "$@"; }

need_reduce() {
	command -v spsc-reduce >/dev/null || skip "spsc-reduce is not built yet"
}

# same WANT GOT: byte for byte, or fail showing the first differences.
same() {
	cmp -s "$1" "$2" && return 0
	echo "$2 differs from $1 ($(wc -l < "$1") vs $(wc -l < "$2") lines):"
	diff "$1" "$2" | head -20
	return 1
}

# late_stamps FILE: "KIND CODE" for each frame of FILE: the failure kind and
# code at bytes 48 and 52 of every header, whose length H is at byte 6 and
# the stored payload's length S at byte 40 (spsc-atom(5)).
late_stamps() {
	python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
at = 0
while at < len(data):
    assert data[at:at + 4] == b"SPSC", "no frame at byte %d" % at
    (h,) = struct.unpack_from("<H", data, at + 6)
    (s,) = struct.unpack_from("<I", data, at + 40)
    (code,) = struct.unpack_from("<i", data, at + 52)
    print(data[at + 48], code)
    at += h + s
PY
}

# check ATOM ARGS...: in.txt through spsc-source (atoms of ATOM events),
# spsc-reduce ARGS --late ./late.atoms and spsc-sink, over pipes; the
# results, the late events and the count of late events at exit must be
# those of reduce_ref.py ARGS.  Sets $late_count.
check() {
	local atom=$1 stamps
	shift
	set -o pipefail
	rm -f late.atoms	# a file endpoint appends
	ref -i in.txt --late late.want "$@" > want
	spsc-source -n "$atom" --name ev in.txt |
		spsc-reduce --late ./late.atoms "$@" 2> err | spsc-sink > got
	same want got
	[ -s want ]
	: > late.got
	if [ -e late.atoms ]; then
		spsc-sink -i ./late.atoms > late.got
	fi
	same late.want late.got
	late_count=$(wc -l < late.want)
	if [ "$late_count" -gt 0 ]; then
		grep -F "spsc-reduce: $late_count late events" err
		stamps=$(late_stamps late.atoms | awk '$1 != 8 { bad = 1 } { n += $2 }
			END { print (bad ? "kind not 8" : n) }')
		[ "$stamps" = "$late_count" ]
	fi
}

@test "the reference agrees with its hand-computed cases" {
	run python3 "$SPSC_SRCDIR/t/reduce_ref.py" --selftest
	[ "$status" -eq 0 ]
	[[ "$output" == "reduce_ref.py: "*" cases and the formatters agree" ]]
}

@test "spsc-reduce gives the reference's hand-computed results, one event an atom" {
	need_reduce
	local n i failed= args
	n=$(python3 "$SPSC_SRCDIR/t/reduce_ref.py" --write-cases .)
	[ "$n" -ge 10 ]
	set -o pipefail
	for ((i = 0; i < n; i++)); do
		mapfile -t args < "$i.args"
		rm -f late.atoms
		spsc-source -n 1 --name "case$i" "$i.in" |
			spsc-reduce --late ./late.atoms "${args[@]}" 2> err | spsc-sink > got
		: > late.got
		if [ -e late.atoms ]; then
			spsc-sink -i ./late.atoms > late.got
		fi
		if ! same "$i.want" got || ! same "$i.late" late.got; then
			echo "in case $i: ${args[*]}"
			failed="$failed $i"
		fi
	done
	[ -z "$failed" ]
}

@test "tumbling windows, TSV keys, every aggregate at once, disorder within lateness" {
	need_reduce
	local aggs="count sum:3 min:3 max:3 mean:3 first:5 last:5 distinct:5 sum:4 mean:4 min:4 max:4 distinct:4 first:4"
	for run in "1 3000 250" "2 5000 300" "3 2000 199"; do
		set -- $run
		gen --seed "$1" --count "$2" --keys 40 --disorder 0.2 --max-delay 2 > in.txt
		# shellcheck disable=SC2086
		check "$3" -k 1 -t '\t' --time 2 --tumbling 10s --lateness 2s $aggs
		[ "$late_count" -eq 0 ]
	done
}

@test "tumbling windows: events later than the lateness go to --late, the rest count" {
	need_reduce
	for run in "4 4000 300 1s" "5 3000 250 500ms"; do
		set -- $run
		gen --seed "$1" --count "$2" --keys 30 --disorder 0.15 --max-delay 1 \
			--late 0.03 --late-by 15 > in.txt
		check "$3" -k 1 -t '\t' --time 2 --tumbling 5s --lateness "$4" count sum:3 first:5 last:5
		[ "$late_count" -gt 0 ]
	done
}

@test "sliding windows, SIZE a multiple of SLIDE or not, with late events" {
	need_reduce
	for run in "6 3000 300 10s/5s" "7 2500 200 10s/3s" "8 2000 250 4s/4s"; do
		set -- $run
		gen --seed "$1" --count "$2" --keys 25 --disorder 0.1 --max-delay 1.5 \
			--late 0.02 --late-by 12 > in.txt
		check "$3" -k 1 -t '\t' --time 2 --sliding "$4" --lateness 1500ms \
			count sum:4 max:3 distinct:5
		[ "$late_count" -gt 0 ]
	done
}

@test "session windows per key: gaps, merges of out-of-order events, late sessions" {
	need_reduce
	for run in "9 3000 300 2s 1s" "10 4000 250 800ms 2s" "11 2000 200 5s 0"; do
		set -- $run
		gen --seed "$1" --count "$2" --keys 150 --zipf 0.8 --step 30 \
			--disorder 0.1 --max-delay 1 --late 0.02 --late-by 10 --time-format ms > in.txt
		check "$3" -k 1 -t '\t' --time 2 --session "$4" --lateness "$5" \
			count sum:4 mean:3 first:5 last:5 min:4
	done
}

@test "session times in epoch seconds with milliseconds print their milliseconds" {
	need_reduce
	gen --seed 12 --count 3000 --keys 120 --step 40 --disorder 0.1 --max-delay 1 \
		--late 0.01 --late-by 5 > in.txt
	check 300 -k 1 -t '\t' --time 2 --session 1500ms --lateness 1s count first:4 last:4
}

@test "JSON keys and fields, --json results, RFC 3339 times with offsets" {
	need_reduce
	for run in "13 3000 300 tumbling 10s" "14 2500 250 sliding 6s/2s" "15 2000 200 session 1s"; do
		set -- $run
		gen --seed "$1" --count "$2" --format json --keys 30 --time-format rfc3339 \
			--disorder 0.1 --max-delay 1 --late 0.02 --late-by 10 > in.txt
		check "$3" -k .user.id --time .ts "--$4" "$5" --lateness 1s --json \
			count sum:.price mean:.n min:.price max:.n first:.tags[0] last:.tags[-1] distinct:.tags[0]
	done
}

@test "JSON events with epoch seconds and milliseconds, TSV results" {
	need_reduce
	for run in "16 3000 300 s" "17 3000 250 ms"; do
		set -- $run
		gen --seed "$1" --count "$2" --format json --keys 60 --time-format "$4" \
			--disorder 0.2 --max-delay 2 --late 0.01 > in.txt
		check "$3" -k .user.id --time .ts --tumbling 3s --lateness 2s \
			count sum:.n sum:.price last:.tags[0] distinct:.tags[-1]
	done
}

@test "fields split at runs of blanks, as awk does, when there is no -t" {
	need_reduce
	gen --seed 18 --count 3000 --format ws --keys 50 --disorder 0.1 --max-delay 1 \
		--late 0.02 > in.txt
	check 300 -k 1 --time 2 --tumbling 10s --lateness 1s count sum:3 sum:4 first:5 distinct:4
}

@test "non-ASCII keys order by their bytes and stay UTF-8 in --json results" {
	need_reduce
	gen --seed 19 --count 3000 --keys 40 --utf8 --time-format rfc3339 > in.txt
	check 250 -k 1 -t '\t' --time 2 --tumbling 5s --lateness 2s count sum:4
	gen --seed 20 --count 2000 --keys 40 --utf8 --format json > in.txt
	check 250 -k .user.id --time .ts --tumbling 5s --lateness 2s --json count last:.tags[0]
}

@test "decimals with no exact binary form: doubles added in arrival order, 17 digits when needed" {
	need_reduce
	for seed in 21 22; do
		gen --seed "$seed" --count 3000 --keys 20 --decimals any --late 0.01 > in.txt
		check 300 -k 1 -t '\t' --time 2 --tumbling 10s --lateness 2s sum:4 mean:4 min:4 max:4
	done
}

@test "no window: one result per key at the end, first and last by event time" {
	need_reduce
	gen --seed 23 --count 5000 --keys 300 --disorder 0.3 --max-delay 5 --late 0.05 > in.txt
	check 300 -k 1 -t '\t' --time 2 count sum:3 sum:4 mean:4 min:3 max:4 first:5 last:5 distinct:5
	[ "$late_count" -eq 0 ]
	gen --seed 24 --count 3000 --keys 100 --format json > in.txt
	check 200 -k .user.id --json count sum:.n first:.tags[0] last:.tags[0]
}

@test "events without a usable key, time or value: dead-lettered in order (exit 3) or skipped" {
	need_reduce
	local status
	for run in "25 tsv 2000 tumbling 5s" "26 json 2000 session 1s"; do
		set -- $run
		gen --seed "$1" --format "$2" --count "$3" --keys 30 --bad 0.05 --late 0.02 > in.txt
		spsc-source -n 200 --name ev in.txt > in.atoms
		if [ "$2" = json ]; then
			set -- -k .user.id --time .ts "--$4" "$5" count sum:.n first:.tags[0] mean:.price
		else
			set -- -k 1 -t '\t' --time 2 "--$4" "$5" count sum:3 first:5 mean:4
		fi
		ref -i in.txt --late late.want --errors dlq.want --lateness 1s "$@" > want
		[ -s dlq.want ]
		rm -f late.atoms dlq.atoms
		status=0
		spsc-reduce --late ./late.atoms --dlq ./dlq.atoms --lateness 1s "$@" \
			< in.atoms > out.atoms 2> err || status=$?
		[ "$status" -eq 3 ]
		spsc-sink < out.atoms > got
		same want got
		spsc-sink -i ./dlq.atoms > dlq.got
		same dlq.want dlq.got
		spsc-sink -i ./late.atoms > late.got
		same late.want late.got
		rm -f late.atoms dlq.atoms
		spsc-reduce --late ./late.atoms --dlq ./dlq.atoms --on-error skip --lateness 1s "$@" \
			< in.atoms > out.atoms 2> err
		[ ! -e dlq.atoms ]
		spsc-sink < out.atoms > got
		same want got
	done
}
