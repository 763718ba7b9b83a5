#!/usr/bin/env bats
# spsc-source: events, atom cutting, ids, inputs and their order, streams,
# linger, rate, compression, signals and errors.  Frames are decoded by an
# independent reader (t/source-frames.py) that checks every CRC.
load helpers
load source-helpers

@test "lines become events; a last line without its newline gets one" {
	printf 'one\ntwo\nthree' > in.txt
	spsc-source in.txt > out.atoms
	[ "$(frames events < out.atoms)" = "$(printf 'one\ntwo\nthree')" ]
	[ "$(frames events < out.atoms | od -An -c | tr -d ' \n')" = 'one\ntwo\nthree\n' ]
	[ "$(frames atoms < out.atoms | cut -d' ' -f2,3)" = "3 14" ]
}

@test "an empty input gives no atom" {
	: > empty.txt
	run bash -c 'spsc-source empty.txt | wc -c; printf "" | spsc-source | wc -c; spsc-source < empty.txt | wc -c'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '0\n0\n0')" ]
}

@test "events keep NUL, CR, tabs and invalid UTF-8 unchanged" {
	printf 'a\0b\r\n\t\xff\xfe\n' > in.bin
	spsc-source in.bin | frames events > out.bin
	cmp in.bin out.bin
}

@test "-n cuts an atom every N events" {
	seq 1 10 | spsc-source -n 3 > out.atoms
	[ "$(frames atoms < out.atoms | cut -d' ' -f2 | tr '\n' ' ')" = "3 3 3 1 " ]
	[ "$(frames events < out.atoms)" = "$(seq 1 10)" ]
}

@test "-b keeps atoms within SIZE bytes; a longer event goes alone" {
	printf 'aaa\nbbb\nccc\nddd\neee\n0123456789abcdef\nfff\n' > in.txt
	spsc-source -b 10 in.txt > out.atoms
	[ "$(frames atoms < out.atoms | cut -d' ' -f2,3 | tr '\n' ,)" = "2 8,2 8,1 4,1 17,1 4," ]
	cmp <(frames events < out.atoms) in.txt
}

@test "defaults: 1000 events per atom" {
	seq 1 2500 > in.txt
	spsc-source in.txt > out.atoms
	[ "$(frames atoms < out.atoms | cut -d' ' -f2 | tr '\n' ' ')" = "1000 1000 500 " ]
}

@test "atoms that cross read blocks keep every byte and respect -n and -b" {
	# Lines of varying length, over 1 MiB, so atoms straddle read blocks.
	awk 'BEGIN { for (i = 0; i < 30000; i++) { s = sprintf("%d:", i); n = i % 97; for (j = 0; j < n; j++) s = s "x"; print s } }' > in.txt
	[ "$(size_of in.txt)" -gt 1100000 ]
	spsc-source -n 700 -b 20000 in.txt > out.atoms
	cmp <(frames events < out.atoms) in.txt
	frames atoms < out.atoms | awk '$2 > 700 || $3 > 20000 { bad = 1 } END { exit bad }'
}

@test "an event over --max-atom: named with its byte offset, other inputs go on" {
	printf 'ok1\nok2\n%s\nafter\n' "$(printf 'x%.0s' $(seq 1 40))" > long.txt
	printf 'b1\nb2\n' > b.txt
	run bash -c 'spsc-source --max-atom 16 long.txt b.txt 2>err > out.atoms; echo "rc=$?"'
	[ "$output" = "rc=1" ]
	grep -q "long.txt: byte 8: event longer than --max-atom (16 bytes)" err
	[ "$(frames events < out.atoms)" = "$(printf 'ok1\nok2\nb1\nb2')" ]
}

@test "an unfinished last line over --max-atom is caught too" {
	printf 'ok\n%s' "$(printf 'y%.0s' $(seq 1 40))" > tail.txt
	run bash -c 'spsc-source --max-atom 16 tail.txt 2>err > out.atoms; echo "rc=$?"'
	[ "$output" = "rc=1" ]
	grep -q "tail.txt: byte 3: event longer than --max-atom" err
	[ "$(frames events < out.atoms)" = "ok" ]
}

@test "ids are deterministic: same bytes and name, same ids; the name, label and bytes matter" {
	seq 1 50 > a.txt
	mkdir sub && cp a.txt sub/a.txt
	spsc-source -n 10 a.txt | frames atoms | cut -d' ' -f1 > ids1
	spsc-source -n 10 a.txt | frames atoms | cut -d' ' -f1 > ids2
	spsc-source -n 10 --name other a.txt | frames atoms | cut -d' ' -f1 > other
	spsc-source -n 10 sub/a.txt | frames atoms | cut -d' ' -f1 > label
	spsc-source -n 10 < a.txt | frames atoms | cut -d' ' -f1 > stdin1
	cat a.txt | spsc-source -n 10 | frames atoms | cut -d' ' -f1 > stdin2
	[ "$(wc -l < ids1)" -eq 5 ]
	[ "$(sort -u ids1 | wc -l)" -eq 5 ]
	cmp ids1 ids2
	cmp stdin1 stdin2
	[ -z "$(comm -12 <(sort ids1) <(sort other))" ]
	[ -z "$(comm -12 <(sort ids1) <(sort label))" ]
	[ -z "$(comm -12 <(sort ids1) <(sort stdin1))" ]
	# One changed byte changes that atom's id only.
	sed -i 's/^25$/2x/' a.txt
	spsc-source -n 10 a.txt | frames atoms | cut -d' ' -f1 > changed
	[ "$(diff ids1 changed | grep -c '^>')" -eq 1 ]
}

