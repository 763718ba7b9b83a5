# Helpers for the spsc-source tests: decode frames with an independent
# reader, wait for a condition without sleeping blindly, and never leave a
# background source running.

# source-frames.py events|atoms < FRAMES (see the script)
frames() {
	python3 "$SPSC_SRCDIR/t/source-frames.py" "$@"
}

# Number of atoms in a file of frames.
count_atoms() {
	frames atoms < "$1" | wc -l
}

# wait_until 'shell condition' [seconds]: polls every 50 ms, at most
# seconds (default 5); fails if the condition never held.
wait_until() {
	local tries=$(( ${2:-5} * 20 ))
	while [ "$tries" -gt 0 ]; do
		eval "$1" && return 0
		sleep 0.05
		tries=$((tries - 1))
	done
	echo "timed out waiting for: $1" >&2
	return 1
}

# Size of a file, 0 if it does not exist yet.
size_of() {
	stat -c %s "$1" 2>/dev/null || echo 0
}

# track PID: teardown kills it if it is still alive.  Start background
# programs as "prog ... < fifo & track $!": the redirection must belong to
# the background job, or the test itself would block opening the FIFO.
BG_PIDS=
track() {
	BG_PIDS="$BG_PIDS $1"
}

# stop PID: SIGTERM, then its exit status in $stopped_status.
stop() {
	kill -TERM "$1"
	stopped_status=0
	wait "$1" || stopped_status=$?
}

eval "base_teardown() $(declare -f teardown | tail -n +2)"
teardown() {
	local p
	for p in $BG_PIDS; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	base_teardown
}
