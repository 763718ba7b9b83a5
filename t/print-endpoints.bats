#!/usr/bin/env bats
# --print-endpoints: every stage program checks its options as for a run,
# then prints the endpoints it would open, one "ROLE<TAB>SPEC[<TAB>PRODUCER]"
# a line, and exits 0 without opening or creating anything.
load helpers

T=$'\t'
HEX='[0-9a-f]{16}'

# stdout_of PROG ARGS...: runs it with its stderr in $TMP/err, so that
# `run stdout_of ...` sees the standard output alone.
stdout_of() {
	"$@" 2>"$TMP/err"
}

# producer LINE: the third field of an out line.
producer() {
	printf '%s\n' "$1" | cut -f 3
}

@test "print-endpoints: spsc-op, a queue input: in, out with its producer, the queue's dlq" {
	run stdout_of spsc-op --print-endpoints -i raw -o words -- cat
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "in${T}raw" ]
	[[ "${lines[1]}" =~ ^out${T}words${T}${HEX}$ ]]
	[ "${lines[2]}" = "dlq${T}raw.dlq" ]
	[ ! -s "$TMP/err" ]
	# --dlq is not used with a queue input: the coordinator's NAME.dlq,
	# on the same coordinator
	run stdout_of spsc-op --print-endpoints -i raw@tcp://127.0.0.1:1 -o words --dlq ./dead.atoms -- cat
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "in${T}raw@tcp://127.0.0.1:1" ]
	[ "${lines[2]}" = "dlq${T}raw.dlq@tcp://127.0.0.1:1" ]
}

@test "print-endpoints: spsc-op, pipes and files: --dlq or its default" {
	run stdout_of spsc-op --print-endpoints -- cat
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "in${T}-" ]
	[[ "${lines[1]}" =~ ^out${T}-${T}${HEX}$ ]]
	[ "${lines[2]}" = "dlq${T}./spsc-op.dlq" ]
	run stdout_of spsc-op --print-endpoints -i ./in.atoms -o ./out.atoms --dlq ./dead.atoms -- cat
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "in${T}./in.atoms" ]
	[[ "${lines[1]}" =~ ^out${T}./out.atoms${T}${HEX}$ ]]
	[ "${lines[2]}" = "dlq${T}./dead.atoms" ]
}

@test "print-endpoints: producers: one per stage and input, the same across runs" {
	run stdout_of spsc-op --print-endpoints -i raw.0 -o words -- cat
	a=$(producer "${lines[1]}")
	run stdout_of spsc-op --print-endpoints -i raw.1 -o words -- cat
	b=$(producer "${lines[1]}")
	run stdout_of spsc-op --print-endpoints -j 4 -i raw.0 -o words -- cat
	c=$(producer "${lines[1]}")
	run stdout_of spsc-op --print-endpoints --name tok -i raw.0 -o words -- cat
	d=$(producer "${lines[1]}")
	run stdout_of spsc-op --print-endpoints --name tok -i raw.0 -o words -- cat
	e=$(producer "${lines[1]}")
	[[ $a =~ ^$HEX$ && $b =~ ^$HEX$ && $d =~ ^$HEX$ ]]
	[ "$a" != "$b" ]	# replicas with different inputs
	[ "$a" = "$c" ]		# same input, same command
	[ "$a" != "$d" ]	# --name is the salt
	[ "$d" = "$e" ]
}

@test "print-endpoints: spsc-shuffle, one out per partition, one producer" {
	run stdout_of spsc-shuffle --print-endpoints -i words -o bykey -p 4 -k 1
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 6 ]
	[ "${lines[0]}" = "in${T}words" ]
	p=$(producer "${lines[1]}")
	[[ $p =~ ^$HEX$ ]]
	for i in 0 1 2 3; do
		[ "${lines[i + 1]}" = "out${T}bykey.$i${T}$p" ]
	done
	[ "${lines[5]}" = "dlq${T}bykey.dlq" ]
	# a path template, the same producer for the same options and input
	run stdout_of spsc-shuffle --print-endpoints -i words -o './parts/%d.atoms' -p 2 -k 1
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[1]}" =~ ^out${T}./parts/0.atoms${T}${HEX}$ ]]
	[[ "${lines[2]}" =~ ^out${T}./parts/1.atoms${T}${HEX}$ ]]
	[ "${lines[3]}" = "dlq${T}./parts/dlq.atoms" ]
	# a queue with its URL; --dlq; no dead letters with --on-error skip
	run stdout_of spsc-shuffle --print-endpoints -o bykey@tcp://127.0.0.1:1 -p 2 --round-robin --dlq bad
	[ "${lines[0]}" = "in${T}-" ]
	[[ "${lines[2]}" =~ ^out${T}bykey.1@tcp://127.0.0.1:1${T}${HEX}$ ]]
	[ "${lines[3]}" = "dlq${T}bad" ]
	run stdout_of spsc-shuffle --print-endpoints -i words -o bykey -p 2 -k 1 --on-error skip
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[2]}" =~ ^out${T}bykey.1${T} ]]
}

