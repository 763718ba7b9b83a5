#!/usr/bin/env bats
# spsc-atom(5) is exact enough to implement the format elsewhere: t/atomread.py
# is a reader (and writer) written from the page alone, with its own CRC32C
# and id derivation.  These tests hold it against the C implementation in
# both directions, on good frames and on every kind of bad one, and check the
# page's worked example byte for byte.
load helpers

TOOL="$SPSC_BUILDDIR/t/unit/atomtool"
# The inline scripts import atomread from the source tree: leave no
# __pycache__ there (it may be read-only, as under make distcheck).
export PYTHONDONTWRITEBYTECODE=1

atomread() {
	python3 "$SPSC_SRCDIR/t/atomread.py" "$@"
}

# poke FILE OFFSET BYTE: overwrite one byte in place.
poke() {
	printf "\\x$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# restamp FILE OFFSET BYTE: poke a header byte of the first frame (H = 64)
# and recompute the header CRC, so that only the later checks can object.
restamp() {
	poke "$1" "$2" "$3"
	python3 - "$1" <<'PY'
import struct, sys, os
sys.path.insert(0, os.path.join(os.environ["SPSC_SRCDIR"], "t"))
from atomread import crc32c
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
struct.pack_into("<I", data, 60, crc32c(bytes(data[:60])))
open(path, "wb").write(data)
PY
}

# craft FILE PAYLOAD CODEC: one frame around an arbitrary payload with both
# CRCs right, for the checks that come after them.
craft() {
	python3 - "$@" <<'PY'
import struct, sys, os
sys.path.insert(0, os.path.join(os.environ["SPSC_SRCDIR"], "t"))
from atomread import crc32c
path, payload, codec = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
hdr = bytearray(64)
hdr[0:4] = b"SPSC"
hdr[4], hdr[5] = 1, codec
struct.pack_into("<H", hdr, 6, 64)
struct.pack_into("<IIII", hdr, 32, payload.count(b"\n"), 0, len(payload), len(payload))
struct.pack_into("<I", hdr, 56, crc32c(payload))
struct.pack_into("<I", hdr, 60, crc32c(bytes(hdr[:60])))
open(path, "wb").write(bytes(hdr) + payload)
PY
}

# both_refuse FILE MESSAGE [OPTIONS]: the C reader and the Python reader
# both stop with "stdin: byte N: MESSAGE" and exit 1.
both_refuse() {
	local file=$1 msg=$2
	shift 2
	run "$TOOL" decode "$@" < "$file"
	[ "$status" -eq 1 ] || { echo "C reader: $status $output"; return 1; }
	[[ "$output" == *"error: stdin: $msg"* ]] || { echo "C reader: $output"; return 1; }
	run atomread "$@" < "$file"
	[ "$status" -eq 1 ] || { echo "atomread: $status $output"; return 1; }
	[[ "$output" == *"atomread: stdin: $msg"* ]] || { echo "atomread: $output"; return 1; }
}

@test "the reference reader decodes what libcommon writes, field by field" {
	printf 'alpha\nbeta\ngamma\n' |
		"$TOOL" encode -n 2 --name demo --created 1700000000123456789 \
			--attempt 2 --fail 1:42 > f.atoms
	run atomread f.atoms
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	[[ "${lines[0]}" == "atom id="[0-9a-f]*" created_ns=1700000000123456789 events=2 attempt=2 fail=exit:42 raw=11 | offset=0 header_len=64 codec=raw stored=11 "* ]]
	[ "${lines[1]}" = "	alpha" ]
	[ "${lines[2]}" = "	beta" ]
	[[ "${lines[3]}" == *" events=1 attempt=2 fail=exit:42 raw=6 | offset=75 "* ]]
	[ "${lines[4]}" = "	gamma" ]
	# The atom-level half of every header line is what libcommon read.
	"$TOOL" decode < f.atoms > c.txt
	atomread f.atoms | sed 's/ | .*//' > py.txt
	cmp c.txt py.txt
}

@test "the worked example in spsc-atom(5) is what libcommon writes" {
	sed -n '/^\$ od \\-A d \\-t x1 demo.atoms$/,/^\.fi$/p' "$SPSC_SRCDIR/man/spsc-atom.5" |
		sed '1d;$d' > page.txt
	[ "$(wc -l < page.txt)" -eq 5 ]
	printf 'a\nb\n' | "$TOOL" encode --name demo --created 1700000000123456789 > demo.atoms
	od -A d -t x1 demo.atoms | sed '$d' > real.txt
	diff page.txt real.txt
	run atomread --headers demo.atoms
	[ "$output" = "atom id=27249927bb7c610c5bc21bfb190d46d9 created_ns=1700000000123456789 events=2 attempt=0 fail=none:0 raw=4 | offset=0 header_len=64 codec=raw stored=4 payload_crc=0x52a4fb0b header_crc=0x6088d5d1" ]
}

@test "the Python writer's frames are byte-identical to libcommon's" {
	seq 1 25 > in.txt
	"$TOOL" encode -n 10 --name n --label ./in.txt --created 77 < in.txt > c.atoms
	atomread --write -n 10 --name n --label ./in.txt --created 77 < in.txt > py.atoms
	cmp c.atoms py.atoms
}

@test "zstd payloads decode to the exact events, and compression pays" {
	for i in $(seq 1 300); do echo "the same log line again, number $((i % 3))"; done > in.txt
	"$TOOL" encode -n 100 -z 3 < in.txt > z.atoms
	[ "$(stat -c %s z.atoms)" -lt "$(($(stat -c %s in.txt) / 4))" ]
	run atomread --headers z.atoms
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == *" events=100 "*" codec=zstd "* ]]
	atomread --events z.atoms | cmp - in.txt
}

