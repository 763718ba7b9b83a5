#!/usr/bin/env bats
# Bad input gets one clear line naming the input, the byte offset and what
# is wrong; the exit status is non-zero; no stage dies by a signal; atoms
# before the damage are still delivered.
load helpers

# Three valid atoms of two events each, then a copy to damage.
make_frames() {
	printf 'a1\na2\nb1\nb2\nc1\nc2\n' | spsc-source -n 2 > good.atoms
	[ "$(stat -c %s good.atoms)" -eq $((3 * (64 + 6))) ]
	cp good.atoms bad.atoms
}

# poke FILE OFFSET BYTE: overwrite one byte in place.
poke() {
	printf "\\x$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

@test "random bytes on spsc-sink's stdin: clear error, exit 1" {
	head -c 4096 /dev/urandom > junk
	printf 'XXXX' | dd of=junk bs=1 conv=notrunc status=none
	run spsc-sink < junk
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin: byte 0: not an atom frame (bad magic 58 58 58 58)"* ]]
}

@test "random bytes on spsc-op's stdin: clear error, exit 1, no signal" {
	head -c 4096 /dev/urandom > junk
	printf 'XXXX' | dd of=junk bs=1 conv=notrunc status=none
	run spsc-op -- cat < junk
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin: byte 0: not an atom frame"* ]]
}

@test "a truncated frame at EOF: atoms before it are delivered" {
	make_frames
	head -c $((2 * 70 + 30)) good.atoms > bad.atoms
	run spsc-sink < bad.atoms
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "a1" ]
	[ "${lines[3]}" = "b2" ]
	[[ "${lines[4]}" == *"stdin: byte 140: truncated frame header (30 bytes at end of input)"* ]]
}

@test "a frame whose payload is cut short names the promised length" {
	make_frames
	head -c $((70 + 66)) good.atoms > bad.atoms
	run spsc-sink < bad.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin: byte 70: truncated frame: header promises 6 payload bytes, input ends after 2"* ]]
}

@test "a wrong payload CRC is caught by spsc-sink and spsc-op" {
	make_frames
	poke bad.atoms $((70 + 64)) 7a
	run spsc-sink < bad.atoms
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "a1" ]
	[[ "$output" == *"stdin: byte 70: payload CRC mismatch"* ]]
	[[ "$output" != *"b1"* ]]
	run spsc-op -- cat < bad.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin: byte 70: payload CRC mismatch"* ]]
}

@test "a damaged header is caught by its CRC" {
	make_frames
	poke bad.atoms 33 ff
	run spsc-sink < bad.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin: byte 0: header CRC mismatch"* ]]
}

@test "an unknown frame version is named" {
	make_frames
	poke bad.atoms $((2 * 70 + 4)) 07
	run spsc-sink < bad.atoms
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 5 ]
	[[ "${lines[4]}" == *"stdin: byte 140: unknown frame version 7 (this reader knows 1 to 2)"* ]]
}

@test "a frame over the size limit is refused" {
	seq 1 1000 | spsc-source -n 1000 > big.atoms
	run spsc-sink --max-atom 1k < big.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"stdin: byte 0: frame of 3893 bytes is over the size limit of 1024 bytes"* ]]
	run spsc-op --max-atom 1k -- cat < big.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == *"over the size limit"* ]]
}

@test "a file of frames named with a path reports its own name" {
	make_frames
	poke bad.atoms $((70 + 64)) 7a
	run spsc-op -i ./bad.atoms -- cat
	[ "$status" -eq 1 ]
	[[ "$output" == *"./bad.atoms: byte 70: payload CRC mismatch"* ]]
}

@test "a corrupt archive member: clear error, other inputs go on" {
	mkdir d
	seq 1 100 > d/a.txt
	tar -czf good.tar.gz -C d a.txt
	head -c 100 good.tar.gz > corrupt.tar.gz
	seq 101 103 > plain.txt
	run bash -c 'spsc-source corrupt.tar.gz plain.txt 2>err | spsc-sink; echo "rc=${PIPESTATUS[0]}"'
	[[ "$output" == *"101"*"103"* ]]
	[[ "$output" == *"rc=1"* ]]
	grep -q 'corrupt.tar.gz' err
}

@test "an unreadable input: the others go on, exit 1 at the end" {
	seq 1 3 > one.txt
	seq 4 6 > two.txt
	run bash -c 'spsc-source one.txt ./no-such-file two.txt 2>err | spsc-sink; echo "rc=${PIPESTATUS[0]}"'
	[ "$output" = "$(printf '1\n2\n3\n4\n5\n6\nrc=1')" ]
	grep -q 'no-such-file' err
}

@test "no stage dies by a signal on junk, even with a closed stdout" {
	head -c 65536 /dev/urandom > junk
	run bash -c 'spsc-sink < junk | head -c 1 >/dev/null; echo "rc=${PIPESTATUS[0]}"'
	[[ "$output" == *"rc=1"* ]]
	run bash -c 'spsc-op -- cat < junk | head -c 1 >/dev/null; echo "rc=${PIPESTATUS[0]}"'
	[[ "$output" == *"rc=1"* ]]
}
