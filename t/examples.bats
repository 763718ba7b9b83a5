#!/usr/bin/env bats
# examples/: each run.sh runs for real on the freshly built programs and
# prints exactly its expected output, and leaves no file behind.

load helpers

# run_example NAME [ARG...]: runs examples/NAME/run.sh from an empty
# directory with a private TMPDIR; stdout to out, stderr to err.
run_example() {
	local name=$1
	shift
	mkdir -p cwd tmpdir
	status=0
	(cd cwd && TMPDIR=$TMP/tmpdir "$SPSC_SRCDIR/examples/$name/run.sh" "$@") \
		>out 2>err || status=$?
}

# expect_clean: the example removed its temp files and wrote nothing else.
expect_clean() {
	if [ -n "$(ls -A cwd)" ] || [ -n "$(ls -A tmpdir)" ]; then
		ls -lAR cwd tmpdir
		return 1
	fi
}

show() {
	echo "exit status $status; stderr:"
	cat err
}

@test "wordcount: prints the expected top words" {
	run_example wordcount
	[ "$status" -eq 0 ] || { show; return 1; }
	diff -u "$SPSC_SRCDIR/examples/wordcount/expected.txt" out || { show; return 1; }
	expect_clean
}

@test "wordcount: TOP sets the number of words shown" {
	run_example wordcount 3
	[ "$status" -eq 0 ] || { show; return 1; }
	[ "$(sed -n 1p out)" = "top 3 of 60225 words (141 distinct) in 6000 lines:" ]
	[ "$(sed -n 2,4p out)" = "$(sed -n 2,4p "$SPSC_SRCDIR/examples/wordcount/expected.txt")" ]
	[ "$(wc -l <out)" -eq 6 ]
}

@test "wordcount: the corpus is the same with every awk" {
	local a sums=
	for a in gawk mawk original-awk busybox; do
		command -v "$a" >/dev/null || continue
		[ "$a" = busybox ] && a="busybox awk"
		sums+="$($a -f "$SPSC_SRCDIR/examples/wordcount/gen-corpus.awk" \
			"$SPSC_SRCDIR/examples/wordcount/words.txt" | cksum) "$'\n'
	done
	[ -n "$sums" ] || skip "no awk by name"
	[ "$(printf '%s' "$sums" | sort -u | wc -l)" -eq 1 ]
}

@test "logfilter: good records out, poison atom dead-lettered, exit 3" {
	run_example logfilter
	[ "$status" -eq 0 ] || { show; return 1; }
	diff -u "$SPSC_SRCDIR/examples/logfilter/expected.txt" out || { show; return 1; }
	expect_clean
}

@test "logfilter: the operator's complaint reaches stderr" {
	run_example logfilter
	grep -q 'filter.awk: cannot parse record: .*level=POISON' err || { show; return 1; }
}

@test "logfilter: app.log is what gen-log.awk writes" {
	awk -f "$SPSC_SRCDIR/examples/logfilter/gen-log.awk" |
		cmp - "$SPSC_SRCDIR/examples/logfilter/app.log"
}
