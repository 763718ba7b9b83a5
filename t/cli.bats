#!/usr/bin/env bats
# What every program promises on its command line: --help, --version,
# usage errors with exit 2, and a man page in step with --help.
load helpers

PROGRAMS="spsc-source spsc-op spsc-sink"

@test "--help prints usage on stdout and exits 0" {
	for p in $PROGRAMS; do
		run "$p" --help
		[ "$status" -eq 0 ]
		[[ "${lines[0]}" == *"Usage: $p"* ]]
	done
}

@test "--version names the program and the package version" {
	for p in $PROGRAMS; do
		run "$p" --version
		[ "$status" -eq 0 ]
		[[ "$output" == "$p (spsc) "[0-9]* ]]
	done
}

@test "an unknown option is a usage error: exit 2 and a pointer to --help" {
	for p in $PROGRAMS; do
		run "$p" --no-such-option
		[ "$status" -eq 2 ]
		[[ "$output" == *"Try '$p --help'"* ]]
	done
}

@test "every long option in --help is documented in the man page" {
	for p in $PROGRAMS; do
		page="$SPSC_SRCDIR/man/$p.1"
		[ -f "$page" ]
		for opt in $("$p" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
			# roff escapes the dashes: \-\-name
			esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
			if ! grep -q -- "$esc" "$page"; then
				echo "$p: $opt is missing from man/$p.1"
				return 1
			fi
		done
	done
}

@test "every man page has EXAMPLES and EXIT STATUS sections" {
	for page in "$SPSC_SRCDIR"/man/*.[157]; do
		case $page in *.5) continue ;; esac
		grep -q '^\.SH EXAMPLES' "$page" || { echo "$page: no EXAMPLES"; return 1; }
		grep -q '^\.SH "\?EXIT STATUS' "$page" || { echo "$page: no EXIT STATUS"; return 1; }
	done
}

@test "a bad duration or size is a usage error that names the option" {
	run spsc-op -t 5parsecs -- cat
	[ "$status" -eq 2 ]
	[[ "$output" == *"5parsecs"*"not a duration"* ]]
	run spsc-sink --max-atom lots
	[ "$status" -eq 2 ]
	[[ "$output" == *"lots"*"not a size"* ]]
}

@test "a queue endpoint with no coordinator gives a clear error, not a hang" {
	export SPSC_HOME="$TMP/home" SPSC_CONNECT_TIMEOUT=1s
	run spsc-op -i raw -- cat
	[ "$status" -eq 1 ]
	[[ "$output" == *"raw: coordinator at unix://$TMP/home/coord.unix did not answer"* ]]
	run spsc-op -i 'bad name!' -- cat
	[ "$status" -ne 0 ]
	[[ "$output" == *"not a valid endpoint"* ]]
	run spsc-op -i .. -- cat
	[ "$status" -ne 0 ]
	[[ "$output" == *"not a valid endpoint"* ]]
}
