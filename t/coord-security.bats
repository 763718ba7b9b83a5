#!/usr/bin/env bats
# spsc-coord: who can connect.  Private sockets and state directory whatever
# the umask, addresses that need --allow-remote, and CURVE keys on TCP.
# Every TCP address is 127.0.0.1 (or localhost) with a port the kernel
# picks ("*"), read back from the "listening on" line.
load coord_helpers

# tcp_port [HOST]: the port the running coordinator got on HOST (127.0.0.1).
tcp_port() {
	sed -n "s|.*listening on tcp://${1:-127\\.0\\.0\\.1}:\\([0-9][0-9]*\\)\$|\\1|p" \
		"$TMP/coord.log" | tail -n 1
}

# curve_setup: keys for a coordinator (srv) and two clients; only alice is
# listed in clients/.  Starts the coordinator with CURVE on loopback TCP
# and sets URL.
curve_setup() {
	spsc-coord keygen srv >/dev/null 2>&1
	spsc-coord keygen alice >/dev/null 2>&1
	spsc-coord keygen bob >/dev/null 2>&1
	mkdir -m 700 clients
	cp alice.pub clients/
	start_coord --bind 'tcp://127.0.0.1:*' --curve srv.key --clients clients
	URL=tcp://127.0.0.1:$(tcp_port)
	[ "$URL" != tcp://127.0.0.1: ]
}

as_alice() { SPSC_CURVE_SERVERKEY=$TMP/srv.pub SPSC_CURVE_KEY=$TMP/alice.key "$@"; }
as_bob() { SPSC_CURVE_SERVERKEY=$TMP/srv.pub SPSC_CURVE_KEY=$TMP/bob.key "$@"; }

@test "an abstract ipc socket needs --allow-remote, and is warned about with it" {
	name="ipc://@spsc-test-$$-$RANDOM"
	run spsc-coord serve --bind "$name"
	[ "$status" -eq 2 ]
	[[ "$output" == *"'$name' is an abstract socket, which every local process can connect to"*"add --allow-remote"* ]]
	[ ! -e "$SPSC_HOME/coord.sock" ]
	start_coord --bind "$name" --allow-remote
	grep -q "warning: --bind $name: no CURVE here: .* unauthenticated and unencrypted" "$TMP/coord.log"
}

@test "a non-loopback address needs --allow-remote or --curve" {
	run spsc-coord serve --bind tcp://0.0.0.0:7999
	[ "$status" -eq 2 ]
	[[ "$output" == *"not a loopback address; add --allow-remote to listen on it, or --curve and --clients"* ]]
	run spsc-coord serve --bind tcp://0.0.0.0:7999 --curve srv.key
	[ "$status" -eq 2 ]
	[[ "$output" == *"--curve and --clients go together"* ]]
}

@test "the ipc and unix sockets are 0600 whatever the umask" {
	umask 000
	start_coord --bind "ipc://$TMP/extra.sock"
	[ "$(stat -c %a "$SPSC_HOME/coord.sock")" = 600 ]
	[ "$(stat -c %a "$SPSC_HOME/coord.unix")" = 600 ]
	[ "$(stat -c %a "$TMP/extra.sock")" = 600 ]
	SPSC_COORD="ipc://$TMP/extra.sock" spsc-coord status >/dev/null
}

@test "a state directory spsc makes is 0700 whatever the umask" {
	umask 000
	export SPSC_HOME=$TMP/made/here
	start_coord
	[ "$(stat -c %a "$SPSC_HOME")" = 700 ]
	[ "$(stat -c %a "$SPSC_HOME/log")" = 700 ]
}

@test "a state directory open to group or others is refused, with the fix" {
	for mode in 711 750 705; do
		chmod "$mode" "$SPSC_HOME"
		run spsc-coord serve
		[ "$status" -eq 1 ]
		[[ "$output" == *"$SPSC_HOME: the state directory has mode 0$mode, open to group or others; run 'chmod 700 $SPSC_HOME'"* ]]
		[ ! -e "$SPSC_HOME/coord.sock" ]
		[ ! -e "$SPSC_HOME/coord.unix" ]
	done
	run spsc-coord serve --home "$SPSC_HOME"
	[ "$status" -eq 1 ]
	[[ "$output" == *"mode 0705"* ]]
}

@test "--bind tcp://localhost:PORT listens on loopback and serves PUT and GET" {
	start_coord --bind 'tcp://localhost:*'
	port=$(tcp_port)
	[ -n "$port" ]
	mk -n 2 -e 3 | spsc-coord put "raw@tcp://localhost:$port"
	spsc-sink -i "raw@tcp://127.0.0.1:$port" --drain out.txt
	[ "$(cat out.txt)" = "$(printf 't 0 0\nt 0 1\nt 0 2\nt 1 0\nt 1 1\nt 1 2')" ]
	# Clients that resolve localhost to ::1 reach it too, where the host
	# has IPv6 loopback.
	if grep -q "listening on tcp://\[::1\]:$port\$" "$TMP/coord.log"; then
		SPSC_COORD="tcp://[::1]:$port" spsc-coord status --json raw | grep -q '"acked":2'
	fi
}

@test "keygen writes a private secret key and a public key, and never overwrites" {
	umask 000
	run spsc-coord keygen k
	[ "$status" -eq 0 ]
	[ "$(stat -c %a k.key)" = 600 ]
	[ "$(wc -l < k.pub)" -eq 1 ] && [ "$(wc -c < k.pub)" -eq 41 ]
	[ "$(wc -c < k.key)" -eq 41 ]
	[ "${lines[0]}" = "$(cat k.pub)" ]
	cp k.key k.key.orig
	run spsc-coord keygen k
	[ "$status" -eq 1 ]
	[[ "$output" == *"k.pub exists; not overwriting it"* ]]
	cmp k.key k.key.orig
	rm k.pub
	run spsc-coord keygen k
	[ "$status" -eq 1 ]
	[[ "$output" == *"k.key exists; not overwriting it"* ]]
	[ ! -e k.pub ]
	run spsc-coord keygen
	[ "$status" -eq 2 ]
	[[ "$output" == *"keygen: expected one PREFIX"* ]]
}

@test "CURVE: a client without keys gets nothing; the ipc socket needs none" {
	curve_setup
	export SPSC_CONNECT_TIMEOUT=2s
	run spsc-coord status -c "$URL"
	[ "$status" -eq 1 ]
	[[ "$output" == *"coordinator at $URL did not answer for 2s: the handshake failed"*"set SPSC_CURVE_SERVERKEY and SPSC_CURVE_KEY"* ]]
	mk -n 1 > a.atoms
	run spsc-coord put "raw@$URL" < a.atoms
	[ "$status" -eq 1 ]
	spsc-coord status --json | grep -q '"queues":\[\]'
}

@test "CURVE: a client whose key is not listed gets nothing" {
	curve_setup
	export SPSC_CONNECT_TIMEOUT=2s
	mk -n 1 > a.atoms
	run as_bob spsc-coord put "raw@$URL" < a.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"coordinator at $URL did not answer for 2s: the coordinator refused this client's CURVE key"* ]]
	# (Z85 has regex characters: the key is matched as a fixed string.)
	grep "warning: refused a CURVE client from " "$TMP/coord.log" |
		grep -qF "its public key $(cat bob.pub) is not in clients"
	spsc-coord status --json | grep -q '"queues":\[\]'
	# A client with the wrong server key fails the handshake too.
	run env SPSC_CURVE_SERVERKEY="$(cat bob.pub)" SPSC_CURVE_KEY=alice.key \
		spsc-coord status -c "$URL"
	[ "$status" -eq 1 ]
	[[ "$output" == *"did not answer for 2s: the CURVE handshake failed"* ]]
}