@test "created-at is the wall clock when the atom's first event was read" {
	seq 1 5 > in.txt
	before=$(date +%s%N)
	spsc-source -n 2 in.txt > out.atoms
	after=$(date +%s%N)
	frames atoms < out.atoms | while read -r id n len codec created; do
		[ "$created" -ge "$before" ] && [ "$created" -le "$after" ]
	done
}

@test "directories are read recursively, sorted by bytes at each level" {
	mkdir -p d/b d/B d/a.dir
	echo top-Z > d/Z.txt
	echo top-a > d/a.txt
	echo in-B > d/B/x
	echo in-b > d/b/x
	echo in-a.dir > d/a.dir/x
	echo linked > target.txt
	ln -s ../target.txt d/link.txt
	ln -s .. d/loop
	mkfifo d/fifo
	run bash -c 'LC_ALL=en_US.UTF-8 spsc-source d/ 2>err | python3 "$SPSC_SRCDIR/t/source-frames.py" events'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'in-B\ntop-Z\nin-a.dir\ntop-a\nin-b\nlinked')" ]
	grep -q 'd/fifo: skipped: not a regular file' err
	grep -q 'd/loop: skipped: symbolic link to a directory' err
}

@test "a directory's files are labelled dir/name, with or without a trailing slash" {
	mkdir d
	seq 1 3 > d/x
	spsc-source d | frames atoms | cut -d' ' -f1 > one
	spsc-source d/ | frames atoms | cut -d' ' -f1 > two
	spsc-source d/x | frames atoms | cut -d' ' -f1 > three
	cmp one two
	cmp one three
}

@test "globs are expanded by spsc-source in sorted order" {
	for n in 10 2 1; do echo "f$n" > "f$n.log"; done
	echo other > f.txt
	run bash -c 'spsc-source "f*.log" | python3 "$SPSC_SRCDIR/t/source-frames.py" events'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'f1\nf10\nf2')" ]
}

@test "a glob that matches nothing, a missing file, a dangling link: named, the rest goes on" {
	echo good > good.txt
	ln -s nowhere dangling
	run bash -c 'spsc-source "nomatch*.log" ./missing.txt dangling good.txt 2>err | python3 "$SPSC_SRCDIR/t/source-frames.py" events; echo "rc=${PIPESTATUS[0]}"'
	[ "$output" = "$(printf 'good\nrc=1')" ]
	grep -q 'nomatch\*.log: no file matches' err
	grep -q './missing.txt: cannot open: No such file or directory' err
	grep -q 'dangling: cannot open: No such file or directory' err
}

@test "a file without read permission is named and skipped" {
	[ "$(id -u)" -ne 0 ] || skip "root reads files whatever their mode"
	echo secret > locked.txt
	chmod 000 locked.txt
	echo open > open.txt
	run bash -c 'spsc-source locked.txt open.txt 2>err | python3 "$SPSC_SRCDIR/t/source-frames.py" events; echo "rc=${PIPESTATUS[0]}"'
	[ "$output" = "$(printf 'open\nrc=1')" ]
	grep -q 'locked.txt: cannot open: Permission denied' err
}

@test "'-' reads standard input among the files" {
	echo first > a.txt
	echo last > c.txt
	run bash -c 'echo middle | spsc-source a.txt - c.txt | python3 "$SPSC_SRCDIR/t/source-frames.py" events'
	[ "$output" = "$(printf 'first\nmiddle\nlast')" ]
}

@test "linger: a slow stream's first events go out while it is still open" {
	mkfifo in
	spsc-source -l 100ms -o ./out.atoms < in & pid=$!; track $pid
	exec 8> in
	printf 'early1\nearly2\n' >&8
	wait_until '[ "$(size_of out.atoms)" -ge 78 ]'
	[ "$(frames events < out.atoms)" = "$(printf 'early1\nearly2')" ]
	printf 'late\n' >&8
	exec 8>&-
	wait "$pid"
	[ "$(frames events < out.atoms)" = "$(printf 'early1\nearly2\nlate')" ]
	[ "$(count_atoms out.atoms)" -eq 2 ]
}

@test "linger waits for a whole line: half a line is not an event" {
	mkfifo in
	spsc-source -l 50ms -o ./out.atoms < in & pid=$!; track $pid
	exec 8> in
	printf 'whole\nhal' >&8
	wait_until '[ "$(size_of out.atoms)" -ge 70 ]'
	printf 'f\n' >&8
	exec 8>&-
	wait "$pid"
	[ "$(frames events < out.atoms)" = "$(printf 'whole\nhalf')" ]
}

