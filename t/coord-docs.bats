#!/usr/bin/env bats
# spsc-coord(1) and spsc-protocol(7) checked against a running coordinator:
# the example session runs as printed, a log reader written from the STORAGE
# section alone rebuilds what the coordinator serves, and status has exactly
# the keys the page explains.
load coord_helpers

setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/spsc-test.XXXXXX")
	cd "$TMP" || return 1
	coord_setup
}

mk() { python3 "$SPSC_SRCDIR/t/mkatoms.py" "$@"; }
logread() { python3 "$SPSC_SRCDIR/t/logread.py" "$@"; }

@test "the example session of spsc-protocol(7) runs as printed" {
	start_coord
	printf 'a\nb\n' | spsc-source -n 1 --name demo > demo.atoms
	[ "$(stat -c %s demo.atoms)" -eq 132 ]
	run "$QTOOL" "$SPSC_SRCDIR/t/protosession.py" "$SPSC_SRCDIR/man/spsc-protocol.7" demo.atoms
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "17 requests as printed" ]
}

@test "a log reader written from spsc-protocol(7) rebuilds the queues served after kill -9" {
	start_coord
	mk -n 4 -e 2 --name a | spsc-coord put q
	mk -n 2 -e 3 --name b | spsc-coord put r
	QT get q 2 60000 > got-q
	QT get r 1 60000 > /dev/null
	QT ack q "$(awk 'NR == 2 {print $1}' got-q)" 1 | grep -q 'acked=1'
	crash_coord

	run logread --records "$SPSC_HOME/log"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | awk '$3 == "PUT"' | wc -l)" -eq 6 ]
	[ "$(echo "$output" | awk '$3 == "RECV"' | wc -l)" -eq 3 ]
	[ "$(echo "$output" | awk '$3 == "ACK"' | wc -l)" -eq 1 ]

	logread "$SPSC_HOME/log" > rebuilt
	[ "$(awk '$1 == "q"' rebuilt | wc -l)" -eq 3 ]
	[ "$(awk '$1 == "r"' rebuilt | wc -l)" -eq 2 ]
	[ "$(awk '$3 == 1' rebuilt | wc -l)" -eq 2 ]

	# After the restart every atom is ready, in the same order, each
	# delivered once more than the log says it was.
	start_coord
	[ "$(qstat q ready)" -eq 3 ]
	[ "$(qstat r ready)" -eq 2 ]
	for q in q r; do
		QT get "$q" 10 60000 | awk -v q="$q" 'NR > 1 {print q, $1, $2 - 1, $3}'
	done > served
	diff rebuilt served
}

@test "the log reader stops a torn segment at the byte where the coordinator truncates it" {
	start_coord
	mk -n 5 -e 2 | spsc-coord put q
	crash_coord
	seg=$(ls "$SPSC_HOME"/log/*.seg | tail -n 1)
	size=$(stat -c %s "$seg")
	head -c 300 /dev/urandom >> "$seg"
	logread "$SPSC_HOME/log" > before 2> err
	[ "$(wc -l < before)" -eq 5 ]
	grep -q "^logread: $seg: byte $size: " err
	start_coord
	grep -q "$seg: byte $size: .*; truncating 300 bytes" "$TMP/coord.log"
	logread "$SPSC_HOME/log" > after 2> err
	[ ! -s err ]
	diff before after
}

@test "status --json has exactly the keys spsc-coord(1) explains" {
	start_coord
	mk -n 1 | spsc-coord put q
	spsc-coord status --json > status.json
	sed -n '/^\.SH STATUS/,/^\.SH /p' "$SPSC_SRCDIR/man/spsc-coord.1" |
		awk -F'\t' '/^[a-z_]+\t/ && $1 != "key" && $1 != "column" {print $1}' | sort > documented
	python3 -c '
import json, sys
d = json.load(open("status.json"))
print("\n".join(sorted(set(d) | set(d["queues"][0]))))' > actual
	diff documented actual
}
