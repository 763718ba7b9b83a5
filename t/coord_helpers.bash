# Starting and stopping a private coordinator for a test: its own
# SPSC_HOME under the test's temp dir, so tests never share state and the
# ipc socket path stays short.

load helpers

QTOOL=/usr/bin/python3
QT() { "$QTOOL" "$SPSC_SRCDIR/t/qtool.py" "$@"; }

coord_setup() {
	export SPSC_HOME="$TMP/h"
	export SPSC_CONNECT_TIMEOUT=20s
	unset SPSC_COORD
	# 0700 as spsc makes it: serve refuses a state directory open to
	# group or others.
	mkdir -p -m 700 "$SPSC_HOME"
	BG_PIDS=""
}

# The setup of a coordinator test: a temp dir of its own as the working
# directory, and a coordinator home in it.  It is every file's setup()
# unless the file defines one, which may call coord_test_setup first.
coord_test_setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/spsc-test.XXXXXX")
	cd "$TMP" || return 1
	coord_setup
}

setup() {
	coord_test_setup
}

mk() { python3 "$SPSC_SRCDIR/t/mkatoms.py" "$@"; }

# dead_letter_raw: one atom of 10 events into queue raw (max-receives 1,
# 100ms leases), received once and let go, so that the next GET moves it
# to raw.dlq and answers with nothing.
dead_letter_raw() {
	spsc-coord create raw --max-receives 1 --visibility 100ms
	mk -n 1 -e 10 | spsc-coord put raw
	QT get raw 1 >/dev/null
	wait_for '[ "$(qstat raw ready)" -eq 1 ]'
	run QT get raw 1
	[ "${lines[0]}" = "# SPSC/1 OK 1 n=0 vis=100 ready=0 inflight=0 delayed=0" ]
}

# start_coord [serve options]: starts the coordinator and waits, boundedly,
# until it answers.
start_coord() {
	spsc-coord serve "$@" 2>>"$TMP/coord.log" &
	COORD_PID=$!
	BG_PIDS="$BG_PIDS $COORD_PID"
	for _ in $(seq 1 100); do
		[ -S "$SPSC_HOME/coord.unix" ] && spsc-coord status >/dev/null 2>&1 && return 0
		kill -0 "$COORD_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "coordinator did not start:"; cat "$TMP/coord.log"
	return 1
}

crash_coord() {
	kill -9 "$COORD_PID" 2>/dev/null
	wait "$COORD_PID" 2>/dev/null || true
}

stop_coord() {
	kill -TERM "$COORD_PID"
	wait "$COORD_PID"
}

# background CMD...: runs a command in the background, remembered for
# teardown.
background() {
	"$@" &
	BG_PIDS="$BG_PIDS $!"
	LAST_PID=$!
}

# wait_for 'shell condition' [tries]: polls a condition every 50ms.
wait_for() {
	for _ in $(seq 1 "${2:-200}"); do
		eval "$1" && return 0
		sleep 0.05
	done
	echo "timed out waiting for: $1"
	return 1
}

# run_bounded SECONDS CMD...: a stage that must end by itself; a hang
# fails the test instead of blocking it.
run_bounded() {
	local secs=$1
	shift
	timeout -s KILL "$secs" "$@"
}

# qwm QUEUE: its watermark as status --json shows it ("None": unknown).
qwm() {
	spsc-coord status --json "$1" | /usr/bin/python3 -c \
		'import json,sys; print(json.load(sys.stdin)["queues"][0]["watermark"])'
}

# qstat QUEUE KEY: one number from status --json.
qstat() {
	spsc-coord status --json "$1" | /usr/bin/python3 -c \
		'import json,sys; q=json.load(sys.stdin)["queues"]; print(int(q[0][sys.argv[1]]) if q else 0)' "$2"
}

teardown() {
	for p in $BG_PIDS; do kill -9 "$p" 2>/dev/null || true; done
	for p in $BG_PIDS; do wait "$p" 2>/dev/null || true; done
	cd / && rm -rf "$TMP"
}
