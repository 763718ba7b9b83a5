#!/usr/bin/env bats
# spsc-shuffle: every event with a key reaches the one output that key maps
# to (the same in Python, t/partition.py, written from spsc-shuffle(1)),
# once, in order, over files, FIFOs and queues, and through kill -9.
load coord_helpers

partition() { /usr/bin/python3 "$SPSC_SRCDIR/t/partition.py" "$@"; }

# 2000 tab-separated events with 300 keys, in 8 atoms of 250.
make_input() {
	awk 'BEGIN { for (i = 1; i <= 2000; i++) printf "user%d\t%d\n", (i * 7) % 300, i }' > in.tsv
	spsc-source -n 250 --name in in.tsv > in.atoms
}

# expected N: for each partition P, expect.P holds the events of in.tsv
# whose key maps to P, in input order.
expected() {
	cut -f1 in.tsv | sort -u | partition "$1" - > keymap
	awk -F'\t' -v dir=. 'NR == FNR { p[$1] = $2; next } { print > ("expect." p[$1]) }' keymap in.tsv
	for ((i = 0; i < $1; i++)); do touch "expect.$i"; done
}

@test "field keys go where the documented function says, each event once, in order" {
	make_input
	expected 4
	mkdir parts
	spsc-shuffle -k 1 -t '\t' -p 4 -o parts/%d.atoms < in.atoms
	for i in 0 1 2 3; do
		spsc-sink -i "parts/$i.atoms" > "got.$i"
		cmp "got.$i" "expect.$i"
	done
	[ "$(cat got.* | wc -l)" -eq 2000 ]
}

@test "JSON keys too, and a key's partition does not depend on the rest of the event" {
	awk 'BEGIN { for (i = 1; i <= 500; i++) printf "{\"n\":%d,\"campaign\":\"c%d\"}\n", i, i % 37 }' > in.json
	spsc-source -n 100 in.json | spsc-shuffle -k .campaign -p 16 -o ./p%d.atoms
	for i in $(seq 0 15); do
		[ -e "p$i.atoms" ] || continue
		spsc-sink -i "./p$i.atoms" | sed 's/.*"campaign":"\([^"]*\)".*/\1/' | sort -u |
			partition 16 - | awk -F'\t' -v want="$i" '$2 != want { exit 1 }'
	done
	[ "$(cat ./p*.atoms | spsc-sink | wc -l)" -eq 500 ]
}

@test "the partition function's test vectors hold from Python as the man page gives them" {
	run partition 4 a hello campaign-42
	[ "$output" = "$(printf 'a\t1\nhello\t0\ncampaign-42\t0')" ]
	run partition 1000 "" a hello campaign-42
	[ "$output" = "$(printf '\t241\na\t350\nhello\t296\ncampaign-42\t824')" ]
	# Every row of the page's table, recomputed from the page's function.
	sed -n '/^\.SS Test vectors/,/^\.TE/p' "$SPSC_SRCDIR/man/spsc-shuffle.1" |
		grep 0x | sed 's/\\-/-/g; s/^(empty)//' > vectors
	[ "$(wc -l < vectors)" -ge 4 ]
	/usr/bin/python3 -B -c '
import sys, xxhash
sys.path.insert(0, sys.argv[1])
from partition import partition
for line in open("vectors"):
    key, h, p4, p16, p1000 = line.rstrip("\n").split("\t")
    k = key.encode()
    assert xxhash.xxh3_64_intdigest(k) == int(h, 16), line
    assert [partition(k, n) for n in (4, 16, 1000)] == [int(p4), int(p16), int(p1000)], line
' "$SPSC_SRCDIR/t"
}

@test "an atom with no event for a partition makes nothing there" {
	printf 'k1\t1\nk1\t2\n' | spsc-source -n 10 > one.atoms
	mkdir parts
	spsc-shuffle -k 1 -t '\t' -p 8 -o parts/%d.atoms < one.atoms
	[ "$(ls parts | wc -l)" -eq 8 ]
	[ "$(cat parts/*.atoms | headers | wc -l)" -eq 1 ]
	p=$(partition 8 k1 | cut -f2)
	[ "$(spsc-sink -i "parts/$p.atoms")" = "$(printf 'k1\t1\nk1\t2')" ]
}

@test "output ids derive from the input id and the partition: a rerun makes the same atoms" {
	make_input
	mkdir a b
	spsc-shuffle -k 1 -t '\t' -p 4 -o a/%d.atoms < in.atoms
	spsc-shuffle -k 1 -t '\t' -p 4 -o b/%d.atoms < in.atoms
	for i in 0 1 2 3; do
		cmp "a/$i.atoms" "b/$i.atoms"
	done
	[ "$(headers a/0.atoms | field id | sort -u | wc -l)" -eq "$(headers a/0.atoms | wc -l)" ]
}

@test "--broadcast sends every event to every output" {
	seq 1 100 | spsc-source -n 30 | spsc-shuffle --broadcast -p 3 -o ./b%d.atoms
	for i in 0 1 2; do
		[ "$(spsc-sink -i "./b$i.atoms")" = "$(seq 1 100)" ]
	done
}

@test "--round-robin spreads whole atoms by id, the same way every time" {
	seq 1 1000 | spsc-source -n 10 > in.atoms
	spsc-shuffle --round-robin -p 4 -o ./r%d.atoms < in.atoms
	spsc-shuffle --round-robin -p 4 -o ./s%d.atoms < in.atoms
	total=0
	for i in 0 1 2 3; do
		cmp "./r$i.atoms" "./s$i.atoms"
		n=$(headers "./r$i.atoms" | wc -l)
		[ "$n" -gt 10 ]
		total=$((total + n))
		headers "./r$i.atoms" | field events | grep -qvx 10 && false
	done
	[ "$total" -eq 100 ]
	[ "$(cat ./r*.atoms | spsc-sink | sort -n)" = "$(seq 1 1000)" ]
}

