#!/usr/bin/env bats
# spsc-op --warm: one long-lived child per job slot, atoms delimited by an
# echoed marker line; the man page's examples, restarts and deadlines.
load helpers

# Six atoms of two events, lower case.
six_atoms() {
	printf '%s\n' ab cd ef gh ij kl mn op qr st uv wx | atoms -n 2 "$@"
}

UPPER="AB CD EF GH IJ KL MN OP QR ST UV WX "

# man_example NAME: the text of examples/warm/NAME as spsc-op(1) prints it,
# with the roff escapes the page uses undone.
man_example() {
	sed -n "/^\\.\\\\\" begin $1\$/,/^\\.\\\\\" end\$/p" "$SPSC_SRCDIR/man/spsc-op.1" |
		sed -e '1d' -e '$d' -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\e/\\/g'
}

@test "warm: cat just works, and gives the ids per-atom cat gives" {
	six_atoms > in.atoms
	spsc-op --warm -- cat < in.atoms > warm.atoms
	spsc-op -- cat < in.atoms > cold.atoms
	[ "$(events warm.atoms | tr '\n' ' ')" = "ab cd ef gh ij kl mn op qr st uv wx " ]
	[ "$(headers warm.atoms | field events | tr '\n' ' ')" = "2 2 2 2 2 2 " ]
	diff <(headers warm.atoms | field id) <(headers cold.atoms | field id)
}

@test "warm: the man page prints examples/warm/* exactly" {
	for f in upper.awk upper.sh upper.py; do
		man_example "$f" > "$f.from-man"
		diff "$SPSC_SRCDIR/examples/warm/$f" "$f.from-man"
	done
}

@test "warm: the awk example works" {
	six_atoms > in.atoms
	spsc-op --warm -- awk -f "$SPSC_SRCDIR/examples/warm/upper.awk" < in.atoms > out.atoms
	[ "$(events out.atoms | tr '\n' ' ')" = "$UPPER" ]
	[ "$(headers out.atoms | wc -l)" -eq 6 ]
}

