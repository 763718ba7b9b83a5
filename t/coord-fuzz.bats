#!/usr/bin/env bats
# spsc-coord against a hostile client: t/coord-fuzz.py sends random parts,
# broken headers, forged and stale receipts, absurd counts and waits and
# bad queue names, from a fixed seed so that a failure repeats exactly.
# The coordinator must answer every message, keep its memory flat, write
# nothing outside $SPSC_HOME, and still serve a plain PUT, GET and ACK.
#
#   COORD_FUZZ_MESSAGES  messages to send (default 100000, a few seconds)
#   COORD_FUZZ_SEED      the generator's seed (default 1)
#
# `make fuzz-proto` runs this file with a million messages.
load coord_helpers

setup() {
	coord_test_setup
	# The working directory is an empty one of its own: anything written
	# relative to it would show.
	mkdir "$TMP/cwd"
	cd "$TMP/cwd" || return 1
}

@test "coord-fuzz: every hostile message is answered, memory stays flat, nothing is written outside SPSC_HOME" {
	local n=${COORD_FUZZ_MESSAGES:-100000} seed=${COORD_FUZZ_SEED:-1}
	local rss=(--pid 0) rc=0
	start_coord
	# Under AddressSanitizer the resident set says little (quarantine,
	# shadow memory); LeakSanitizer checks the exit instead.  The symbol
	# is there whether the runtime is linked statically (clang) or not.
	if grep -qa __asan_init "$(command -v spsc-coord)"; then
		echo "# sanitizer build: RSS not compared, LeakSanitizer checks the exit" >&3
	else
		rss=(--pid "$COORD_PID")
	fi
	before=$(ls -A "$TMP")

	run "$QTOOL" "$SPSC_SRCDIR/t/coord-fuzz.py" -n "$n" --seed "$seed" \
		--probe "$TMP" "${rss[@]}"
	echo "$output"
	echo "$output" | sed 's/^/# /' >&3
	[ "$status" -eq 0 ]

	# Alive until told to stop, then a clean exit.
	kill -0 "$COORD_PID"
	kill -TERM "$COORD_PID"
	wait "$COORD_PID" || rc=$?
	BG_PIDS=
	[ "$rc" -eq 0 ] || { echo "spsc-coord exited $rc"; tail -n 30 "$TMP/coord.log"; return 1; }
	if grep -E 'Sanitizer|runtime error' "$TMP/coord.log"; then return 1; fi

	# Nothing outside SPSC_HOME: the working directory is still empty, the
	# test's directory holds what it held, and no bad queue name (../x,
	# a/b, absolute paths under $TMP) became a file anywhere in it.
	[ -z "$(ls -A "$TMP/cwd")" ]
	[ "$(ls -A "$TMP")" = "$before" ]
	run find "$TMP" \( -name x -o -name b -o -name 'escape*' -o -name sub \) -print
	[ -z "$output" ]
}