@test "an event without a key is dead-lettered with a warning naming the atom and the event; exit 3" {
	printf 'a 1\nnokey\nb 2\n' | spsc-source -n 10 --name bad > bad.atoms
	id=$(headers bad.atoms | field id)
	run spsc-shuffle -k 2 -t ' ' -p 2 -o ./o%d.atoms < bad.atoms
	[ "$status" -eq 3 ]
	[[ "$output" == *"atom $id, event 2: field 2 missing (event has 1 field); dead-lettered"* ]]
	[[ "$output" == *"1 of 3 events had no usable key and were dead-lettered"* ]]
	[ "$(spsc-sink -i ./odlq.atoms)" = "nokey" ]
	[ "$(headers ./odlq.atoms | field fail)" = "key:1" ]
	[ "$(cat ./o0.atoms ./o1.atoms | spsc-sink | sort)" = "$(printf 'a 1\nb 2')" ]
}

@test "--on-error skip counts and goes on (exit 0); fail stops at the event (exit 1)" {
	printf '{"k":1}\nnot json\n{"k":2}\n' | spsc-source -n 10 > j.atoms
	run spsc-shuffle -k .k -p 2 -o ./s%d.atoms --on-error skip < j.atoms
	[ "$status" -eq 0 ]
	[[ "$output" == *"event 2: malformed JSON"*"skipped"* ]]
	[ ! -e ./sdlq.atoms ]
	[ "$(cat ./s0.atoms ./s1.atoms | spsc-sink | wc -l)" -eq 2 ]
	run spsc-shuffle -k .k -p 2 -o ./f%d.atoms --on-error fail < j.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"event 2: malformed JSON"* ]]
}

@test "usage errors name what is wrong" {
	run spsc-shuffle -k 1 -o ./x%d
	[ "$status" -eq 2 ]; [[ "$output" == *"missing -p N"* ]]
	run spsc-shuffle -k 1 -p 2 -o -
	[ "$status" -eq 2 ]; [[ "$output" == *"'-' is not a queue"* ]]
	run spsc-shuffle -k 1 -p 2 -o part%d
	[ "$status" -eq 2 ]; [[ "$output" == *"has no '/'; write ./part%d for files here"* ]]
	run spsc-shuffle -k 1 -p 2 -o ./%d/%d
	[ "$status" -eq 2 ]; [[ "$output" == *"one %d and no other %"* ]]
	run spsc-shuffle --broadcast -k 1 -p 2 -o q
	[ "$status" -eq 2 ]; [[ "$output" == *"--broadcast takes neither"* ]]
	run spsc-shuffle -k 1 -p 2 -qz -o q
	[ "$status" -eq 2 ]; [[ "$output" == *"unknown option '-q'"* ]]
	run spsc-shuffle -k 1 -p 5000 -o q
	[ "$status" -eq 2 ]
	run spsc-shuffle -k .a[ -p 2 -o q
	[ "$status" -eq 2 ]
}

@test "FIFOs: one reader per partition" {
	make_input
	expected 3
	for i in 0 1 2; do mkfifo "f$i"; done
	sinks=""
	for i in 0 1 2; do
		spsc-sink -i "./f$i" > "got.$i" &
		sinks="$sinks $!"
	done
	spsc-shuffle -k 1 -t '\t' -p 3 -o ./f%d < in.atoms
	# each by name: a bare wait would wait for bats' own timer too
	for p in $sinks; do wait "$p"; done
	for i in 0 1 2; do cmp "got.$i" "expect.$i"; done
}

@test "queues: NAME.0 .. NAME.N-1, and a rerun of the same input is absorbed by de-duplication" {
	make_input
	expected 4
	start_coord
	spsc-coord put raw < in.atoms
	spsc-shuffle -i raw --drain -k 1 -t '\t' -p 4 -o bykey
	spsc-coord put raw2 < in.atoms
	spsc-shuffle -i raw2 --drain -k 1 -t '\t' -p 4 -o bykey
	for i in 0 1 2 3; do
		[ "$(qstat "bykey.$i" ready)" -eq "$(qstat "bykey.$i" put)" ]
		spsc-sink -i "bykey.$i" --drain > "got.$i"
		cmp "got.$i" "expect.$i"
	done
	[ "$(qstat raw ready)" -eq 0 ] && [ "$(qstat raw inflight)" -eq 0 ]
}

# A redelivered atom comes after the ones read meanwhile, so the order of
# atoms in a partition may change; their events may not.
@test "kill -9 of the shuffle mid-stream, then a restart: every partition exact" {
	awk 'BEGIN { for (i = 1; i <= 60000; i++) printf "k%d\t%d\n", (i * 13) % 997, i }' > in.tsv
	spsc-source -n 100 --name in in.tsv > in.atoms
	expected 4
	start_coord --visibility 1s
	spsc-coord put raw < in.atoms
	background spsc-shuffle -i raw -k 1 -t '\t' -p 4 -o bykey
	wait_for '[ "$(qstat raw acked)" -ge 100 ]' 400
	kill -9 "$LAST_PID"
	spsc-shuffle -i raw --drain -k 1 -t '\t' -p 4 -o bykey
	[ "$(qstat raw acked)" -eq 600 ]
	for i in 0 1 2 3; do
		spsc-sink -i "bykey.$i" --drain | sort > "got.$i"
		sort "expect.$i" | cmp "got.$i" -
	done
}
