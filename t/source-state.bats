#!/usr/bin/env bats
# spsc-source --state DIR --once: the manifest that lets cron reruns take
# only what is new, and how it survives damage, overlap and interruption.
load helpers
load source-helpers

run_once() {
	spsc-source --once --state st "$@"
}

@test "--once --state: a rerun skips what was ingested and takes what is new" {
	mkdir logs
	seq 1 3 > logs/a.log
	seq 4 6 > logs/b.log
	[ "$(run_once logs | frames events)" = "$(seq 1 6)" ]
	run_once logs > again.atoms
	[ "$(size_of again.atoms)" -eq 0 ]
	echo 7 > logs/c.log
	[ "$(run_once logs | frames events)" = "7" ]
}

@test "a changed file is taken again whole; a renamed one is not" {
	mkdir logs
	seq 1 3 > logs/a.log
	seq 4 6 > logs/b.log
	run_once logs > /dev/null
	echo 3b >> logs/a.log
	mv logs/b.log logs/b-renamed.log
	[ "$(run_once logs | frames events)" = "$(printf '1\n2\n3\n3b')" ]
}

@test "the manifest is private and names each file in a checksummed record" {
	mkdir logs
	seq 1 3 > logs/a.log
	printf 'x\n' > 'logs/we ird\name'
	umask 022
	run_once logs > /dev/null
	[ "$(stat -c %a st)" = "700" ]
	[ "$(stat -c %a st/manifest)" = "600" ]
	[ "$(wc -l < st/manifest)" -eq 2 ]
	grep -q "^1 [0-9a-f]\{8\} [0-9]* [0-9]* 6 [0-9]* logs/a.log$" st/manifest
	grep -qF 'logs/we\x20ird\x5cname' st/manifest
}

@test "a failed input is not recorded and is tried again next time" {
	printf '\037\213\010\000not deflate' > bad.gz
	echo good > good.txt
	run bash -c 'spsc-source --once --state st bad.gz good.txt 2>err | python3 "$SPSC_SRCDIR/t/source-frames.py" events; echo "rc=${PIPESTATUS[0]}"'
	[ "$output" = "$(printf 'good\nrc=1')" ]
	run bash -c 'spsc-source --once --state st bad.gz good.txt 2>err | wc -c; echo "rc=${PIPESTATUS[0]}"'
	[ "$output" = "$(printf '0\nrc=1')" ]
	grep -q 'bad.gz' err
	[ "$(wc -l < st/manifest)" -eq 1 ]
}

@test "standard input is never recorded" {
	echo a | run_once > one.atoms
	echo a | run_once > two.atoms
	[ "$(count_atoms one.atoms)" -eq 1 ]
	[ "$(count_atoms two.atoms)" -eq 1 ]
	[ ! -s st/manifest ]
}

@test "a torn last record is cut off, a damaged one ignored, both with a warning" {
	seq 1 3 > a.txt
	seq 4 6 > b.txt
	run_once a.txt b.txt > /dev/null
	# Damage b.txt's record, then leave half a record at the end.
	sed -i '2s/ b.txt$/ b.tXt/' st/manifest
	printf '1 0000' >> st/manifest
	run bash -c 'spsc-source --once --state st a.txt b.txt 2>err | python3 "$SPSC_SRCDIR/t/source-frames.py" events'
	[ "$status" -eq 0 ]
	[ "$output" = "$(seq 4 6)" ]
	grep -q 'st/manifest: line 2: damaged record ignored' err
	grep -q 'st/manifest: torn last record (6 bytes) removed' err
	[ "$(tail -c 1 st/manifest | od -An -c | tr -d ' ')" = '\n' ]
	[ "$(wc -l < st/manifest)" -eq 3 ]
	run_once a.txt b.txt > none.atoms
	[ "$(size_of none.atoms)" -eq 0 ]
}

@test "an overlapping run on the same state directory exits 1 at once" {
	seq 1 3 > a.txt
	mkdir st
	touch st/manifest
	flock st/manifest -c 'spsc-source --once --state st a.txt > out.atoms 2> err; echo "rc=$?" > rc'
	[ "$(cat rc)" = "rc=1" ]
	grep -q 'st/manifest: in use by another spsc-source' err
	[ "$(size_of out.atoms)" -eq 0 ]
}

@test "an input interrupted by SIGTERM is not recorded; the rerun cuts the same atoms" {
	seq 1 100 > a.txt
	spsc-source --once --state st --rate 40 -n 10 -l 1h -o ./first.atoms a.txt & pid=$!; track $pid
	wait_until '[ "$(count_atoms first.atoms 2>/dev/null)" -ge 1 ]'
	stop $pid
	[ "$stopped_status" -eq 0 ]
	[ ! -s st/manifest ]
	# Only whole atoms went out: the part-atom of a file is dropped.
	n=$(count_atoms first.atoms)
	[ "$n" -lt 10 ]
	[ -z "$(frames atoms < first.atoms | awk '$2 != 10')" ]
	run_once -n 10 -o ./second.atoms a.txt
	[ "$(count_atoms second.atoms)" -eq 10 ]
	[ "$(wc -l < st/manifest)" -eq 1 ]
	cmp <(frames atoms < first.atoms | cut -d' ' -f1) \
	    <(frames atoms < second.atoms | cut -d' ' -f1 | head -n "$n")
}

@test "--state with --follow is a usage error" {
	run spsc-source -f --state st x.log
	[ "$status" -eq 2 ]
	run spsc-source -f --once x.log
	[ "$status" -eq 2 ]
}
