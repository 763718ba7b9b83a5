#!/usr/bin/env bats
# spsc-op, per-atom mode: what goes in and out of the command, output ids,
# failures, retries, dead letters, deadlines and concurrency.
load helpers

# wait_gone PID: the process ends soon (or is at most a zombie waiting for
# init to reap it).
wait_gone() {
	local state
	[ -n "$1" ]
	for i in $(seq 100); do
		state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || echo gone)
		if [ "$state" = gone ] || [ "$state" = Z ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "process $1 still there: $state" >&2
	return 1
}

# Four atoms of two events: a1 a2 / b1 b2 / c1 c2 / d1 d2.
four_atoms() {
	printf '%s\n' a1 a2 b1 b2 c1 c2 d1 d2 | atoms -n 2 --created 1234567 "$@"
}

@test "op: cat passes every event through, one output atom per input atom" {
	four_atoms > in.atoms
	spsc-op -- cat < in.atoms > out.atoms
	[ "$(events out.atoms | tr '\n' ' ')" = "a1 a2 b1 b2 c1 c2 d1 d2 " ]
	[ "$(headers out.atoms | field events | tr '\n' ' ')" = "2 2 2 2 " ]
	[ "$(headers out.atoms | field created_ns | sort -u)" = "1234567" ]
	[ "$(headers out.atoms | field attempt | sort -u)" = "0" ]
	[ "$(headers out.atoms | field fail | sort -u)" = "none:0" ]
}

@test "op: output ids are deterministic, derived from the input id and the command" {
	four_atoms > in.atoms
	spsc-op -- cat < in.atoms | headers | field id > run1
	spsc-op -- cat < in.atoms | headers | field id > run2
	spsc-op -- cat -u < in.atoms | headers | field id > other
	spsc-op --name x -- cat < in.atoms | headers | field id > named1
	spsc-op --name x -- cat -u < in.atoms | headers | field id > named2
	headers in.atoms | field id > inputs
	[ "$(wc -l < run1)" -eq 4 ]
	[ "$(sort -u run1 | wc -l)" -eq 4 ]
	cmp run1 run2
	! cmp -s run1 other
	! cmp -s run1 inputs
	! cmp -s run1 named1
	cmp named1 named2
}

@test "op: --shell runs the words with sh -c" {
	four_atoms > in.atoms
	spsc-op --shell -- 'tr a-d A-D |' sed 's/1/one/' < in.atoms > out.atoms
	[ "$(events out.atoms | tr '\n' ' ')" = "Aone A2 Bone B2 Cone C2 Done D2 " ]
}

@test "op: an invocation with no output emits nothing; a last line gets its newline" {
	four_atoms > in.atoms
	spsc-op --shell -- 'cat >/dev/null' < in.atoms > none.atoms
	[ ! -s none.atoms ]
	spsc-op --shell -- 'read l; printf "%s" "$l"' < in.atoms > out.atoms
	[ "$(events out.atoms | od -An -c | tr -s ' ' | tr -d '\n')" = " a 1 \n b 1 \n c 1 \n d 1 \n" ]
	[ "$(headers out.atoms | field events | tr '\n' ' ')" = "1 1 1 1 " ]
}

@test "op: each invocation sees SPSC_ATOM_ID and SPSC_ATTEMPT" {
	four_atoms > in.atoms
	spsc-op --shell -- 'cat >/dev/null; echo "$SPSC_ATOM_ID $SPSC_ATTEMPT"' < in.atoms | events > seen
	headers in.atoms | field id | sed 's/$/ 1/' > want
	diff want seen
}

@test "op: a command that does not exist: exit 2 before any input is read" {
	four_atoms > in.atoms
	run bash -c '{ spsc-op -- spsc-no-such-command; echo "rc=$?"; cat > rest; } < in.atoms'
	[[ "$output" == *"spsc-op["*"]: error: spsc-no-such-command: command not found"* ]]
	[[ "$output" == *"rc=2"* ]]
	cmp in.atoms rest
	printf 'echo hi\n' > script.sh
	run spsc-op -- ./script.sh < in.atoms
	[ "$status" -eq 2 ]
	[[ "$output" == *"./script.sh: Permission denied"* ]]
}