@test "SIGTERM on a stream: the events read so far go out, exit 0" {
	mkfifo in
	spsc-source -n 2 -l 1h -o ./out.atoms < in & pid=$!; track $pid
	exec 8> in
	printf 'a\nb\nc\npart' >&8
	wait_until '[ "$(size_of out.atoms)" -ge 68 ]'
	stop "$pid"
	exec 8>&-
	[ "$stopped_status" -eq 0 ]
	[ "$(frames events < out.atoms)" = "$(printf 'a\nb\nc\npart')" ]
}

@test "--rate throttles events per second" {
	seq 1 30 > in.txt
	start=$(date +%s%N)
	spsc-source --rate 50 -n 10 in.txt > out.atoms
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	# 30 events at 50/s take about 600 ms; allow a wide margin.
	[ "$took" -ge 400 ]
	[ "$took" -lt 5000 ]
	[ "$(frames events < out.atoms)" = "$(seq 1 30)" ]
}

@test "--rate with linger: partial atoms go out while events trickle" {
	seq 1 6 > in.txt
	spsc-source --rate 10 -n 1000 -l 150ms in.txt > out.atoms
	[ "$(count_atoms out.atoms)" -ge 2 ]
	[ "$(frames events < out.atoms)" = "$(seq 1 6)" ]
}

@test "--compress: zstd payloads that decode to the same events" {
	seq 1 5000 > in.txt
	spsc-source -z -n 1000 in.txt > z.atoms
	spsc-source --compress=19 -n 1000 in.txt > z19.atoms
	spsc-source -z9 -n 1000 in.txt > z9.atoms
	spsc-source -n 1000 in.txt > raw.atoms
	[ "$(frames atoms < z.atoms | cut -d' ' -f4 | sort -u)" = "1" ]
	[ "$(size_of z.atoms)" -lt "$(( $(size_of raw.atoms) / 2 ))" ]
	for f in z z19 z9; do cmp <(frames events < $f.atoms) in.txt; done
	# Compression does not change ids: they are over the raw events.
	cmp <(frames atoms < z.atoms | cut -d' ' -f1) <(frames atoms < raw.atoms | cut -d' ' -f1)
}

@test "-o PATH appends frames to a file" {
	seq 1 3 > in.txt
	spsc-source -o ./out.atoms in.txt
	spsc-source --output=./out.atoms in.txt
	[ "$(count_atoms out.atoms)" -eq 2 ]
	[ "$(frames events < out.atoms | wc -l)" -eq 6 ]
}

@test "usage errors exit 2 and name the problem" {
	run spsc-source -n 0 x
	[ "$status" -eq 2 ]
	[[ "$output" == *"--atom-events: '0'"* ]]
	run spsc-source -b 1parsec x
	[ "$status" -eq 2 ]
	[[ "$output" == *"not a size"* ]]
	run spsc-source -l forever x
	[ "$status" -eq 2 ]
	[[ "$output" == *"not a duration"* ]]
	run spsc-source --rate -3 x
	[ "$status" -eq 2 ]
	run spsc-source -z99 x
	[ "$status" -eq 2 ]
	run spsc-source -f
	[ "$status" -eq 2 ]
	[[ "$output" == *"--follow needs FILE arguments"* ]]
	run spsc-source -f -
	[ "$status" -eq 2 ]
	run spsc-source -f --watch . x
	[ "$status" -eq 2 ]
	run spsc-source --watch . x
	[ "$status" -eq 2 ]
	[[ "$output" == *"--watch takes no INPUT"* ]]
	run spsc-source --name= x
	[ "$status" -eq 2 ]
}

@test "a closed output is an error, never a signal" {
	seq 1 300000 > in.txt
	run bash -c 'spsc-source -n 10 in.txt 2>err | head -c 1 >/dev/null; echo "rc=${PIPESTATUS[0]}"'
	[ "$output" = "rc=1" ]
	grep -q 'stdout: write error: Broken pipe' err
}

@test "--progress ends with a summary on stderr; stdout stays data" {
	seq 1 3000 > in.txt
	spsc-source --progress in.txt 2>err > out.atoms
	grep -q 'info: done in .*3000 events, 3 atoms' err
	[ "$(frames events < out.atoms | wc -l)" -eq 3000 ]
	spsc-source in.txt 2>err2 >/dev/null
	[ ! -s err2 ]
}

@test "round trip through spsc-sink gives the input back" {
	spsc-sink --version >/dev/null 2>&1 || skip "spsc-sink not built"
	awk 'BEGIN { for (i = 0; i < 20000; i++) printf "line %d %s\n", i, (i % 3 ? "abc" : "") }' > in.txt
	printf 'no newline at the end' >> in.txt
	spsc-source -n 333 in.txt | spsc-sink > out.txt
	cmp out.txt <(cat in.txt; echo)
}