@test "warm: the awk one-liner of the man page works as printed" {
	six_atoms > in.atoms
	line=$(grep -m1 '^spsc\\-op \\-\\-warm \\-\\- awk \\(aq' "$SPSC_SRCDIR/man/spsc-op.1" |
		sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g")
	[[ "$line" == "spsc-op --warm -- awk '"* ]]
	eval "$line" < in.atoms > out.atoms
	[ "$(events out.atoms | tr '\n' ' ')" = "$UPPER" ]
}

@test "warm: the sh example works" {
	six_atoms > in.atoms
	spsc-op --warm -- sh "$SPSC_SRCDIR/examples/warm/upper.sh" < in.atoms > out.atoms
	[ "$(events out.atoms | tr '\n' ' ')" = "$UPPER" ]
	[ "$(headers out.atoms | wc -l)" -eq 6 ]
}

@test "warm: the python3 example works, on any bytes" {
	six_atoms > in.atoms
	spsc-op --warm -- python3 "$SPSC_SRCDIR/examples/warm/upper.py" < in.atoms > out.atoms
	[ "$(events out.atoms | tr '\n' ' ')" = "$UPPER" ]
	printf 'caf\xe9 \xff\tx\r\n' | atoms > bin.atoms
	spsc-op --warm -- python3 "$SPSC_SRCDIR/examples/warm/upper.py" < bin.atoms | events > got
	[ "$(od -An -tx1 got | tr -d ' \n')" = "434146e920ff09580d0a" ]
}

@test "warm: one child serves every atom of a slot" {
	six_atoms > in.atoms
	spsc-op --warm -- sh -c 'while IFS= read -r l; do [ "$l" = "$SPSC_MARKER" ] && echo "$$" && echo "$l"; done' \
		< in.atoms > out.atoms
	[ "$(events out.atoms | wc -l)" -eq 6 ]
	[ "$(events out.atoms | sort -u | wc -l)" -eq 1 ]
	spsc-op --warm -j 2 -- sh -c 'while IFS= read -r l; do [ "$l" = "$SPSC_MARKER" ] && { sleep 0.05; echo "$$"; echo "$l"; }; done' \
		< in.atoms > two.atoms
	[ "$(events two.atoms | wc -l)" -eq 6 ]
	[ "$(events two.atoms | sort -u | wc -l)" -eq 2 ]
}

@test "warm: SPSC_MARKER is #spsc-end- and 16 hex digits, new for every run" {
	six_atoms > in.atoms
	child='$0 == ENVIRON["SPSC_MARKER"] { print "m=" $0; print; fflush(); next }'
	spsc-op --warm -- awk "$child" < in.atoms | events > run1
	spsc-op --warm -- awk "$child" < in.atoms | events > run2
	[ "$(sort -u run1 | wc -l)" -eq 1 ]
	grep -qx 'm=#spsc-end-[0-9a-f]\{16\}' run1
	! cmp -s run1 run2
}

@test "warm: a child that acts at the marker aggregates per atom" {
	seq 1 10 | atoms -n 4 > in.atoms
	spsc-op --warm -- awk '$0 == ENVIRON["SPSC_MARKER"] { print s; print; fflush(); s = 0; next } { s += $1 }' \
		< in.atoms > out.atoms
	[ "$(events out.atoms | tr '\n' ' ')" = "10 26 19 " ]
}

@test "warm: a poison atom kills the child; it is restarted, the poison is dead-lettered" {
	six_atoms > in.atoms
	poison=$(headers in.atoms | sed -n 3p | field id)
	child='$0 == "ij" { exit 5 } $0 == ENVIRON["SPSC_MARKER"] { print; fflush(); next } { print toupper($0) }'
	rc=0
	spsc-op --warm --dlq ./dead2.atoms -- awk "$child" < in.atoms > out.atoms 2> err || rc=$?
	[ "$rc" -eq 3 ]
	[ "$(events out.atoms | tr '\n' ' ')" = "AB CD EF GH MN OP QR ST UV WX " ]
	[ "$(headers dead2.atoms | field id)" = "$poison" ]
	[ "$(headers dead2.atoms | field fail)" = "exit:5" ]
	[ "$(headers dead2.atoms | field attempt)" = "3" ]
	[ "$(events dead2.atoms | tr '\n' ' ')" = "ij kl " ]
	[ "$(grep -c "$poison: attempt" err)" -eq 2 ]
	# Only the atom at fault was charged an attempt.
	[ "$(grep -c "attempt [0-9] of" err)" -eq 2 ]
}

@test "warm: a hung atom times out, the child is replaced, the rest flow on" {
	six_atoms > in.atoms
	start=$(date +%s%N)
	child='$0 == "ij" { system("sleep 30") } $0 == ENVIRON["SPSC_MARKER"] { print; fflush(); next } { print toupper($0) }'
	run spsc-op --warm -t 300ms --grace 200ms -r 2 --dlq ./dead.atoms -- awk "$child" < in.atoms
	took=$((($(date +%s%N) - start) / 1000000))
	[ "$status" -eq 3 ]
	[ "$(headers dead.atoms | field fail)" = "timeout:0" ]
	[ "$(headers dead.atoms | field attempt)" = "2" ]
	[ "$(events dead.atoms | tr '\n' ' ')" = "ij kl " ]
	[ "$took" -lt 5000 ]
}

# A child that answers only every Nth atom: it needs N atoms in its pipe.
answers_every() {
	printf '{ buf = buf $0 "\\n" } $0 == ENVIRON["SPSC_MARKER"] && ++n %% %d == 0 { printf "%%s", buf; fflush(); buf = "" }' "$1"
}

@test "warm: small atoms go to the child many at a time" {
	printf '%s\n' a b c d e f g h | atoms -n 1 > in.atoms
	spsc-op --warm -t 5s -- awk "$(answers_every 4)" < in.atoms > out.atoms
	[ "$(events out.atoms | tr '\n' ' ')" = "a b c d e f g h " ]
	[ "$(headers out.atoms | wc -l)" -eq 8 ]
}

@test "warm: atoms of more than 1 MiB in all go to the child two at a time" {
	seq -f '%099g' 1 21000 | atoms -n 7000 > in.atoms
	run spsc-op --warm -t 300ms --grace 100ms -r 1 --dlq ./dead.atoms \
		-- awk "$(answers_every 3)" < in.atoms
	[ "$status" -eq 3 ]
	[ "$(headers dead.atoms | field fail | sort -u)" = "timeout:0" ]
	[ "$(headers dead.atoms | wc -l)" -eq 3 ]
}

@test "warm: a child that exits before the marker breaks the protocol" {
	six_atoms > in.atoms
	run spsc-op --warm -r 2 --dlq ./dead.atoms -- head -n 1 < in.atoms
	[ "$status" -eq 3 ]
	[[ "$output" == *"warm child exited (status 0) before echoing the end marker"* ]]
	[ "$(headers dead.atoms | wc -l)" -eq 6 ]
	[ "$(headers dead.atoms | field fail | sort -u)" = "protocol:0" ]
	[ "$(headers dead.atoms | field attempt | sort -u)" = "2" ]
}

@test "warm: a child that never exits at the end is stopped after the grace period" {
	six_atoms > in.atoms
	start=$(date +%s%N)
	run spsc-op --warm --grace 200ms -o ./out.atoms -- sh -c "trap '' TERM; cat; exec sleep 30" < in.atoms
	took=$((($(date +%s%N) - start) / 1000000))
	[ "$status" -eq 0 ]
	[ "$(events out.atoms | wc -l)" -eq 12 ]
	[ "$took" -lt 5000 ]
}

@test "warm: stderr lines name the atom the child is working on" {
	six_atoms > in.atoms
	third=$(headers in.atoms | sed -n 3p | field id)
	# The child pauses first, so that its answer to the atom before has
	# surely been read: that is what lets spsc-op tell the atoms apart.
	spsc-op --warm -- awk '$0 == "ij" { system("sleep 0.2"); print "saw ij" > "/dev/stderr"; fflush("/dev/stderr") } { print; fflush() }' \
		< in.atoms > /dev/null 2> err
	grep -qx "spsc-op\[[0-9]*\]: $third: saw ij" err
}

@test "warm: big atoms, a small --spill: markers are found across spills" {
	awk 'BEGIN { for (i = 0; i < 60000; i++) printf "%099d\n", i }' > big.txt
	atoms -n 20000 < big.txt > big.atoms
	spsc-op --warm --spill 64k -- cat < big.atoms > out.atoms
	[ "$(headers out.atoms | field events | tr '\n' ' ')" = "20000 20000 20000 " ]
	events out.atoms | cmp - big.txt
}

@test "warm: lines like the marker, or holding it, are output, not an end" {
	printf '%s\n' '#' '#spsc-end-' '##spsc-end-0123456789abcdef' \
		'#spsc-end-0123456789abcdef' 'x#spsc-end-0123456789abcdef' \
		'#spsc-end-0123456789abcdefx' '##' > in.txt
	atoms -n 3 < in.txt > in.atoms
	spsc-op --warm -- cat < in.atoms > out.atoms
	[ "$(headers out.atoms | field events | tr '\n' ' ')" = "3 3 1 " ]
	events out.atoms | cmp - in.txt
}

@test "warm: -j 2 --ordered over many atoms keeps every event, in order" {
	seq 1 20000 > in.txt
	atoms -n 500 < in.txt > in.atoms
	spsc-op --warm -j 2 --ordered -- cat < in.atoms | events > out.txt
	cmp in.txt out.txt
}