@test "op: usage errors exit 2; --help exits 0 and lists every option" {
	run spsc-op
	[ "$status" -eq 2 ]
	[[ "$output" == *"no COMMAND given"* ]]
	run spsc-op -j 0 -- cat
	[ "$status" -eq 2 ]
	run spsc-op -r 0 -- cat
	[ "$status" -eq 2 ]
	run spsc-op --dlq - -- cat
	[ "$status" -eq 2 ]
	run spsc-op --help
	[ "$status" -eq 0 ]
	for o in --input --output --jobs --ordered --timeout --grace --retries \
		 --dlq --warm --shell --name --compress --max-atom --spill \
		 --quiet --help --version; do
		[[ "$output" == *"$o"* ]]
	done
}

@test "op: a command that exits without reading its input is judged by its status" {
	# 4 MB atoms: more than a pipe holds, so our writes meet EPIPE.
	awk 'BEGIN { for (i = 0; i < 80000; i++) printf "%049d\n", i }' |
		atoms -n 40000 > big.atoms
	run spsc-op -- true < big.atoms
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	spsc-op -- head -n 1 < big.atoms > out.atoms
	[ "$(events out.atoms | tr '\n' ' ')" = "$(printf '%049d ' 0 40000)" ]
	run spsc-op -r 1 --dlq ./dead.atoms --shell -- 'exit 4' < big.atoms
	[ "$status" -eq 3 ]
	[ "$(headers dead.atoms | field fail | sort -u)" = "exit:4" ]
}

@test "op: a command that closes its stdout early: what it wrote counts" {
	four_atoms > in.atoms
	spsc-op --shell -- 'read l; echo "$l"; exec >&-; cat >/dev/null' < in.atoms > out.atoms
	[ "$(events out.atoms | tr '\n' ' ')" = "a1 b1 c1 d1 " ]
}

@test "op: the command's stderr passes through, each line naming its atom" {
	printf 'x\n' | atoms > in.atoms
	id=$(headers in.atoms | field id)
	spsc-op --shell -- 'cat; echo oops >&2; printf "no newline" >&2' < in.atoms > out.atoms 2> err
	grep -qx "spsc-op\[[0-9]*\]: $id: oops" err
	grep -qx "spsc-op\[[0-9]*\]: $id: no newline" err
	[ "$(events out.atoms)" = "x" ]
}

@test "op: a poison atom among good ones: the good ones come out, the poison is dead-lettered" {
	printf '%s\n' a1 a2 b1 POISON c1 c2 | atoms -n 2 --created 99 > in.atoms
	poison=$(headers in.atoms | sed -n 2p | field id)
	spsc-op --dlq ./dead.atoms -- awk '/POISON/ { exit 7 } { print toupper($0) }' < in.atoms > out.atoms 2> err || rc=$?
	[ "$rc" -eq 3 ]
	[ "$(events out.atoms | tr '\n' ' ')" = "A1 A2 C1 C2 " ]
	[ "$(headers dead.atoms | wc -l)" -eq 1 ]
	[ "$(headers dead.atoms | field id)" = "$poison" ]
	[ "$(headers dead.atoms | field fail)" = "exit:7" ]
	[ "$(headers dead.atoms | field attempt)" = "3" ]
	[ "$(headers dead.atoms | field events)" = "2" ]
	[ "$(headers dead.atoms | field created_ns)" = "99" ]
	[ "$(events dead.atoms | tr '\n' ' ')" = "b1 POISON " ]
	[ "$(grep -c "$poison: attempt [12] of 3 failed: exit status 7; retrying" err)" -eq 2 ]
	grep -q "$poison: dead-lettered to ./dead.atoms after 3 attempts: exit status 7" err
}

@test "op: the default dead-letter file is ./spsc-op.dlq, named in a warning" {
	four_atoms > in.atoms
	run spsc-op -r 1 --shell -- 'grep -q c1 && exit 1; cat' < in.atoms
	[ "$status" -eq 3 ]
	[[ "$output" == *"warning: no --dlq given: dead-lettered atoms go to ./spsc-op.dlq"* ]]
	[ "$(events spsc-op.dlq | tr '\n' ' ')" = "c1 c2 " ]
	[ "$(headers spsc-op.dlq | field attempt)" = "1" ]
}

