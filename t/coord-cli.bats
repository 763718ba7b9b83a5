#!/usr/bin/env bats
# spsc-coord's command line, and its two pages in step with the code:
# spsc-coord(1) with --help, spsc-protocol(7) with the protocol and log
# format the sources define.  Nothing here needs a running coordinator.
load helpers

PAGE="$SPSC_SRCDIR/man/spsc-coord.1"
PROTO="$SPSC_SRCDIR/man/spsc-protocol.7"

# present PAGE WORD...: fails naming the first WORD that PAGE lacks.
present() {
	local page=$1 word
	shift
	for word in "$@"; do
		grep -qF -- "$word" "$page" || { echo "${page##*/}: '$word' is missing"; return 1; }
	done
}

@test "spsc-coord --help prints usage on stdout and exits 0" {
	run spsc-coord --help
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "Usage: spsc-coord COMMAND"* ]]
	[ -z "$(spsc-coord --help 2>&1 >/dev/null)" ]
}

@test "spsc-coord --version names the program and the package version" {
	run spsc-coord --version
	[ "$status" -eq 0 ]
	[[ "$output" == "spsc-coord (spsc) "[0-9]* ]]
}

@test "spsc-coord: an unknown option, command or no command is a usage error" {
	run spsc-coord --no-such-option
	[ "$status" -eq 2 ]
	[[ "$output" == *"Try 'spsc-coord --help'"* ]]
	run spsc-coord frobnicate q
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown command 'frobnicate'"* ]]
	run spsc-coord
	[ "$status" -eq 2 ]
	[[ "$output" == *"missing command"* ]]
}