@test "the C reader decodes the Python writer's frames: zstd, extensions, odd bytes" {
	printf 'tab\there\r\nnul\0byte\n\xff\xfe not utf-8\n\n' > in.txt
	atomread --write -n 2 --zstd --zstd-always --header-len 100 --attempt 5 \
		--fail 3:0 --created 123 < in.txt > py.atoms
	run atomread --headers py.atoms
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"events=2 attempt=5 fail=timeout:0 "*"header_len=100 codec=zstd"* ]]
	"$TOOL" decode < py.atoms > c.txt
	atomread py.atoms | sed 's/ | .*//' > py.txt
	cmp c.txt py.txt
	spsc-sink < py.atoms | cmp - in.txt
}

# The times of the version 2 example in spsc-atom(5): events at
# 2023-11-14T22:13:20Z and half a second later, the producer's watermark
# ten seconds behind.
V2_TIMES=1700000000000000000,1700000000500000000
V2_WM=1699999990000000000

@test "version 2: the reference reader prints the event times libcommon writes" {
	printf 'alpha\nbeta\ngamma\n' |
		"$TOOL" encode -n 2 --name demo --created 1700000000123456789 \
			--times "$V2_TIMES" --wm "$V2_WM" > f.atoms
	run atomread --headers f.atoms
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == *" raw=11 tmin=1700000000000000000 tmax=1700000000500000000 wm=1699999990000000000 | offset=0 header_len=88 codec=raw stored=11 "* ]]
	[[ "${lines[1]}" == *" raw=6 tmin="*" | offset=99 header_len=88 "* ]]
	[ "$(headers f.atoms | field wm | sort -u)" = "1699999990000000000" ]
	"$TOOL" decode < f.atoms > c.txt
	atomread f.atoms | sed 's/ | .*//' > py.txt
	cmp c.txt py.txt
	# Unknown and end-of-input times are INT64_MIN and INT64_MAX.
	printf 'x\n' | "$TOOL" encode --times none,none --wm end > end.atoms
	[[ "$(atomread --headers end.atoms)" == *" raw=2 tmin=none tmax=none wm=end | "*"header_len=88 "* ]]
	[ "$(od -A n -t x1 -j 60 -N 24 end.atoms | tr -d ' \n')" = "$(printf '%s' 0000000000000080 0000000000000080 ffffffffffffff7f)" ]
}

@test "version 2: the worked example in spsc-atom(5) is what libcommon writes" {
	sed -n '/^\$ od \\-A d \\-t x1 timed.atoms$/,/^\.fi$/p' "$SPSC_SRCDIR/man/spsc-atom.5" |
		sed '1d;$d' > page.txt
	[ "$(wc -l < page.txt)" -eq 6 ]
	printf 'a\nb\n' | "$TOOL" encode --name demo --created 1700000000123456789 \
		--times "$V2_TIMES" --wm "$V2_WM" > timed.atoms
	od -A d -t x1 timed.atoms | sed '$d' > real.txt
	diff page.txt real.txt
	run atomread --headers timed.atoms
	[ "$output" = "atom id=27249927bb7c610c5bc21bfb190d46d9 created_ns=1700000000123456789 events=2 attempt=0 fail=none:0 raw=4 tmin=1700000000000000000 tmax=1700000000500000000 wm=1699999990000000000 | offset=0 header_len=88 codec=raw stored=4 payload_crc=0x52a4fb0b header_crc=0x93ecb639" ]
}

