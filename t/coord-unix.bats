#!/usr/bin/env bats
# The coordinator's unix:// transport (spsc-protocol(7), TRANSPORT): the
# same requests as the ZeroMQ sockets, as length-prefixed parts on a plain
# stream socket.  Every spsc program uses it by default, so the rest of the
# suite runs over it; these tests hold what is particular to it: both
# transports serve one set of queues, a client that breaks the framing is
# cut off while everyone else is served, and a client whose connection
# ends sends its unanswered requests again on a new one.
load coord_helpers

# raw PYTHON: runs Python with a connected unix socket `s` and the
# framing helpers send(parts) and recv() -> parts (None at end of
# stream); each read waits at most 10 s.
raw() {
	/usr/bin/python3 -c '
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(os.environ["SPSC_HOME"] + "/coord.unix")
def frame(parts):
    out = b""
    for i, p in enumerate(parts):
        more = 0x80000000 if i + 1 < len(parts) else 0
        out += struct.pack("<I", len(p) | more) + p
    return out
def send(parts):
    s.sendall(frame(parts))
def exact(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            return None
        b += c
    return b
def recv():
    parts = []
    while True:
        w = exact(4)
        if w is None:
            return None
        (word,) = struct.unpack("<I", w)
        parts.append(exact(word & 0x7fffffff))
        if not word & 0x80000000:
            return parts
'"$1"
}

@test "unix and ipc clients share one coordinator's queues" {
	start_coord
	mk -n 5 -e 1 | SPSC_COORD="ipc://$SPSC_HOME/coord.sock" spsc-coord put raw
	mk -n 3 -e 1 --first 100 | spsc-coord put raw
	[ "$(SPSC_COORD="ipc://$SPSC_HOME/coord.sock" qstat raw ready)" -eq 8 ]
	[ "$(SPSC_COORD="unix://$SPSC_HOME/coord.unix" qstat raw ready)" -eq 8 ]
	run_bounded 20 spsc-sink -i raw --drain > out
	[ "$(wc -l < out)" -eq 8 ]
	[ "$(SPSC_COORD="ipc://$SPSC_HOME/coord.sock" qstat raw ready)" -eq 0 ]
}

@test "a request over the unix socket is answered as over ZeroMQ, request id and all" {
	start_coord
	spsc-coord create raw
	run raw '
send([b"SPSC/1 STATUS 42"])
r = recv()
print(r[0].decode().split()[:3])
send([b"SPSC/1 FROB 43 raw"])
print(recv()[0].decode().split()[:3])'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "['SPSC/1', 'OK', '42']" ]
	[ "${lines[1]}" = "['SPSC/1', 'BADREQ', '43']" ]
}

@test "too many parts is BADREQ; a part past the bound closes the connection; others are served" {
	start_coord
	run raw '
send([b"SPSC/1 ACK 7 raw"] + [b"x"] * 4096)
r = recv()
print(r[0].decode().split()[:3], r[1].decode())'
	[ "$status" -eq 0 ]
	# counted before the header is read: no request id to answer with
	[ "$output" = "['SPSC/1', 'BADREQ', '0'] message has more than 4097 parts" ]
	run raw '
s.sendall(struct.pack("<I", 0x7fffffff))
print(recv())'
	[ "$status" -eq 0 ]
	[ "$output" = "None" ]
	grep -q "a request over [0-9]* bytes or 4097 parts; closing it" "$TMP/coord.log"
	mk -n 2 | spsc-coord put raw
	[ "$(qstat raw ready)" -eq 2 ]
}

@test "a connection cut inside a request changes nothing, and the coordinator serves on" {
	start_coord
	mk -n 2 | spsc-coord put raw
	run raw '
s.sendall(struct.pack("<I", 0x80000000 | 30) + b"SPSC/1 PURGE 9 raw")
s.close()'
	[ "$status" -eq 0 ]
	sleep 0.2
	[ "$(qstat raw ready)" -eq 2 ]
	kill -0 "$COORD_PID"
}

@test "a waiting reader whose coordinator is killed -9 reconnects, and gets what is put after the restart" {
	start_coord
	spsc-coord create raw
	spsc-sink -i raw > out 2>"$TMP/sink.log" &
	sink=$!
	BG_PIDS="$BG_PIDS $sink"
	sleep 0.3	# its GET waits in the coordinator
	crash_coord
	start_coord
	mk -n 4 -e 1 | spsc-coord put raw
	wait_for '[ -f out ] && [ "$(wc -l < out)" -eq 4 ]' 200
	kill -0 "$sink"
}

@test "a unix:// URL too long for a socket is a clear error" {
	long=$(printf 'd%.0s' $(seq 1 120))
	run env SPSC_COORD="unix:///tmp/$long/coord.unix" spsc-coord status
	[ "$status" -eq 1 ]
	[[ "$output" == *"unix:///tmp/$long/coord.unix: path too long for a unix socket"* ]]
}

@test "serve --bind unix://PATH: a second unix socket, 0600, gone at stop" {
	start_coord --bind "unix://$TMP/alt.unix"
	[ -S "$TMP/alt.unix" ]
	[ "$(stat -c %a "$TMP/alt.unix")" = 600 ]
	grep -q "listening on unix://$TMP/alt.unix" "$TMP/coord.log"
	mk -n 4 -e 1 | SPSC_COORD="unix://$TMP/alt.unix" spsc-coord put raw
	[ "$(qstat raw ready)" -eq 4 ]
	run_bounded 20 env SPSC_COORD="unix://$TMP/alt.unix" spsc-sink -i raw --drain > out
	[ "$(wc -l < out)" -eq 4 ]
	kill -TERM "$COORD_PID"
	wait "$COORD_PID"
	[ ! -e "$TMP/alt.unix" ]
}

@test "serve --bind unix://PATH takes over a dead coordinator's socket, and nothing else" {
	start_coord --bind "unix://$TMP/alt.unix"
	crash_coord
	[ -S "$TMP/alt.unix" ]
	# the file a killed coordinator left is nobody's: taken over
	start_coord --bind "unix://$TMP/alt.unix"
	mk -n 2 -e 1 | SPSC_COORD="unix://$TMP/alt.unix" spsc-coord put raw
	[ "$(qstat raw ready)" -eq 2 ]
	# a live listener is not
	mkdir -m 700 "$TMP/other"
	run spsc-coord serve --home "$TMP/other" --bind "unix://$TMP/alt.unix"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bind unix://$TMP/alt.unix: something is listening there already"* ]]
	[ "$(qstat raw ready)" -eq 2 ]
	# nor a file that is not a socket
	echo keep > "$TMP/plain"
	run spsc-coord serve --home "$TMP/other" --bind "unix://$TMP/plain"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bind unix://$TMP/plain: the file exists and is not a socket"* ]]
	[ "$(cat "$TMP/plain")" = keep ]
	# and a relative path is a usage error
	run spsc-coord serve --home "$TMP/other" --bind unix://alt.unix
	[ "$status" -eq 2 ]
	[[ "$output" == *"unix:// takes an absolute path"* ]]
}

@test "a hundred connections at once, a third of them cut: every other one is answered" {
	start_coord
	spsc-coord create raw
	run raw '
conns = []
for i in range(100):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(10)
    c.connect(os.environ["SPSC_HOME"] + "/coord.unix")
    conns.append(c)
for i, c in enumerate(conns):
    c.sendall(frame([b"SPSC/1 STATUS %d" % (1000 + i)]))
for i, c in enumerate(conns):
    if i % 3 == 0:
        c.close()
ok = 0
for i, c in enumerate(conns):
    if i % 3 == 0:
        continue
    s = c
    r = recv()
    if r is not None and r[0].decode().split()[:3] == ["SPSC/1", "OK", str(1000 + i)]:
        ok += 1
print(ok)'
	[ "$status" -eq 0 ]
	[ "$output" = "66" ]
	kill -0 "$COORD_PID"
}

@test "a reply larger than the socket takes goes out as the client reads, and others are served meanwhile" {
	start_coord
	mk -n 4 -e 50000 | spsc-coord put raw
	run raw '
import time
s.sendall(frame([b"SPSC/1 GET 5 raw max=4"]))
time.sleep(0.5)		# the reply fills the socket and waits
other = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
other.settimeout(10)
other.connect(os.environ["SPSC_HOME"] + "/coord.unix")
other.sendall(frame([b"SPSC/1 STATUS 6"]))
mine = s
s = other
print(recv()[0].decode().split()[:3])
time.sleep(0.3)		# the rest goes out as it is read
s = mine
r = recv()
print(r[0].decode().split()[:4], len(r) - 1, sum(len(p) for p in r[1:]) > 1900000)'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "['SPSC/1', 'OK', '6']" ]
	[ "${lines[1]}" = "['SPSC/1', 'OK', '5', 'n=4'] 4 True" ]
}
