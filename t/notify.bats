#!/usr/bin/env bats
# spsc-coord serve tells a service manager when it is ready and when it
# stops, through sd_notify(3): READY=1 once the log is replayed and every
# address is bound, STOPPING=1 on SIGTERM.  Tested the way spsc run and
# systemd's Type=notify use it, with no systemd: a datagram socket of our
# own named in NOTIFY_SOCKET.
load coord_helpers

# listen_notify: binds an AF_UNIX datagram socket at $TMP/notify.sock and
# appends every message it receives to $TMP/notes, one per line (the
# newlines inside a message become spaces), until STOPPING=1 or 20 s of
# silence.  Returns once the socket is bound.
listen_notify() {
	NOTIFY="$TMP/notify.sock"
	: > "$TMP/notes"
	python3 - "$NOTIFY" "$TMP/notes" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
open(sys.argv[2] + ".bound", "w").close()
with open(sys.argv[2], "ab", 0) as out:
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            sys.exit(1)
        out.write(d.replace(b"\n", b" ") + b"\n")
        if b"STOPPING=1" in d.split(b"\n"):
            break
EOF
	BG_PIDS="$BG_PIDS $!"
	LISTENER_PID=$!
	wait_for '[ -e "$TMP/notes.bound" ]' 100
}

# The messages received so far; note WORD: whether one of them says WORD.
note() { grep -q -- "$1" "$TMP/notes"; }

@test "READY=1 once serving, and then a client is answered at once; STOPPING=1 on SIGTERM" {
	listen_notify
	NOTIFY_SOCKET="$NOTIFY" spsc-coord serve --bind 'tcp://127.0.0.1:*' 2>"$TMP/coord.log" &
	COORD_PID=$!
	BG_PIDS="$BG_PIDS $COORD_PID"
	wait_for 'note "READY=1"' 200 || { cat "$TMP/coord.log"; return 1; }
	# No retrying: the first attempt must be answered (qclient warns
	# "not answering" when one is not).
	SPSC_CONNECT_TIMEOUT=500ms run spsc-coord status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"not answering"* ]]
	[ "$(grep -c . "$TMP/notes")" -eq 1 ]
	port=$(sed -n 's/.*listening on tcp:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/coord.log")
	[ -n "$port" ]
	grep -qx "READY=1 STATUS=serving 0 queues on ipc://$SPSC_HOME/coord.sock, unix://$SPSC_HOME/coord.unix, tcp://127.0.0.1:$port" "$TMP/notes"

	kill -TERM "$COORD_PID"
	wait_for 'note "STOPPING=1"' 200
	rc=0
	wait "$COORD_PID" || rc=$?
	[ "$rc" -eq 0 ]
	grep -qx "STOPPING=1 STATUS=stopping: flushing the log" "$TMP/notes"
	wait "$LISTENER_PID"
}

@test "the status counts the queues the log brought back" {
	start_coord
	mk -n 1 | spsc-coord put aa
	mk -n 1 | spsc-coord put bb
	kill -TERM "$COORD_PID"
	wait "$COORD_PID"
	listen_notify
	NOTIFY_SOCKET="$NOTIFY" spsc-coord serve 2>"$TMP/coord.log" &
	COORD_PID=$!
	BG_PIDS="$BG_PIDS $COORD_PID"
	wait_for 'note "READY=1"' 200 || { cat "$TMP/coord.log"; return 1; }
	grep -qx "READY=1 STATUS=serving 2 queues on ipc://$SPSC_HOME/coord.sock, unix://$SPSC_HOME/coord.unix" "$TMP/notes"
	[ "$(qstat aa ready)" -eq 1 ]
}

@test "a NOTIFY_SOCKET nobody listens on is warned about, and the queues are served all the same" {
	NOTIFY_SOCKET="$TMP/nobody.sock" spsc-coord serve 2>"$TMP/coord.log" &
	COORD_PID=$!
	BG_PIDS="$BG_PIDS $COORD_PID"
	wait_for 'grep -q "cannot tell the service manager READY=1" "$TMP/coord.log"' 200
	grep -q "NOTIFY_SOCKET=$TMP/nobody.sock" "$TMP/coord.log"
	run spsc-coord status
	[ "$status" -eq 0 ]
	kill -TERM "$COORD_PID"
	rc=0
	wait "$COORD_PID" || rc=$?
	[ "$rc" -eq 0 ]
}