@test "print-endpoints: spsc-reduce, with --late and without" {
	run stdout_of spsc-reduce --print-endpoints -i bykey.0 -o counts -k 1 --time 2 --tumbling 10s --late ./late.atoms count
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[0]}" = "in${T}bykey.0" ]
	[[ "${lines[1]}" =~ ^out${T}counts${T}${HEX}$ ]]
	[ "${lines[2]}" = "dlq${T}bykey.0.dlq" ]
	[ "${lines[3]}" = "late${T}./late.atoms" ]
	a=$(producer "${lines[1]}")
	# the partitions' reducers differ by their input
	run stdout_of spsc-reduce --print-endpoints -i bykey.1 -o counts -k 1 --time 2 --tumbling 10s --late ./late.atoms count
	[ "$(producer "${lines[1]}")" != "$a" ]
	# pipes: the default dead letters, late events among them
	run stdout_of spsc-reduce --print-endpoints -k 1 count
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[0]}" = "in${T}-" ]
	[[ "${lines[1]}" =~ ^out${T}-${T}${HEX}$ ]]
	[ "${lines[2]}" = "dlq${T}./spsc-reduce.dlq" ]
	# nothing can be dead-lettered: no dlq line
	run stdout_of spsc-reduce --print-endpoints -i q@tcp://127.0.0.1:1 -k 1 --on-error fail --late late count
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[2]}" = "late${T}late" ]
	run stdout_of spsc-reduce --print-endpoints -i q@tcp://127.0.0.1:1 -k 1 count
	[ "${lines[2]}" = "dlq${T}q.dlq@tcp://127.0.0.1:1" ]
}

@test "print-endpoints: spsc-sink, the destination as given" {
	run stdout_of spsc-sink --print-endpoints -i counts results/
	[ "$status" -eq 0 ]
	[ "$output" = "in${T}counts"$'\n'"file${T}results/"$'\n'"dlq${T}counts.dlq" ]
	run stdout_of spsc-sink --print-endpoints
	[ "$status" -eq 0 ]
	[ "$output" = "in${T}-"$'\n'"file${T}-" ]
	run stdout_of spsc-sink --print-endpoints -i ./in.atoms ./out.txt
	[ "$output" = "in${T}./in.atoms"$'\n'"file${T}./out.txt" ]
}

@test "print-endpoints: spsc-source, one file line per input" {
	run stdout_of spsc-source --print-endpoints -o raw a.log 'logs/*.gz' -
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[0]}" = "file${T}a.log" ]
	[ "${lines[1]}" = "file${T}logs/*.gz" ]
	[ "${lines[2]}" = "file${T}-" ]
	[[ "${lines[3]}" =~ ^out${T}raw${T}${HEX}$ ]]
	a=$(producer "${lines[3]}")
	run stdout_of spsc-source --print-endpoints -o raw a.log
	[ "$(producer "${lines[1]}")" != "$a" ]
	run stdout_of spsc-source --print-endpoints
	[ "${lines[0]}" = "file${T}-" ]
	[[ "${lines[1]}" =~ ^out${T}-${T}${HEX}$ ]]
	run stdout_of spsc-source --print-endpoints --watch ./incoming --state ./state -o raw
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "file${T}./incoming" ]
	[[ "${lines[1]}" =~ ^out${T}raw${T}${HEX}$ ]]
}

@test "print-endpoints: usage errors exit 2 as for a run, with nothing on stdout" {
	for p in spsc-source spsc-op spsc-shuffle spsc-reduce spsc-sink; do
		run stdout_of "$p" --print-endpoints --no-such-option
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		grep -q "Try '$p --help'" "$TMP/err"
	done
	run stdout_of spsc-op --print-endpoints -i raw -- no-such-command-spsc
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	grep -q 'no-such-command-spsc' "$TMP/err"
	run stdout_of spsc-op --print-endpoints -i raw
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	# checks made after the options are read, too
	run stdout_of spsc-shuffle --print-endpoints -o ./parts/%s -p 2 -k 1
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	run stdout_of spsc-reduce --print-endpoints -k 1 nosuchagg:1
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	run stdout_of spsc-source --print-endpoints --follow
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	run stdout_of spsc-sink --print-endpoints --journal j out/
	[ "$status" -eq 2 ]
	[ -z "$output" ]
}

@test "print-endpoints: nothing is opened or created, and it returns at once" {
	mkdir work home
	cd work
	export SPSC_HOME="$TMP/home" SPSC_COORD="ipc://$TMP/no-such.sock"
	export SPSC_CONNECT_TIMEOUT=10s
	run timeout 5 spsc-source --print-endpoints --watch ./incoming --state ./state -o raw
	[ "$status" -eq 0 ]
	run timeout 5 spsc-source --print-endpoints -o ./out.atoms ./missing.log
	[ "$status" -eq 0 ]
	run timeout 5 spsc-op --print-endpoints -i raw -o ./out.atoms --dlq ./dead.atoms -- cat
	[ "$status" -eq 0 ]
	run timeout 5 spsc-op --print-endpoints -i ./in.atoms -o words --dlq ./dead.atoms -- cat
	[ "$status" -eq 0 ]
	run timeout 5 spsc-shuffle --print-endpoints -i words -o ./parts/%d.atoms -p 2 -k 1
	[ "$status" -eq 0 ]
	run timeout 5 spsc-shuffle --print-endpoints -i ./in.atoms -o bykey -p 2 -k 1
	[ "$status" -eq 0 ]
	run timeout 5 spsc-reduce --print-endpoints -i bykey.0 -o counts -k 1 count
	[ "$status" -eq 0 ]
	run timeout 5 spsc-reduce --print-endpoints -i bykey.0 -o ./counts.atoms --state ./state --late ./late.atoms -k 1 count
	[ "$status" -eq 0 ]
	run timeout 5 spsc-sink --print-endpoints -i counts ./results/
	[ "$status" -eq 0 ]
	run timeout 5 spsc-sink --print-endpoints -i counts ./out.txt
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$TMP/work")" ]
	[ -z "$(ls -A "$TMP/home")" ]
	[ ! -e "$TMP/no-such.sock" ]
}
