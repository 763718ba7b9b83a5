#!/usr/bin/env bats
# spsc-coord(1) and spsc-protocol(7) checked against a running coordinator:
# the example session runs as printed, a log reader written from the STORAGE
# section alone rebuilds what the coordinator serves, and status has exactly
# the keys the page explains.
load coord_helpers

logread() { python3 "$SPSC_SRCDIR/t/logread.py" "$@"; }

@test "the example sessions of spsc-protocol(7) run as printed" {
	start_coord
	printf 'a\nb\n' | spsc-source -n 1 --name demo > demo.atoms
	[ "$(stat -c %s demo.atoms)" -eq 132 ]
	run "$QTOOL" "$SPSC_SRCDIR/t/protosession.py" "$SPSC_SRCDIR/man/spsc-protocol.7" demo.atoms
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "33 requests as printed" ]
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

@test "the log reader reports a torn tail at the byte where the coordinator cuts it" {
	start_coord
	mk -n 5 -e 2 | spsc-coord put q
	crash_coord
	seg=$(ls "$SPSC_HOME"/log/*.seg | head -n 1)
	size=$(stat -c %s "$seg")
	head -c 300 /dev/urandom >> "$seg"
	logread "$SPSC_HOME/log" > before 2> err
	[ "$(wc -l < before)" -eq 5 ]
	grep -q "^logread: $seg: byte $size: " err
	start_coord
	grep -q "$seg: byte $size: .*; a torn write at the end of the log: cutting 300 bytes" "$TMP/coord.log"
	logread "$SPSC_HOME/log" > after 2> err
	[ ! -s err ]
	diff before after
}

@test "the log reader resyncs past a damaged record where fsck does, and rebuilds what is served after the repair" {
	start_coord
	mk -n 6 -e 2 | spsc-coord put q
	QT get q 2 60000 > got
	QT ack q "$(awk 'NR == 2 {print $1}' got)" 1 | grep -q 'acked=1'
	crash_coord
	seg=$(ls "$SPSC_HOME"/log/*.seg | head -n 1)
	# The third PUT: four bytes of its payload overwritten.
	logread --records "$SPSC_HOME/log" | awk '$3 == "PUT" {print $2}' > puts
	off=$(sed -n 3p puts)
	printf 'XXXX' | dd of="$seg" bs=1 seek=$(($(sed -n 4p puts) - 6)) conv=notrunc status=none
	cp "$seg" seg.before

	logread --records "$SPSC_HOME/log" > records 2> err
	[ "$(wc -l < err)" -eq 1 ]
	grep -q "^logread: $seg: byte $off: record CRC mismatch$" err
	# The reader goes on after the damaged run: the three PUTs after it,
	# the two RECVs and the ACK.
	[ "$(awk '$3 == "PUT"' records | wc -l)" -eq 5 ]
	[ "$(awk '$3 == "RECV"' records | wc -l)" -eq 2 ]
	[ "$(awk '$3 == "ACK" && $6 == "consumed"' records | wc -l)" -eq 1 ]
	logread "$SPSC_HOME/log" > rebuilt 2> /dev/null
	[ "$(wc -l < rebuilt)" -eq 4 ]

	# The coordinator will not start on it, and changes nothing.
	run spsc-coord serve
	[ "$status" -eq 3 ]
	[[ "$output" == *"$seg: byte $off: record CRC mismatch; "*" damaged bytes, followed by "*" intact records"* ]]
	cmp "$seg" seg.before

	# fsck finds the same run, and with --repair the coordinator serves
	# what the reader rebuilt.
	run spsc-coord fsck
	[ "$status" -eq 3 ]
	[[ "$output" == *"$seg: byte $off: record CRC mismatch; "* ]]
	run spsc-coord fsck --repair
	[ "$status" -eq 0 ]
	cmp "$SPSC_HOME/damaged/${seg##*/}" seg.before
	start_coord
	QT get q 10 60000 | awk 'NR > 1 {print "q", $1, $2 - 1, $3}' > served
	diff rebuilt served
}

