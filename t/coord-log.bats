#!/usr/bin/env bats
# spsc-coord's log under damage, crashes, compaction and a full disk: no
# acknowledged atom is lost, none comes back, and where the coordinator
# cannot promise that it stops and says what is at stake.
load coord_helpers

setup() {
	coord_test_setup
	MOUNTED=
}

teardown() {
	for p in $BG_PIDS; do kill -9 "$p" 2>/dev/null || true; done
	for p in $BG_PIDS; do wait "$p" 2>/dev/null || true; done
	cd /
	[ -z "$MOUNTED" ] || umount "$MOUNTED" 2>/dev/null || umount -l "$MOUNTED"
	rm -rf "$TMP"
}

records() { python3 "$SPSC_SRCDIR/t/logrec.py" "$@"; }
atom_id() { python3 -c 'import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest()[:32])' "$1"; }

# The last segment that holds records (a spare after it holds only its
# header).
last_seg() {
	for f in $(ls -r "$SPSC_HOME"/log/*.seg); do
		[ -n "$(records "$f")" ] && { echo "$f"; return 0; }
	done
	return 1
}

# records_end SEGMENT: where the segment's own records end.
records_end() { records "$1" | awk 'BEGIN { n = 16 } { n = $1 + $2 } END { print n }'; }

# A log whose newest segment is a reclaimed file used again, its 30 atoms
# (raw, 200 events each) followed by records of its earlier life, the
# coordinator killed: prints that segment's path.
reused_segment() {
	start_coord --segment-size 64k
	mk -n 100 -e 200 | spsc-coord put raw
	spsc-sink -i raw --drain > /dev/null
	[ -f "$SPSC_HOME/log/reuse" ]
	ino=$(stat -c %i "$SPSC_HOME/log/reuse")
	stop_coord
	start_coord --segment-size 64k	# its spare is the reused file
	mk -n 30 -e 200 --first 100 | spsc-coord put raw
	crash_coord
	seg=$(find "$SPSC_HOME/log" -name '*.seg' -inum "$ino")
	[ -n "$seg" ] && [ -n "$(records "$seg")" ]
	[ "$(stat -c %s "$seg")" -gt "$(records_end "$seg")" ]
	echo "$seg"
}

first_seg() { ls "$SPSC_HOME"/log/*.seg | head -n 1; }
sums() { (cd "$SPSC_HOME/log" && sha256sum -- *.seg); }
log_bytes() { cat "$SPSC_HOME"/log/*.seg | wc -c; }

# flip FILE OFFSET: inverts one byte, as a bad sector or a stray write would.
flip() {
	python3 -c 'import sys
p, o = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0xff]))' "$1" "$2"
}

# Offset of the Nth record of a segment, plus DELTA.
rec_at() { records "$1" | awk -v n="$2" -v d="$3" 'NR == n { print $1 + d }'; }

# 200 atoms of 200 events in segments of 64k: about eight segments.
several_segments() {
	start_coord --segment-size 64k
	mk -n 200 -e 200 | spsc-coord put raw
	crash_coord
	[ "$(ls "$SPSC_HOME"/log/*.seg | wc -l)" -ge 4 ]
}

@test "a torn tail of the last segment is cut, logged, and every complete atom is served" {
	start_coord
	mk -n 50 -e 4 | spsc-coord put raw
	crash_coord
	head -c 777 /dev/urandom >> "$(last_seg)"
	start_coord
	grep -q "a torn write at the end of the log: cutting 777 bytes" "$TMP/coord.log"
	[ "$(qstat raw ready)" -eq 50 ]
	run spsc-coord peek raw 1000
	[ "${#lines[@]}" -eq 200 ]
}

@test "damage in an older segment stops the start with status 3, names the place, and changes nothing" {
	several_segments
	seg=$(first_seg)
	flip "$seg" "$(rec_at "$seg" 10 100)"
	sums > before
	run timeout 30 spsc-coord serve --segment-size 64k
	[ "$status" -eq 3 ]
	[[ "$output" == *"$seg: byte $(rec_at "$seg" 10 0): record CRC mismatch"* ]]
	[[ "$output" == *"would be lost or come back, so nothing was changed"* ]]
	[[ "$output" == *"spsc-coord fsck --repair"* ]]
	sums > after
	cmp before after
}

@test "a bad record followed by intact ones in the newest segment is damage, not a torn tail" {
	start_coord
	mk -n 10 -e 4 | spsc-coord put raw
	crash_coord
	seg=$(last_seg)
	flip "$seg" "$(rec_at "$seg" 5 40)"
	sums > before
	run timeout 30 spsc-coord serve
	[ "$status" -eq 3 ]
	[[ "$output" == *"followed by 5 intact records"* ]]
	sums > after
	cmp before after
}

@test "fsck passes a clean log with status 0" {
	several_segments
	run spsc-coord fsck
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" == *" intact records, 0 damaged runs; 0 atoms lost, 0 may come back, 0 bytes unreadable" ]]
}

@test "--repair belongs to fsck alone" {
	run spsc-coord status --repair
	[ "$status" -eq 2 ]
	[[ "$output" == *"--repair is an option of fsck, not of status"* ]]
}

@test "fsck refuses while a coordinator serves the directory" {
	start_coord
	run spsc-coord fsck
	[ "$status" -eq 1 ]
	[[ "$output" == *"another spsc-coord is serving this state directory"* ]]
}

@test "fsck names the atom whose PUT is damaged, exits 3, and changes nothing" {
	several_segments
	seg=$(first_seg)
	flip "$seg" "$(rec_at "$seg" 10 300)"	# inside the payload
	id=$(atom_id t:9)
	sums > before
	run spsc-coord fsck
	[ "$status" -eq 3 ]
	[[ "$output" == *"lost: atom $id, queue raw (its PUT record is damaged)"* ]]
	[[ "${lines[-1]}" == *"1 damaged runs; 1 atoms lost, 0 may come back, 0 bytes unreadable; nothing changed"* ]]
	sums > after
	cmp before after
}

@test "fsck --repair keeps a copy, drops the damaged record, and every other atom is served" {
	several_segments
	seg=$(first_seg)
	flip "$seg" "$(rec_at "$seg" 10 300)"
	id=$(atom_id t:9)
	run spsc-coord fsck --repair
	[ "$status" -eq 0 ]
	[[ "$output" == *"copy kept as $SPSC_HOME/damaged/$(basename "$seg")"* ]]
	[[ "$output" == *"lost: atom $id, queue raw"* ]]
	cmp "$SPSC_HOME/damaged/$(basename "$seg")" "$seg" && false
	run spsc-coord fsck
	[ "$status" -eq 0 ]
	start_coord --segment-size 64k
	[ "$(qstat raw ready)" -eq 199 ]
	QT get raw 1000 60000 | grep -v '^#' | awk '{ print $1 }' > got
	[ "$(wc -l < got)" -eq 199 ]
	! grep -q "$id" got
}

@test "fsck says which acknowledged atom may come back when its ACK is damaged" {
	start_coord
	mk -n 5 | spsc-coord put raw
	read -r id d _ < <(QT get raw 1 60000 | grep -v '^#')
	QT ack raw "$id" "$d" >/dev/null
	mk -n 5 --first 5 | spsc-coord put raw
	crash_coord
	seg=$(last_seg)
	off=$(records "$seg" | awk '$3 == "ACK" { print $1 + 4 }')	# its CRC
	flip "$seg" "$off"
	run spsc-coord fsck
	[ "$status" -eq 3 ]
	[[ "$output" == *"may come back: atom $id, queue raw (its ACK record is damaged)"* ]]
	[[ "${lines[-1]}" == *"0 atoms lost, 1 may come back"* ]]
}

@test "unreadable bytes are reported as such, with their range" {
	several_segments
	seg=$(first_seg)
	off=$(rec_at "$seg" 10 0)
	printf 'XXXXXXXXXXXXXXXX' | dd of="$seg" bs=1 seek="$off" conv=notrunc status=none
	run spsc-coord fsck
	[ "$status" -eq 3 ]
	[[ "$output" == *"$seg: bytes $off.."*": unreadable: atoms put there are lost"* ]]
}

@test "a reclaimed segment's file is used again, and its earlier records are never served" {
	seg=$(reused_segment)
	run spsc-coord fsck
	[ "$status" -eq 0 ]
	[[ "$output" == *", 0 damaged runs;"* ]]
	[ "$(python3 "$SPSC_SRCDIR/t/logread.py" "$SPSC_HOME/log" 2>&1 | wc -l)" -eq 30 ]
	start_coord --segment-size 64k
	! grep -q "torn write" "$TMP/coord.log"
	[ "$(qstat raw ready)" -eq 30 ]
	# The start cut the file back to its own records.
	[ "$(stat -c %s "$seg")" -eq "$(records_end "$seg")" ]
	run spsc-sink -i raw --drain
	[ "${#lines[@]}" -eq 6000 ]
	[ "$(printf '%s\n' "${lines[@]}" | awk '{print $2}' | sort -un | head -1)" -eq 100 ]
}

@test "a torn write over a reused file's earlier records is cut as a torn tail" {
	seg=$(reused_segment)
	end=$(records_end "$seg")
	head -c 300 /dev/urandom | dd of="$seg" bs=1 seek="$end" conv=notrunc status=none
	start_coord --segment-size 64k
	grep -q "$seg: byte $end: .*; a torn write at the end of the log: cutting" "$TMP/coord.log"
	[ "$(qstat raw ready)" -eq 30 ]
	[ "$(stat -c %s "$seg")" -eq "$end" ]
}

# to_log2 SEGMENT: rewrites a segment in the older SPSCLOG2 format, as a
# coordinator before SPSCLOG3 wrote it: 12-byte record heads.
to_log2() {
	python3 - "$1" <<-'EOF'
	import os, struct, sys
	sys.path.insert(0, os.path.join(os.environ["SPSC_SRCDIR"], "t"))
	from atomread import crc32c
	path = sys.argv[1]
	data = open(path, "rb").read()
	out, off = bytearray(b"SPSCLOG2" + data[8:16]), 16
	while off + 16 <= len(data):
	    n = struct.unpack_from("<I", data, off)[0]
	    rec = bytearray(data[off:off + 12] + data[off + 16:off + n])
	    struct.pack_into("<II", rec, 0, n - 4, crc32c(bytes(rec[8:])))
	    out += rec
	    off += n
	open(path, "wb").write(out)
	EOF
}

@test "a log written in the older SPSCLOG2 format is still read, by the coordinator and by fsck" {
	start_coord
	mk -n 20 -e 5 | spsc-coord put raw
	stop_coord
	for seg in "$SPSC_HOME"/log/*.seg; do to_log2 "$seg"; done
	[ "$(head -c 8 "$(first_seg)")" = SPSCLOG2 ]
	run spsc-coord fsck
	[ "$status" -eq 0 ]
	[[ "$output" == *"segments, 20 intact records, 0 damaged runs;"* ]]
	start_coord
	[ "$(qstat raw ready)" -eq 20 ]
	crash_coord
	start_coord	# a SPSCLOG2 segment before a SPSCLOG3 one
	run spsc-sink -i raw --drain
	[ "${#lines[@]}" -eq 100 ]
}

@test "put and acked stay consistent across kill -9" {
	start_coord
	for i in 0 1 2 3 4; do
		mk -n 20 --first $((i * 20)) | spsc-coord put raw
		QT get raw 10 60000 | grep -v '^#' | while read -r id d _; do
			QT ack raw "$id" "$d" >/dev/null
		done
		crash_coord
		start_coord
	done
	[ "$(qstat raw put)" -eq 100 ]
	[ "$(qstat raw acked)" -eq 50 ]
	[ "$(qstat raw ready)" -eq 50 ]
}

@test "one atom left unacknowledged does not pin the log: disk use follows the queued bytes" {
	mb=${SPSC_COMPACT_MB:-24}
	start_coord --segment-size 64k
	mk -n 1 -e 3 --name pinned | spsc-coord put slow
	seq 1 $((mb * 1024 * 1024 / 8)) > in.txt
	spsc-source -n 1000 -o raw in.txt
	background spsc-sink -i raw out.txt
	wait_for '[ "$(qstat raw acked)" -eq "$(qstat raw put)" ]' 1200
	wait "$LAST_PID"	# raw is complete: the sink ends by itself
	wait_for '[ "$(log_bytes)" -lt $((256 * 1024)) ]' 200
	[ "$(wc -l < out.txt)" -eq "$(wc -l < in.txt)" ]
	# The moved atom is whole, and survives a restart.
	crash_coord
	start_coord --segment-size 64k
	run spsc-coord peek slow
	[ "$output" = "$(printf 'pinned 0 0\npinned 0 1\npinned 0 2')" ]
	[ "$(log_bytes)" -lt $((256 * 1024)) ]
}

@test "an atom with no events passes through a queue to spsc-sink" {
	start_coord
	mk -n 1 -e 0 | spsc-coord put raw
	mk -n 1 -e 2 --first 1 | spsc-coord put raw
	run spsc-sink -i raw --drain
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 't 1 0\nt 1 1')" ]
}

@test "a full disk is back-pressure: PUTs wait, consumers drain, nothing is lost or doubled" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a small tmpfs"
	mkdir -p "$TMP/small"
	mount -t tmpfs -o size=3m,mode=0700 tmpfs "$TMP/small" || skip "cannot mount a tmpfs here"
	MOUNTED=$TMP/small
	export SPSC_HOME=$TMP/small/h
	mkdir -m 700 "$SPSC_HOME"
	start_coord --segment-size 256k
	seq 1 1000000 > in.txt
	background spsc-source -n 1000 -o raw in.txt 2> src.err
	src=$LAST_PID
	wait_for 'grep -q "refusing PUTs until consumers free space" "$TMP/coord.log"' 600
	wait_for 'grep -q "coordinator.s disk is full; waiting for consumers" src.err' 600
	kill -0 "$COORD_PID"
	[ "$(spsc-coord status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["disk_full"])')" = True ]
	run spsc-coord status
	[[ "$output" == *"warning: the coordinator's disk is full: PUTs wait until consumers free space"* ]]
	background spsc-sink -i raw out.txt
	wait "$src"
	wait_for '[ "$(qstat raw acked)" -eq 1000 ]' 1200
	grep -q "disk space is back; taking PUTs again" "$TMP/coord.log"
	[ "$(spsc-coord status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["disk_full"])')" = False ]
	kill -0 "$COORD_PID"
	sort -n out.txt | cmp - in.txt
}

# Deliveries check a payload's CRC again only where its bytes may have
# changed since they came in: in a segment no longer being written
# (spsc-protocol(7), GET).
@test "a payload changed on disk in an older segment is caught at delivery: removed, reported, the rest served" {
	start_coord --segment-size 64k
	mk -n 200 -e 200 | spsc-coord put raw
	[ "$(ls "$SPSC_HOME"/log/*.seg | wc -l)" -ge 4 ]
	seg=$(first_seg)
	flip "$seg" "$(records "$seg" | awk '$3 == "PUT" { print $1 + $2 - 10; exit }')"
	run spsc-sink -i raw --drain "$TMP/out"
	[ "$status" -eq 0 ]
	[ "$(wc -l < "$TMP/out")" -eq $((199 * 200)) ]
	[ "$(grep -c 'payload CRC mismatch; removed from the queue' "$TMP/coord.log")" -eq 1 ]
	[ "$(qstat raw ready)" -eq 0 ]
}

@test "large atoms go out from the log in two parts, intact, while their segments are reclaimed behind them" {
	start_coord --segment-size 64k
	mk -n 60 -e 2000 | spsc-coord put raw	# 17 kB each
	mk -n 60 -e 2000 > "$TMP/frames"
	[ "$(ls "$SPSC_HOME"/log/*.seg | wc -l)" -ge 8 ]
	run spsc-sink -i raw --drain "$TMP/out"
	[ "$status" -eq 0 ]
	spsc-sink < "$TMP/frames" > "$TMP/want"
	cmp "$TMP/want" "$TMP/out"
	# every atom acknowledged: the segments that held them are gone
	wait_for '[ "$(ls "$SPSC_HOME"/log/*.seg | wc -l)" -le 3 ]' 10
}
