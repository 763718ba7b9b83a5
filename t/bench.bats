#!/usr/bin/env bats
# bench/pipe is a benchmark, not a test; this only checks that it still
# runs end to end on a tiny input and reports what it should.

load helpers

@test "bench/pipe: a tiny run verifies its outputs and prints the table" {
	run env SPSC_BIN="$SPSC_BUILDDIR" TMPDIR="$TMP" "$SPSC_SRCDIR/bench/pipe" -r 1 256k
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"verify:   case 2: 2621 lines, 262100 bytes out, as in: ok"* ]]
	[[ $output == *"verify:   case 3: 2621 lines, 262100 bytes out, as in: ok"* ]]
	for n in 1 2 3; do
		echo "$output" | grep -Eq "^$n +[a-zA-Z].* [0-9]+\.[0-9]{3} +[0-9]+ +[0-9.]+$"
	done
	[[ $output == *"ratio 2/1 = "* ]]
	if command -v parallel >/dev/null && parallel --version | grep -q '^GNU parallel'; then
		[[ $output == *"ratio 3/4 = "* ]]
	fi
	[[ $output == *"  2  spsc-source -n 1000 "*" | spsc-op --warm -- cat | spsc-sink >/dev/null"* ]]
	# The data and logs are gone.
	[ -z "$(ls -A "$TMP")" ]
}

@test "bench/pipe: bad arguments are usage errors" {
	run "$SPSC_SRCDIR/bench/pipe" -r 0
	[ "$status" -eq 2 ]
	[[ $output == *"bad run count: 0"* ]]
	run "$SPSC_SRCDIR/bench/pipe" 12Q
	[ "$status" -eq 2 ]
	[[ $output == *"bad size: 12Q"* ]]
	run "$SPSC_SRCDIR/bench/pipe" --help
	[ "$status" -eq 0 ]
	[[ $output == Usage:* ]]
}