@test "CURVE: a listed client can put and get an atom" {
	curve_setup
	mk -n 1 -e 3 | as_alice spsc-coord put "raw@$URL"
	[ "$(qstat raw ready)" -eq 1 ]
	as_alice spsc-sink -i "raw@$URL" --drain out.txt
	[ "$(cat out.txt)" = "$(printf 't 0 0\nt 0 1\nt 0 2')" ]
	[ "$(qstat raw acked)" -eq 1 ]
	# The server key may be given as text, and the keys are ignored on ipc.
	SPSC_CURVE_SERVERKEY="$(cat srv.pub)" SPSC_CURVE_KEY=alice.key \
		spsc-coord status --json -c "$URL" | grep -q '"acked":1'
	as_alice spsc-coord status --json | grep -q '"acked":1'
}

@test "CURVE: a key added to --clients is admitted from the next connection" {
	curve_setup
	export SPSC_CONNECT_TIMEOUT=2s
	run as_bob spsc-coord status -c "$URL"
	[ "$status" -eq 1 ]
	cp bob.pub clients/
	as_bob spsc-coord status -c "$URL" >/dev/null
}

@test "CURVE: secret keys open to others and writable client lists are refused" {
	spsc-coord keygen srv 2>/dev/null >/dev/null
	spsc-coord keygen alice 2>/dev/null >/dev/null
	mkdir -m 700 clients
	cp alice.pub clients/
	chmod 640 srv.key
	run spsc-coord serve --bind 'tcp://127.0.0.1:*' --curve srv.key --clients clients
	[ "$status" -eq 1 ]
	[[ "$output" == *"--curve srv.key: secret key file has mode 0640, open to group or others; run 'chmod 600 srv.key'"* ]]
	chmod 600 srv.key
	run spsc-coord serve --curve srv.pub --clients clients
	[ "$status" -eq 1 ]
	[[ "$output" == *"that is a public key"* ]]
	chmod 777 clients
	run spsc-coord serve --curve srv.key --clients clients
	[ "$status" -eq 1 ]
	[[ "$output" == *"--clients clients: the directory has mode 0777, writable by group or others"* ]]
	[ ! -e "$SPSC_HOME/coord.sock" ]
	chmod 604 alice.key
	run as_alice spsc-coord status -c tcp://127.0.0.1:9
	[ "$status" -eq 1 ]
	[[ "$output" == *"SPSC_CURVE_KEY: $TMP/alice.key: secret key file has mode 0604"* ]]
}

@test "CURVE: client key variables are checked: both or neither, and real keys" {
	spsc-coord keygen srv 2>/dev/null >/dev/null
	printf 'not a key\n' > junk.pub
	run env SPSC_CURVE_SERVERKEY=srv.pub spsc-coord status -c tcp://127.0.0.1:9
	[ "$status" -eq 1 ]
	[[ "$output" == *"SPSC_CURVE_SERVERKEY is set but SPSC_CURVE_KEY is not"* ]]
	run env SPSC_CURVE_SERVERKEY=junk.pub SPSC_CURVE_KEY=srv.key spsc-coord status -c tcp://127.0.0.1:9
	[ "$status" -eq 1 ]
	[[ "$output" == *"SPSC_CURVE_SERVERKEY: junk.pub: line 1 is not a CURVE key (expected 40 Z85 characters)"* ]]
	run env SPSC_CURVE_SERVERKEY=srv.pub SPSC_CURVE_KEY=nosuch.key spsc-coord status -c tcp://127.0.0.1:9
	[ "$status" -eq 1 ]
	[[ "$output" == *"SPSC_CURVE_KEY: nosuch.key: No such file or directory"* ]]
}