@test "version 2: the Python writer's frames are byte-identical to libcommon's" {
	seq 1 25 > in.txt
	"$TOOL" encode -n 10 --name n --label ./in.txt --created 77 \
		--times "$V2_TIMES" --wm "$V2_WM" < in.txt > c.atoms
	atomread --write -n 10 --name n --label ./in.txt --created 77 \
		--tmin "${V2_TIMES%,*}" --tmax "${V2_TIMES#*,}" --wm "$V2_WM" < in.txt > py.atoms
	cmp c.atoms py.atoms
	# A frame that carries only a watermark is version 2 as well.
	"$TOOL" encode --name n --wm end < in.txt > c.atoms
	atomread --write --name n --wm end < in.txt > py.atoms
	[ "$(head -c 5 py.atoms | tail -c 1 | od -A n -t u1 | tr -d ' ')" -eq 2 ]
	cmp c.atoms py.atoms
}

@test "version 2: a frame from the independent writer is read by libcommon, spsc-sink and spsc-op" {
	printf 'tab\there\nnul\0byte\nlast\n' > in.txt
	# Extension bytes after the event times, zstd, a late-events stamp:
	# every reader skips to H-4 and finds the header CRC there.
	atomread --write -n 2 --zstd --zstd-always --header-len 120 --fail 8:2 \
		--tmin -5 --tmax end --wm none < in.txt > py.atoms
	run atomread --headers py.atoms
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *" fail=late:2 raw="*" tmin=-5 tmax=end wm=none | offset=0 header_len=120 codec=zstd "* ]]
	"$TOOL" decode < py.atoms > c.txt
	atomread py.atoms | sed 's/ | .*//' > py.txt
	cmp c.txt py.txt
	spsc-sink < py.atoms | cmp - in.txt
	spsc-op -- cat < py.atoms | events | cmp - in.txt
	# A version 2 header shorter than its three times is refused.
	atomread --write --wm 1 < in.txt > short.atoms
	python3 - short.atoms <<'PY'
import os, struct, sys
sys.path.insert(0, os.path.join(os.environ["SPSC_SRCDIR"], "t"))
from atomread import crc32c
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
# H = 84: the watermark's last bytes become the header CRC.
struct.pack_into("<H", data, 6, 84)
struct.pack_into("<I", data, 80, crc32c(bytes(data[:80])))
open(path, "wb").write(data[:84] + data[88:])
PY
	both_refuse short.atoms "byte 0: bad header length 84"
}

@test "version 2: spsc-source --time writes frames the reference reader reads" {
	printf '{"ts":1700000004}\n{"ts":1700000000}\n{"ts":1700000012}\n' > in.json
	spsc-source --time .ts --lateness 5s -n 2 in.json > t.atoms
	run atomread --headers t.atoms
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == *" events=2 "*" tmin=1700000000000000000 tmax=1700000004000000000 wm=1699999999000000000 | offset=0 header_len=88 "* ]]
	[[ "${lines[1]}" == *" events=1 "*" tmin=1700000012000000000 tmax=1700000012000000000 wm=1700000007000000000 | "*" header_len=88 "* ]]
	"$TOOL" decode < t.atoms > c.txt
	atomread t.atoms | sed 's/ | .*//' > py.txt
	cmp c.txt py.txt
	spsc-sink < t.atoms | cmp - in.json
	# Without --time the source writes version 1 frames, as it always did.
	spsc-source -n 2 in.json | headers | field header_len | sort -u | grep -qx 64
}

@test "an atom with no events is a valid frame" {
	atomread --write --empty-atom < /dev/null > empty.atoms
	[ "$(stat -c %s empty.atoms)" -eq 64 ]
	run atomread empty.atoms
	[ "$status" -eq 0 ]
	[[ "$output" == *" events=0 attempt=0 fail=none:0 raw=0 | offset=0 header_len=64 codec=raw stored=0 payload_crc=0x00000000 "* ]]
}

@test "the C reader takes an atom with no events" {
	atomread --write --empty-atom < /dev/null > empty.atoms
	run "$TOOL" decode < empty.atoms
	[ "$status" -eq 0 ]
	[[ "$output" == *" events=0 attempt=0 fail=none:0 raw=0" ]]
}

@test "the Python CRC32C, hash64 and ids match the page's vectors and libcommon's" {
	run python3 - <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["SPSC_SRCDIR"], "t"))