@test "op: a crash (kill -9) is a failure by signal" {
	four_atoms > in.atoms
	run spsc-op -r 2 --dlq ./dead.atoms --shell -- 'grep -q b1 && kill -9 $$; exit 0' < in.atoms
	[ "$status" -eq 3 ]
	[[ "$output" == *"killed by signal 9 (Killed)"* ]]
	[ "$(headers dead.atoms | field fail)" = "signal:9" ]
	[ "$(headers dead.atoms | field attempt)" = "2" ]
}

@test "op: a hung command times out: TERM, retried, then dead-lettered" {
	four_atoms > in.atoms
	start=$(date +%s%N)
	run spsc-op -t 300ms --grace 300ms -r 2 --dlq ./dead.atoms --shell -- \
		'grep -q c1 && exec sleep 30; echo ok' < in.atoms
	took=$((($(date +%s%N) - start) / 1000000))
	[ "$status" -eq 3 ]
	[[ "$output" == *"timed out after 300ms; retrying"* ]]
	[ "$(headers dead.atoms | field fail)" = "timeout:0" ]
	[ "$(headers dead.atoms | field attempt)" = "2" ]
	[ "$(events dead.atoms | tr '\n' ' ')" = "c1 c2 " ]
	[ "$took" -lt 5000 ]
}

@test "op: a command that ignores SIGTERM is killed after the grace period" {
	printf 'x\n' | atoms > in.atoms
	start=$(date +%s%N)
	run spsc-op -t 200ms --grace 300ms -r 1 --dlq ./dead.atoms --shell -- \
		"trap '' TERM; sleep 30" < in.atoms
	took=$((($(date +%s%N) - start) / 1000000))
	[ "$status" -eq 3 ]
	[ "$(headers dead.atoms | field fail)" = "timeout:0" ]
	[ "$took" -ge 500 ]
	[ "$took" -lt 5000 ]
}

@test "op: the deadline reaches the command's whole process group" {
	printf 'x\n' | atoms > in.atoms
	run spsc-op -t 300ms --grace 200ms -r 1 --dlq ./dead.atoms --shell -- \
		'sleep 30 & echo "bg=$!" >&2; wait' < in.atoms
	[ "$status" -eq 3 ]
	bg=$(echo "$output" | sed -n 's/.*: bg=\([0-9]*\)$/\1/p')
	wait_gone "$bg"
}

@test "op: a background process that keeps stdout open does not hold the atom" {
	printf 'x\n' | atoms > in.atoms
	start=$(date +%s%N)
	run spsc-op -t 10s --grace 300ms --shell -- 'cat; sleep 30 & echo "bg=$!" >&2' < in.atoms
	took=$((($(date +%s%N) - start) / 1000000))
	[ "$status" -eq 0 ]
	[ "$took" -lt 5000 ]
	bg=$(echo "$output" | sed -n 's/.*: bg=\([0-9]*\)$/\1/p')
	wait_gone "$bg"
}

@test "op: a failed attempt's output never leaks downstream" {
	four_atoms > in.atoms
	spsc-op --shell -- 'cat; [ "$SPSC_ATTEMPT" -ge 2 ] || { echo PARTIAL; exit 1; }' \
		< in.atoms > out.atoms 2> err
	[ "$(events out.atoms | tr '\n' ' ')" = "a1 a2 b1 b2 c1 c2 d1 d2 " ]
	[ "$(grep -c 'attempt 1 of 3 failed: exit status 1; retrying' err)" -eq 4 ]
}

@test "op: -j runs invocations concurrently" {
	four_atoms > in.atoms
	# Each invocation waits (boundedly) until all four are running: with
	# fewer than four at once, they would all give up and fail.
	run spsc-op -j 4 -r 1 --dlq ./dead.atoms --shell -- '
		touch "$SPSC_ATOM_ID.run"; i=0
		while [ "$(ls *.run | wc -l)" -lt 4 ] && [ $i -lt 200 ]; do
			sleep 0.02; i=$((i + 1)); done
		[ $i -lt 200 ] && cat' < in.atoms
	[ "$status" -eq 0 ]
	[ ! -s dead.atoms ]
}

