# A private NATS JetStream server for a test: its own port on 127.0.0.1
# and its own store directory under the test's temp dir, so that no two
# tests share a stream.  Tests that need it skip, saying why, when
# nats-server is not installed.

load coord_helpers

# nats_setup: skips the test without nats-server; else starts one, and
# points every program at it (SPSC_COORD), as a user would.
nats_setup() {
	command -v nats-server >/dev/null ||
		skip "nats-server is not installed (apt-get install nats-server)"
	NATS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	NATS_URL=nats://127.0.0.1:$NATS_PORT
	export SPSC_COORD=$NATS_URL
	start_nats
}

# start_nats: (re)starts the server on NATS_PORT with the same store, and
# waits, boundedly, until it accepts connections.
start_nats() {
	nats-server -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$TMP/nats-store" \
		>>"$TMP/nats.log" 2>&1 &
	NATS_PID=$!
	BG_PIDS="$BG_PIDS $NATS_PID"
	for _ in $(seq 1 100); do
		grep -q "Server is ready" "$TMP/nats.log" 2>/dev/null &&
			(exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null && return 0
		kill -0 "$NATS_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "nats-server did not start:"; cat "$TMP/nats.log"
	return 1
}

crash_nats() {
	kill -9 "$NATS_PID" 2>/dev/null
	wait "$NATS_PID" 2>/dev/null || true
	: >"$TMP/nats.log"
}

# The queue conformance files (t/op-queue.bats, t/batch.bats, ...) run
# twice: on spsc-coord, and with SPSC_TEST_BACKEND=nats (their .natsbats
# twins, t/local.mk) on a nats-server: one suite, two backends.

# start_backend [serve options]: the backend of this run.
start_backend() {
	if [ "${SPSC_TEST_BACKEND:-coord}" = nats ]; then
		nats_setup
	else
		start_coord "$@"
	fi
}

# no_backend: points the programs at a backend that is not there, and
# sets NO_BACKEND_SAYS to the start of the error they must give.
no_backend() {
	if [ "${SPSC_TEST_BACKEND:-coord}" = nats ]; then
		export SPSC_COORD=nats://127.0.0.1:9
		NO_BACKEND_SAYS="nats://127.0.0.1:9: no NATS server answered"
	else
		NO_BACKEND_SAYS="coordinator at unix://$SPSC_HOME/coord.unix did not answer"
	fi
}

on_nats() {
	[ "${SPSC_TEST_BACKEND:-coord}" = nats ]
}

# crash_backend, restart_backend: kill -9 it, and start it again on the
# same store.
crash_backend() {
	if on_nats; then crash_nats; else crash_coord; fi
}

restart_backend() {
	if on_nats; then start_nats; else start_coord; fi
}