from atomread import crc32c, hash64, source_id, child_id, command_salt
assert crc32c(b"123456789") == 0xE3069283
assert crc32c(b"") == 0
assert hash64(b"", 0) == 0
assert hash64(b"a", 0) == 0x6979C75F71F5B8A9
assert hash64(b"123456789", 0) == 0x0E6C1A6B94A46C28
assert hash64(b"123456789", 42) == 0x33C9561789D4667A
assert hash64(b"0123456789abcdef0", 42) == 0x976A27040101981F
assert source_id(b"logs", b"app.log", 0, 0xE3069283, 9).hex() == "178987c521fa3ae7283cfa34a64a3e02"
empty = source_id(b"", b"", 0, 0, 0)
assert empty.hex() == "72d5760c7b25b54445394b84e60c6df7"
assert child_id(empty, 7, 3).hex() == "00d7489ec69653c19e8343a9262fb814"
assert command_salt([b"grep", b"-F", b"ERROR"]) == 0x29BF93586B6F5689
print("vectors ok")
PY
	[ "$status" -eq 0 ]
	[ "$output" = "vectors ok" ]
}

@test "ids follow the derivation in the page, long labels included" {
	seq 1 50 | "$TOOL" encode -n 7 --name demo --label in.txt > f.atoms
	run atomread --check-ids demo in.txt --headers f.atoms
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 8 ]
	label=$(printf 'dir/%.0s' $(seq 1 200))file.txt
	seq 1 5 | "$TOOL" encode -n 2 --name "$(printf 'n%.0s' $(seq 1 300))" --label "$label" > long.atoms
	atomread --check-ids "$(printf 'n%.0s' $(seq 1 300))" "$label" --headers long.atoms
	run atomread --check-ids other in.txt f.atoms
	[ "$status" -eq 1 ]
	[[ "$output" == "atomread: f.atoms: byte 0: id "*", but spsc-atom(5) derives "* ]]
}

@test "the header CRC is checked independently: one flipped bit is caught" {
	printf 'a\nb\n' | "$TOOL" encode -n 1 > f.atoms
	poke f.atoms $((66 + 30)) ff
	run atomread f.atoms
	[ "$status" -eq 1 ]
	[ "${lines[0]%% | *}" = "$("$TOOL" decode < f.atoms 2>/dev/null | head -1)" ]
	[ "${lines[1]}" = "	a" ]
	[ "${lines[2]}" = "atomread: f.atoms: byte 66: header CRC mismatch" ]
	both_refuse f.atoms "byte 66: header CRC mismatch"
}

@test "the payload CRC is checked independently, before zstd sees the bytes" {
	printf 'a\nb\n' | "$TOOL" encode -n 1 > f.atoms
	poke f.atoms $((66 + 64)) 63
	both_refuse f.atoms "byte 66: payload CRC mismatch"
	seq 1 1000 | "$TOOL" encode -z 3 > z.atoms
	poke z.atoms 100 00
	both_refuse z.atoms "byte 0: payload CRC mismatch"
}

@test "every check in the page's table: both readers agree on the message" {
	printf 'a\nb\n' | "$TOOL" encode > good.atoms

	cp good.atoms f; poke f 0 58
	both_refuse f "byte 0: not an atom frame (bad magic 58 50 53 43)"
	cp good.atoms f; poke f 4 03
	both_refuse f "byte 0: unknown frame version 3 (this reader knows 1 to 2)"
	# A version 2 header holds the event times: 88 bytes at least.
	cp good.atoms f; poke f 4 02
	both_refuse f "byte 0: bad header length 64"
	cp good.atoms f; poke f 6 3f
	both_refuse f "byte 0: bad header length 63"
	cp good.atoms f; poke f 7 10
	both_refuse f "byte 0: bad header length 4160"
	cp good.atoms f; restamp f 5 02
	both_refuse f "byte 0: unknown codec 2"
	cp good.atoms f; restamp f 44 03
	both_refuse f "byte 0: raw frame with stored length 4 != raw length 3"
	both_refuse good.atoms "byte 0: frame of 4 bytes is over the size limit of 3 bytes" --max-atom 3
	head -c 5 good.atoms > f
	both_refuse f "byte 0: truncated frame header (5 bytes at end of input)"
	head -c 30 good.atoms > f
	both_refuse f "byte 0: truncated frame header (30 bytes at end of input)"
	head -c 66 good.atoms > f
	both_refuse f "byte 0: truncated frame: header promises 4 payload bytes, input ends after 2"
	craft f 'a
b' 0
	both_refuse f "byte 0: payload does not end with a newline"
	craft f 'a
b
' 1
	both_refuse f "byte 0: bad zstd payload"
}

