#!/usr/bin/env bats
# spsc-source --follow (tail -F) and --watch (files landing in a directory):
# real files, real renames, real signals.  Every wait is a bounded poll for
# an observable result; every background source is killed in teardown.
load helpers
load source-helpers

# events_are FILE EXPECTED: the atoms in FILE hold exactly these events.
events_are() {
	[ "$(frames events < "$1" 2>/dev/null)" = "$2" ]
}

@test "--follow reads the file, then what is appended, until SIGTERM (exit 0)" {
	echo one > log
	spsc-source -f -l 50ms -o ./out.atoms log 2>err & pid=$!; track $pid
	wait_until 'events_are out.atoms one'
	echo two >> log
	wait_until 'events_are out.atoms "$(printf "one\ntwo")"'
	printf 'three\nfour\n' >> log
	wait_until 'events_are out.atoms "$(printf "one\ntwo\nthree\nfour")"'
	stop $pid
	[ "$stopped_status" -eq 0 ]
	[ "$(count_atoms out.atoms)" -eq 3 ]
	grep -q 'SIGTERM: finishing' err
}

@test "--follow: rotation by rename reads the old file out, then the new one" {
	echo a > log
	spsc-source -f -l 50ms -o ./out.atoms log 2>err & pid=$!; track $pid
	wait_until 'events_are out.atoms a'
	echo b >> log
	mv log log.1
	echo c > log
	wait_until 'events_are out.atoms "$(printf "a\nb\nc")"'
	echo d >> log
	wait_until 'events_are out.atoms "$(printf "a\nb\nc\nd")"'
	stop $pid
	[ "$stopped_status" -eq 0 ]
	grep -q 'log: replaced: following the new file' err
}

@test "--follow: a truncated file (copytruncate) is read again from its start" {
	printf '1\n2\n' > log
	spsc-source -f -l 50ms -o ./out.atoms log 2>err & pid=$!; track $pid
	wait_until 'events_are out.atoms "$(printf "1\n2")"'
	: > log
	echo 3 >> log
	wait_until 'events_are out.atoms "$(printf "1\n2\n3")"'
	stop $pid
	grep -q 'log: truncated: reading it from the start' err
}

@test "--follow: a file that does not exist yet is waited for" {
	echo here > a.log
	spsc-source -f -l 50ms -o ./out.atoms a.log later.log 2>err & pid=$!; track $pid
	wait_until 'events_are out.atoms here'
	grep -q 'later.log: does not exist yet: waiting for it' err
	echo late > later.log
	wait_until 'events_are out.atoms "$(printf "here\nlate")"'
	stop $pid
	[ "$stopped_status" -eq 0 ]
	# Each file has its own label: their atoms have distinct ids.
	[ "$(frames atoms < out.atoms | cut -d' ' -f1 | sort -u | wc -l)" -eq 2 ]
}

@test "--follow: SIGTERM sends the partial atom, its last line whole" {
	printf 'x\ny\nz\npartial' > log
	spsc-source -f -n 2 -l 1h -o ./out.atoms log & pid=$!; track $pid
	wait_until 'events_are out.atoms "$(printf "x\ny")"'
	stop $pid
	[ "$stopped_status" -eq 0 ]
	events_are out.atoms "$(printf 'x\ny\nz\npartial')"
	[ "$(count_atoms out.atoms)" -eq 2 ]
}

@test "--follow: SIGINT finishes the same way" {
	echo a > log
	# A shell starts background jobs with SIGINT ignored; undo that.
	python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
		spsc-source -f -l 1h -o ./out.atoms log 2>err & pid=$!; track $pid
	# Once the file is open it is read before the signal is looked at.
	wait_until 'readlink /proc/$pid/fd/* 2>/dev/null | grep -q "/log$"'
	kill -INT $pid
	status=0; wait $pid || status=$?
	[ "$status" -eq 0 ]
	events_are out.atoms a
	grep -q 'SIGINT: finishing' err
}

@test "--watch takes closed and renamed-in files, not hidden ones or subdirectories" {
	mkdir in
	echo pre > in/pre.txt
	spsc-source -w in -o ./out.atoms 2>err & pid=$!; track $pid
	wait_until 'events_are out.atoms pre'
	echo written > in/b.txt
	wait_until 'events_are out.atoms "$(printf "pre\nwritten")"'
	echo moved > tmp.txt
	mv tmp.txt in/c.txt
	echo hidden > in/.partial
	mkdir in/sub && echo deep > in/sub/x.txt
	seq 1 3 | gzip > in/d.gz
	wait_until 'events_are out.atoms "$(printf "pre\nwritten\nmoved\n1\n2\n3")"'
	stop $pid
	[ "$stopped_status" -eq 0 ]
	events_are out.atoms "$(printf 'pre\nwritten\nmoved\n1\n2\n3')"
}

@test "--watch waits until a file is closed" {
	mkdir in
	echo ready > in/ready.txt
	spsc-source -w in -o ./out.atoms & pid=$!; track $pid
	# The start-up scan is over, and the watch is in place, once the file
	# that was there is out.
	wait_until 'events_are out.atoms ready'
	exec 8> in/slow.txt
	echo 'first half' >&8
	# A file landing later is taken first: slow.txt is still open.
	echo marker > in/marker.txt
	wait_until 'events_are out.atoms "$(printf "ready\nmarker")"'
	echo 'second half' >&8
	exec 8>&-
	wait_until 'events_are out.atoms "$(printf "ready\nmarker\nfirst half\nsecond half")"'
	stop $pid
	[ "$stopped_status" -eq 0 ]
}

@test "--watch --state: files taken before a restart are not taken again" {
	mkdir in
	echo a > in/a.txt
	spsc-source -w in --state st -o ./out.atoms & pid=$!; track $pid
	wait_until 'events_are out.atoms a'
	echo b > in/b.txt
	wait_until 'events_are out.atoms "$(printf "a\nb")"'
	stop $pid
	echo c > in/c.txt
	spsc-source -w in --state st -o ./out.atoms & pid=$!; track $pid
	wait_until 'events_are out.atoms "$(printf "a\nb\nc")"'
	echo d > in/d.txt
	wait_until 'events_are out.atoms "$(printf "a\nb\nc\nd")"'
	stop $pid
	[ "$stopped_status" -eq 0 ]
	[ "$(wc -l < st/manifest)" -eq 4 ]
}

@test "--watch --once takes what is new and exits" {
	mkdir in
	echo a > in/a.txt
	echo b > in/b.txt
	run bash -c 'spsc-source -w in --once --state st | python3 "$SPSC_SRCDIR/t/source-frames.py" events'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'a\nb')" ]
	spsc-source -w in --once --state st > again.atoms
	[ "$(size_of again.atoms)" -eq 0 ]
	echo c > in/c.txt
	[ "$(spsc-source -w in --once --state st | frames events)" = "c" ]
}

@test "--watch: the directory going away ends the run with an error" {
	mkdir in
	spsc-source -w in -o ./out.atoms 2>err & pid=$!; track $pid
	echo x > in/x.txt
	wait_until 'events_are out.atoms x'
	rm -r in
	status=0; wait $pid || status=$?
	[ "$status" -eq 1 ]
	grep -q 'in: the watched directory was removed or moved' err
}

@test "--watch on a missing directory is a clear error" {
	run spsc-source -w nowhere -o ./out.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"nowhere: cannot watch: No such file or directory"* ]]
}