@test "op: --ordered emits in input order whatever order invocations finish in" {
	printf '%s\n' 1 2 3 4 5 6 7 8 | atoms -n 1 > in.atoms
	# Later atoms finish first: atom N sleeps (9 - N) / 20 s.
	spsc-op -j 4 --ordered --shell -- 'read n; sleep $(((9 - n) * 5))e-2; echo $n' \
		< in.atoms > ordered.atoms
	[ "$(events ordered.atoms | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 " ]
	spsc-op -j 4 --shell -- 'read n; sleep $(((9 - n) * 5))e-2; echo $n' \
		< in.atoms > any.atoms
	[ "$(events any.atoms | sort -n | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 " ]
	[ "$(events any.atoms | head -1)" != 1 ]
}

@test "op: huge output is held without deadlock and cut into atoms under --max-atom" {
	printf 'x\n' | atoms > in.atoms
	# 2 MB from one atom, cut at 256 KiB, with only 64 KiB held in memory.
	gen='cat >/dev/null; awk "BEGIN { for (i = 0; i < 40000; i++) printf \"%049d\\n\", i }"'
	spsc-op --max-atom 256k --spill 64k --shell -- "$gen" < in.atoms > out.atoms
	headers out.atoms > h
	[ "$(events out.atoms | wc -l)" -eq 40000 ]
	[ "$(events out.atoms | tail -1)" = "$(printf '%049d' 39999)" ]
	[ "$(wc -l < h)" -eq 8 ]
	[ "$(field raw < h | sort -n | tail -1)" -le 262144 ]
	[ "$(field id < h | sort -u | wc -l)" -eq 8 ]
	# Cut at event boundaries only: every atom holds whole 50-byte events.
	[ "$(field raw < h | awk '$1 % 50' | wc -l)" -eq 0 ]
	# The cuts, and so the ids, do not depend on the memory bound.
	spsc-op --max-atom 256k --shell -- "$gen" < in.atoms | headers | field id > ids2
	field id < h | diff - ids2
}

@test "op: a huge atom through cat: both directions at once, no deadlock" {
	# 6 MB each way: several times what the pipes hold.
	awk 'BEGIN { for (i = 0; i < 60000; i++) printf "%099d\n", i }' > big.txt
	atoms -n 60000 < big.txt > big.atoms
	spsc-op --spill 1M -- cat < big.atoms | events > out.txt
	cmp big.txt out.txt
}

@test "op: an output line longer than --max-atom fails the attempt (kind output)" {
	printf 'x\n' | atoms > in.atoms
	run spsc-op --max-atom 4k -r 1 --dlq ./dead.atoms --shell -- \
		'cat >/dev/null; head -c 100000 /dev/zero | tr "\0" a' < in.atoms
	[ "$status" -eq 3 ]
	[[ "$output" == *"does not fit in an atom"* ]]
	[ "$(headers dead.atoms | field fail)" = "output:0" ]
}

@test "op: a corrupt frame: atoms before it are processed, then exit 1 with the reader's message" {
	four_atoms > in.atoms
	printf 'XXXXjunkjunkjunk' >> in.atoms
	run spsc-op -o ./out.atoms -- cat < in.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin: byte 280: not an atom frame (bad magic 58 58 58 58)"* ]]
	[ "$(events out.atoms | tr '\n' ' ')" = "a1 a2 b1 b2 c1 c2 d1 d2 " ]
}

@test "op: a closed output pipe is an error (exit 1), never a signal" {
	awk 'BEGIN { for (i = 0; i < 100000; i++) print i }' | atoms -n 1000 > in.atoms
	run bash -c 'spsc-op -- cat < in.atoms | head -c 1 >/dev/null; echo "rc=${PIPESTATUS[0]}"'
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *"stdout: write error: Broken pipe"* ]]
}