@test "a wrong event count is caught by the reference reader" {
	printf 'a\nb\n' | "$TOOL" encode > f.atoms
	restamp f.atoms 32 03
	run atomread f.atoms
	[ "$status" -eq 1 ]
	[ "$output" = "atomread: f.atoms: byte 0: header counts 3 events, payload holds 2" ]
}

@test "atoms before a bad frame are delivered, and a clean end is no error" {
	seq 1 6 | "$TOOL" encode -n 2 > f.atoms
	run atomread --events f.atoms
	[ "$status" -eq 0 ]
	[ "$output" = "$(seq 1 6)" ]
	head -c $((2 * 68 + 10)) f.atoms > torn.atoms
	run atomread --events torn.atoms
	[ "$status" -eq 1 ]
	[ "$output" = "$(printf '1\n2\n3\n4\natomread: torn.atoms: byte 136: truncated frame header (10 bytes at end of input)')" ]
	run atomread < /dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

# spsc-source is the real writer; until it writes frames these are skipped.
source_writes_frames() {
	printf 'x\n' | spsc-source -n 1 2>/dev/null | head -c 4 | grep -q '^SPSC$'
}

@test "spsc-source | atomread.py prints the events and the header fields" {
	source_writes_frames || skip "spsc-source does not write frames yet"
	printf 'a\nb\n' | spsc-source -n 1 > f.atoms
	run atomread f.atoms
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[0]}" == "atom id="*" events=1 attempt=0 fail=none:0 raw=2 | offset=0 header_len=64 codec=raw stored=2 "* ]]
	[ "${lines[1]}" = "	a" ]
	[[ "${lines[2]}" == *" raw=2 | offset=66 "* ]]
	[ "${lines[3]}" = "	b" ]
	# created-at is the wall clock in ns: within a minute of now.
	now=$(date +%s)
	created=$(sed -n 's/.* created_ns=\([0-9]*\) .*/\1/p' <<< "${lines[0]}")
	[ $((created / 1000000000 - now)) -le 1 ]
	[ $((now - created / 1000000000)) -le 60 ]
}

@test "spsc-source's ids are the page's derivation: name, label, ordinal, CRC, length" {
	source_writes_frames || skip "spsc-source does not write frames yet"
	seq 1 10 > in.txt
	spsc-source --name demo -n 3 ./in.txt > file.atoms
	run atomread --check-ids demo ./in.txt --headers file.atoms
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	spsc-source -n 3 < in.txt > stdin.atoms
	atomread --check-ids spsc-source - --headers stdin.atoms
	run atomread --check-ids demo - stdin.atoms
	[ "$status" -eq 1 ]
}

@test "spsc-source -z frames decode in the reference reader" {
	source_writes_frames || skip "spsc-source does not write frames yet"
	seq 1 20000 > in.txt
	spsc-source -z -n 5000 in.txt > z.atoms
	run atomread --headers z.atoms
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[0]}" == *" codec=zstd "* ]]
	atomread --events z.atoms | cmp - in.txt
}

# op_derives FILE_IN FILE_OUT WORD...: every output atom i of the input atom
# at the same position has the id the page derives from the parent's id, the
# salt of WORD... and ordinal 0, and keeps the parent's created-at.
op_derives() {
	python3 - "$@" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["SPSC_SRCDIR"], "t"))
from atomread import read_frame, child_id, command_salt

def atoms(path):
    with open(path, "rb") as f:
        out = []
        while (a := read_frame(f, 64 << 20)) is not None:
            out.append(a)
        return out

ins, outs = atoms(sys.argv[1]), atoms(sys.argv[2])
salt = command_salt([w.encode() for w in sys.argv[3:]])
assert len(ins) == len(outs), (len(ins), len(outs))
for i, o in zip(ins, outs):
    assert o["id"] == child_id(i["id"], salt, 0), o["id"].hex()
    assert o["created_ns"] == i["created_ns"]
PY
}

@test "spsc-op's output ids are the page's derivation from the input ids" {
	source_writes_frames || skip "spsc-source does not write frames yet"
	printf 'a\nb\nc\nd\ne\n' | spsc-source -n 2 > in.atoms
	spsc-op -- tr a-z A-Z < in.atoms > out.atoms || skip "spsc-op does not run commands yet"
	[ "$(atomread --events out.atoms)" = "$(printf 'A\nB\nC\nD\nE')" ]
	op_derives in.atoms out.atoms tr a-z A-Z
	spsc-op --name upper -- tr a-z A-Z < in.atoms > named.atoms
	op_derives in.atoms named.atoms upper
	run op_derives in.atoms named.atoms tr a-z A-Z
	[ "$status" -ne 0 ]
}