@test "every long option in spsc-coord --help is documented in spsc-coord(1)" {
	[ -f "$PAGE" ]
	for opt in $(spsc-coord --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		# roff escapes the dashes: \-\-name
		esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
		grep -q -- "$esc" "$PAGE" || { echo "$opt is missing from spsc-coord.1"; return 1; }
	done
}

@test "every command in spsc-coord --help has its entry in COMMANDS" {
	cmds=$(spsc-coord --help | sed -n '/^Commands:/,/^$/p' | grep -E '^  [a-z]' | awk '{print $1}')
	[ "$(echo "$cmds" | wc -w)" -ge 9 ]
	section=$(sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$PAGE")
	for c in $cmds; do
		grep -qE "^\.B[IR]? \"?$c( |\"|$)" <<<"$section" || { echo "no entry for $c"; return 1; }
	done
}

@test "the defaults in spsc-coord --help are the ones spsc-coord(1) gives" {
	spsc-coord --help > help.txt
	python3 - "$PAGE" help.txt <<-'EOF'
	import re, sys
	page, help_text = open(sys.argv[1]).read(), open(sys.argv[2]).read()
	plain = re.sub(r'\\f[BIRP]|\\&', '', page).replace('\\-', '-')
	# Each option's entry: from its .TP tag to the next .TP, .SS or .SH.
	entries = {}
	for m in re.finditer(r'\n\.TP\n\.B[IR]? (-[^\n]*)\n(.*?)(?=\n\.(?:TP|SS|SH)\b)', plain, re.S):
	    for opt in re.findall(r'--[a-z-]+', m.group(1)):
	        entries.setdefault(opt, m.group(2))
	bad = 0
	for line in help_text.splitlines():
	    m = re.search(r'(--[a-z-]+).*\(default:? ([^ ,)]+)', line)
	    if not m:
	        continue
	    opt, value = m.groups()
	    if opt not in entries or value not in entries[opt]:
	        print("%s: --help says default %s; spsc-coord.1 does not" % (opt, value))
	        bad = 1
	sys.exit(bad)
	EOF
}

@test "every environment variable the coordinator and its clients read is in spsc-coord(1)" {
	cd "$SPSC_SRCDIR"
	vars=$(grep -ohE 'getenv\("SPSC_[A-Z_]+"\)' cmd/spsc-coord/*.c libcommon/home.c \
		libcommon/qclient.c libcommon/curvekey.c libcommon/log.c | grep -oE 'SPSC_[A-Z_]+' | sort -u)
	[ "$(echo "$vars" | wc -w)" -ge 7 ]
	section=$(sed -n '/^\.SH ENVIRONMENT/,/^\.SH /p' "$PAGE")
	for v in $vars; do
		grep -qx "\.B $v" <<<"$section" || { echo "$v is not in ENVIRONMENT"; return 1; }
	done
}

@test "every key of status --json is explained in spsc-coord(1) STATUS" {
	cd "$SPSC_SRCDIR"
	keys=$(grep -ohE 'cJSON_Add(Number|String|Array)ToObject\([a-z]+, "[a-z_]+"' \
		cmd/spsc-coord/manage.c | grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
	[ "$(echo "$keys" | wc -w)" -ge 20 ]
	section=$(sed -n '/^\.SH STATUS/,/^\.SH /p' "$PAGE")
	for k in $keys; do
		grep -qE "^$k	" <<<"$section" || { echo "$k is not in STATUS"; return 1; }
	done
}

@test "every operation and status code of the protocol is specified in spsc-protocol(7)" {
	[ -f "$PROTO" ]
	proto_c="$SPSC_SRCDIR/libcommon/proto.c"
	ops=$(sed -n '/op_names\[OP_COUNT\]/,/};/p' "$proto_c" | grep -oE '"[A-Z]+"' | tr -d '"')
	codes=$(sed -n '/status_names\[ST_COUNT\]/,/};/p' "$proto_c" | grep -oE '"[A-Z]+"' | tr -d '"')
	[ "$(echo "$ops" | wc -w)" -eq 13 ]
	[ "$(echo "$codes" | wc -w)" -ge 11 ]
	# HEADERS lists them all, after ".I OP" and ".I STATUS".
	listed_ops=$(sed -n '/^\.I OP$/,/^\.TP$/p' "$PROTO")
	listed_codes=$(sed -n '/^\.I STATUS$/,/^\.TP$/p' "$PROTO")
	for op in $ops; do
		grep -qx "\.SS $op" "$PROTO" || { echo "no section for $op"; return 1; }
		grep -qw "$op" <<<"$listed_ops" || { echo "$op is not listed in HEADERS"; return 1; }
	done
	table=$(sed -n '/^\.SH "STATUS CODES"/,/^\.TE/p' "$PROTO")
	for st in $codes; do
		grep -qE "^$st	" <<<"$table" || { echo "no row for $st"; return 1; }
		grep -qw "$st" <<<"$listed_codes" || { echo "$st is not listed in HEADERS"; return 1; }
	done
}

@test "every request and reply key the coordinator uses is in spsc-protocol(7)" {
	cd "$SPSC_SRCDIR"
	keys=$(grep -hE 'proto_(get|set|has)|reply_counts' cmd/spsc-coord/ops.c \
		cmd/spsc-coord/manage.c cmd/spsc-coord/produce.c libcommon/endpoint_queue.c |
		grep -oE '"[a-z_]+"' | tr -d '"' | sort -u)
	[ "$(echo "$keys" | wc -w)" -ge 20 ]
	plain=$(sed -e 's/\\f[BIRP]//g' "$PROTO")
	for k in $keys; do
		grep -qF -- "$k=" <<<"$plain" || { echo "key $k is not in spsc-protocol.7"; return 1; }
	done
}

@test "the limits of libcommon/proto.h are the ones spsc-protocol(7) states" {
	h="$SPSC_SRCDIR/libcommon/proto.h"
	grep -q '^#define PROTO_HEADER_MAX 1024$' "$h"
	grep -q '^#define PROTO_KV_MAX 12$' "$h"
	grep -q '^#define PROTO_PARTS_MAX 4096$' "$h"
	grep -q '^#define RECEIPT_WIRE 20$' "$h"
	present "$PROTO" 'header	1024 bytes' 'KEY=VALUE words	12 per header' \
		'4096, the header included' 'A receipt is 20 bytes:'
}

@test "the log format of cmd/spsc-coord/segment.h is the one spsc-protocol(7) states" {
	src="$SPSC_SRCDIR/cmd/spsc-coord"
	types=$(grep -oE 'REC_[A-Z]+ = [0-9]+' "$src/segment.h" | sed -E 's/REC_([A-Z]+) = ([0-9]+)/\2 \1/' |
		paste -sd, | sed 's/,/, /g')
	[ "$types" = "1 PUT, 2 ACK, 3 RECV, 4 PURGE, 5 MOVE" ]
	reasons=$(grep -oE 'ACK_[A-Z]+ = [0-9]+' "$src/segment.h" | grep -oE '[0-9]+$' | paste -sd' ')
	[ "$reasons" = "0 1 2 3 4" ]
	grep -q '^#define RECORD_HEAD 16' "$src/segment.h"
	grep -q '^#define RECORD_HEAD_V2 12' "$src/segment.h"
	grep -q '^#define SEGMENT_HEAD 16$' "$src/segment.h"
	grep -q '^#define RECORD_MARK 0xA75Cu$' "$src/segment.h"
	grep -q '^#define SEGMENT_MAGIC "SPSCLOG3"$' "$src/segment.h"
	grep -q '^#define SEGMENT_MAGIC_V2 "SPSCLOG2"$' "$src/segment.h"
	grep -q '^#define SEGMENT_MAGIC_V1 "SPSCLOG1"$' "$src/segment.h"
	grep -q '"%s/%020" PRIu64 ".seg"' "$src/segfile.c"
	grep -q '"%s/reuse"' "$src/segfile.c"
	present "$PROTO" "type: $types" 'magic: "SPSCLOG3" (or "SPSCLOG2", "SPSCLOG1")' \
		'record mark: 0xA75C, the bytes 5C A7' 'these 16 bytes included' \
		'16-byte header' 'sequence number in 20' '00000000000000000001.seg'
	# One entry per ACK reason in the ACK body.
	acks=$(sed -n '/^\.B 2 ACK$/,/^\.B 3 RECV$/p' "$PROTO" | grep -cE '^\.B [0-9]$')
	[ "$acks" -eq 5 ]
}

@test "spsc-coord(1) and spsc-protocol(7) are installed with the other pages" {
	grep -qE '^dist_man_MANS \+=.* man/spsc-coord\.1( |$)' "$SPSC_SRCDIR/man/local.mk"
	grep -qE '^dist_man_MANS \+=.* man/spsc-protocol\.7( |$)' "$SPSC_SRCDIR/man/local.mk"
}

@test "spsc-coord(1) and spsc-protocol(7) format without warnings" {
	command -v groff >/dev/null || skip "groff is not installed"
	for page in "$PAGE" "$PROTO"; do
		run groff -man -t -ww -z "$page"
		[ "$status" -eq 0 ]
		[ -z "$output" ] || { echo "${page##*/}: $output"; return 1; }
	done
}