@test "the log reader follows MOVE records as the coordinator does after compaction" {
	start_coord --segment-size 4k
	mk -n 1 -e 3 --name pinned | spsc-coord put q
	QT get q 1 600000 > /dev/null
	for i in $(seq 1 8); do
		mk -n 20 -e 4 --name "batch$i" | spsc-coord put q
		QT get q 20 600000 > got
		awk 'NR > 1 {print $1}' got | while read -r id; do QT ack q "$id" 1 > /dev/null; done
	done
	mk -n 3 -e 2 --name late | spsc-coord put q
	wait_for '! [ -e "$SPSC_HOME/log/00000000000000000001.seg" ]'
	crash_coord

	logread --records "$SPSC_HOME/log" > records
	awk '$3 == "MOVE"' records | grep -q " delivery=1$"
	logread "$SPSC_HOME/log" > rebuilt
	[ "$(wc -l < rebuilt)" -eq 4 ]
	grep -q " 1 3$" rebuilt
	start_coord
	QT get q 10 60000 | awk 'NR > 1 {print "q", $1, $2 - 1, $3}' > served
	diff rebuilt served
}

@test "the log dump of spsc-protocol(7) is the log the coordinator writes" {
	# The frame is the one printed in the dump, so that its created-at
	# and CRCs are those of the page.
	python3 - "$SPSC_SRCDIR/man/spsc-protocol.7" <<-'EOF'
	import sys
	page = open(sys.argv[1]).read()
	start = page.index("$ od \\-A d \\-t x1 $SPSC_HOME/log/")
	block = page[start:page.index("\n.fi\n", start)].splitlines()[1:]
	open("page.od", "w").write("\n".join(block) + "\n")
	data = bytes(int(b, 16) for line in block for b in line.split()[1:])
	open("demo.atom", "wb").write(data[33:101])
	EOF
	[ "$(stat -c %s demo.atom)" -eq 68 ]
	start_coord
	spsc-coord put q < demo.atom
	id=$(QT get q 1 60000 | awk 'NR == 2 {print $1}')
	[ "$id" = 27249927bb7c610c5bc21bfb190d46d9 ]
	QT ack q "$id" 1 | grep -q 'acked=1'
	kill -TERM "$COORD_PID"
	wait "$COORD_PID"
	od -A d -t x1 "$SPSC_HOME/log/00000000000000000001.seg" | diff page.od -
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert (d["log_segment"], d["log_offset"]) == (1, 172), d
assert (d["queues"][0]["put"], d["queues"][0]["acked"]) == (1, 1), d' "$SPSC_HOME/queues.json"
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

@test "producer ids are the derivation spsc-protocol(7) gives" {
	start_coord
	seq 1 10 > in.txt
	spsc-source --name nums -n 5 -o raw ./in.txt
	spsc-op -i raw -o up -- tr 1 x
	: > in.atoms
	spsc-op --name named -i ./in.atoms -o named -- cat
	python3 - "$SPSC_HOME/queues.json" <<-'EOF'
	import json, os, struct, sys
	sys.path.insert(0, os.path.join(os.environ["SPSC_SRCDIR"], "t"))
	from atomread import hash64, command_salt

	def producer(salt, endpoint):
	    return hash64(endpoint, hash64(struct.pack("<Q", salt), 0x70726F64)) or 1

	got = {q["name"]: [p["id"] for p in q["producers"]]
	       for q in json.load(open(sys.argv[1]))["queues"]}
	want = {
	    "raw": ["%016x" % command_salt([b"nums", b"./in.txt"])],
	    "up": ["%016x" % producer(command_salt([b"tr", b"1", b"x"]), b"raw")],
	    "named": ["%016x" % producer(command_salt([b"named"]), b"./in.atoms")],
	}
	assert got == want, (got, want)
	EOF
	[ "$(qstat named producers_done)" -eq 1 ]
}