@test "op: -z compresses output payloads; -o and -i take files" {
	awk 'BEGIN { for (i = 0; i < 1000; i++) print "the same words again" }' |
		atoms -n 500 > in.atoms
	spsc-op -z -i ./in.atoms -o ./out.atoms -- cat
	[ "$(headers out.atoms | sed 's/.*codec=\([a-z]*\).*/\1/' | sort -u)" = zstd ]
	[ "$(events out.atoms | wc -l)" -eq 1000 ]
}

@test "op: the command gets only stdin, stdout and stderr" {
	printf 'x\n' | atoms > in.atoms
	exec 7> leaked
	spsc-op -- ls /proc/self/fd < in.atoms > out.atoms
	exec 7>&-
	[ "$(events out.atoms | tr '\n' ' ')" = "0 1 2 3 " ]
}

@test "op: SIGTERM finishes the atoms already read and exits 0" {
	mkfifo feed
	four_atoms > in.atoms
	# The writer keeps the fifo open: the input never ends by itself.
	( cat in.atoms; exec sleep 30 ) > feed 3>&- &
	writer=$!
	spsc-op -- cat < feed > out.atoms 2> err 3>&- &
	op=$!
	for i in $(seq 200); do
		[ "$(events out.atoms 2>/dev/null | wc -l)" -eq 8 ] && break
		sleep 0.02
	done
	kill -TERM $op
	rc=0
	wait $op || rc=$?
	kill $writer 2>/dev/null || true
	wait $writer 2>/dev/null || true
	[ "$rc" -eq 0 ]
	[ "$(events out.atoms | wc -l)" -eq 8 ]
}

@test "op: a second SIGINT stops at once: the command's group is killed, op dies of the signal" {
	mkfifo feed
	four_atoms > in.atoms
	( cat in.atoms; exec sleep 30 ) > feed 3>&- &
	writer=$!
	spsc-op -t 60s --shell -- 'echo $$ > child.pid; exec sleep 30' < feed > out.atoms 2> err 3>&- &
	op=$!
	for i in $(seq 200); do [ -s child.pid ] && break; sleep 0.02; done
	[ -s child.pid ]
	kill -INT $op
	# The first one drains: op waits for its command.
	for i in $(seq 200); do grep -q 'finishing the atoms in hand' err && break; sleep 0.02; done
	kill -0 $op
	kill -INT $op
	rc=0
	wait $op || rc=$?
	kill $writer 2>/dev/null || true
	wait $writer 2>/dev/null || true
	[ "$rc" -eq 130 ]
	grep -q 'Interrupt: stopping' err
	wait_gone "$(cat child.pid)"
}

# children PID: the pids whose parent is PID, from /proc (the command name
# in /proc/PID/stat may hold spaces: the fields count from its last ')',
# state then parent pid).
children() {
	local f line fields
	for f in /proc/[0-9]*/stat; do
		read -r line < "$f" 2>/dev/null || continue
		read -r -a fields <<< "${line##*) }"
		if [ "${fields[1]}" = "$1" ]; then
			f=${f#/proc/}
			echo "${f%/stat}"
		fi
	done
	return 0
}

@test "op: kill -9 of spsc-op kills the commands it was running" {
	four_atoms > in.atoms
	spsc-op -j 2 -- sleep 1000.123 < in.atoms > /dev/null 2> err 3>&- &
	op=$!
	kids=""
	for i in $(seq 100); do
		kids=$(children $op)
		[ "$(echo $kids | wc -w)" -eq 2 ] && break
		sleep 0.05
	done
	for k in $kids; do
		[ "$(tr '\0' ' ' < "/proc/$k/cmdline")" = "sleep 1000.123 " ] || kids=""
	done
	kill -9 $op
	wait $op || true
	echo "spsc-op $op ran: $kids"
	[ "$(echo $kids | wc -w)" -eq 2 ]
	left=""
	for k in $kids; do
		wait_gone "$k" || left="$left $k"
	done
	# What outlived it would sleep for 1000 s: end it here, by pid.
	for k in $left; do
		[ "$(tr '\0' ' ' < "/proc/$k/cmdline")" = "sleep 1000.123 " ] && kill -9 "$k"
	done
	[ -z "$left" ]
}
