#!/usr/bin/env bats
# bench/pipe and bench/wordcount are benchmarks, not tests; this only
# checks that they still run end to end on a tiny input and report what
# they should.

load helpers

@test "bench/pipe: a tiny run verifies its outputs and prints the table" {
	run env SPSC_BIN="$SPSC_BUILDDIR" TMPDIR="$TMP" "$SPSC_SRCDIR/bench/pipe" -r 1 256k
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"verify:   case 2: 2621 lines, 262100 bytes out, as in: ok"* ]]
	[[ $output == *"verify:   case 3: 2621 lines, 262100 bytes out, as in: ok"* ]]
	for n in 1 2 3; do
		echo "$output" | grep -Eq "^$n +[a-zA-Z].* [0-9]+\.[0-9]{3} +[0-9]+ +[0-9.]+ +[0-9.]+$"
	done
	[[ $output == *"ratio 2/1 = "* ]]
	if command -v parallel >/dev/null && parallel --version | grep -q '^GNU parallel'; then
		[[ $output == *"ratio 3/4 = "* ]]
	fi
	[[ $output == *"  2  spsc-source -n 1000 "*" | spsc-op --warm -- cat | spsc-sink >/dev/null"* ]]
	# The data and logs are gone.
	[ -z "$(ls -A "$TMP")" ]
}

@test "bench/pipe: bad arguments are usage errors" {
	run "$SPSC_SRCDIR/bench/pipe" -r 0
	[ "$status" -eq 2 ]
	[[ $output == *"bad run count: 0"* ]]
	run "$SPSC_SRCDIR/bench/pipe" 12Q
	[ "$status" -eq 2 ]
	[[ $output == *"bad size: 12Q"* ]]
	run "$SPSC_SRCDIR/bench/pipe" --help
	[ "$status" -eq 0 ]
	[[ $output == Usage:* ]]
}

@test "bench/wordcount: a tiny run checks that every tool counts alike and prints the table" {
	run env SPSC_BIN="$SPSC_BUILDDIR" TMPDIR="$TMP" SPSC_BENCH_CACHE="$TMP/cache" \
		"$SPSC_SRCDIR/bench/wordcount" -r 1 -p 3 -a 64k 256k
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"counts:   sort: "*" words, "*" distinct"* ]]
	[[ $output == *"counts:   spsc: the same as sort: ok"* ]]
	for a in mawk gawk; do
		command -v "$a" >/dev/null || continue
		[[ $output == *"counts:   $a: the same as sort: ok"* ]]
		echo "$output" | grep -Eq "^$a +[0-9]+\.[0-9]{3} +[0-9.]+ +[0-9.]+x$"
	done
	echo "$output" | grep -Eq '^tr \| sort \| uniq -c +[0-9]+\.[0-9]{3} +[0-9.]+ +[0-9.]+x$'
	echo "$output" | grep -Eq '^spsc, P=3, 64k atoms +[0-9]+\.[0-9]{3} +[0-9.]+ +[0-9.]+x$'
	[[ $output == *"ratio spsc / fastest peer ("*") = "* ]]
	[[ $output == *"spsc-shuffle -k 1 -t '\\t' -p 3 -o DIR/%d"* ]]
	# The text stays in the cache, and nothing else is left.
	[ "$(ls -A "$TMP")" = cache ]
	[ "$(ls "$TMP/cache")" = "$(ls "$TMP/cache" | grep -E '^bench-wordcount-262144-[0-9]+\.txt$')" ]
	# A second run takes the text from the cache.
	run env SPSC_BIN="$SPSC_BUILDDIR" TMPDIR="$TMP" SPSC_BENCH_CACHE="$TMP/cache" \
		"$SPSC_SRCDIR/bench/wordcount" -r 1 -c sort,spsc 256k
	[ "$status" -eq 0 ]
	[[ $output == *"(cached): "* ]]
	[[ $output == *"counts:   spsc: the same as sort: ok"* ]]
}

@test "bench/wordcount: bad arguments are usage errors" {
	run "$SPSC_SRCDIR/bench/wordcount" -r 0
	[ "$status" -eq 2 ]
	[[ $output == *"bad run count: 0"* ]]
	run "$SPSC_SRCDIR/bench/wordcount" -p 0
	[ "$status" -eq 2 ]
	[[ $output == *"bad partition count: 0"* ]]
	run "$SPSC_SRCDIR/bench/wordcount" -c mawk,nope
	[ "$status" -eq 2 ]
	[[ $output == *"bad case list: mawk,nope"* ]]
	run "$SPSC_SRCDIR/bench/wordcount" 12Q
	[ "$status" -eq 2 ]
	[[ $output == *"bad size: 12Q"* ]]
	run "$SPSC_SRCDIR/bench/wordcount" --help
	[ "$status" -eq 0 ]
	[[ $output == Usage:* ]]
}

@test "bench/zipfwords.py: whole lines of 6 to 14 words, within the size, the same every time" {
	# 20 MB: several rounds of drawing, so lines cross from one to the next.
	python3 "$SPSC_SRCDIR/bench/zipfwords.py" 20000000 >a.txt
	python3 "$SPSC_SRCDIR/bench/zipfwords.py" 20000000 | cmp - a.txt
	size=$(wc -c <a.txt)
	[ "$size" -le 20000000 ] && [ "$size" -gt 19999000 ]
	[ "$(tail -c 1 a.txt | od -An -c | tr -d ' ')" = '\n' ]
	run awk 'NF < 6 || NF > 14 || /  |^ | $/ { bad++ } END { print NR, bad + 0 }' a.txt
	[ "${output#* }" = 0 ]
	# Zipf: the commonest word is about 1 in 7.4 of them, the tenth 1 in 93.
	run sh -c "tr ' ' '\n' <a.txt | sort | uniq -c | sort -rn | awk 'NR == 1 || NR == 10 { print \$1 }'"
	[ "$(echo "$output" | wc -l)" -eq 2 ]
	words=$(wc -w <a.txt)
	first=$(echo "$output" | sed -n 1p) tenth=$(echo "$output" | sed -n 2p)
	[ $((words / first)) -ge 7 ] && [ $((words / first)) -le 8 ]
	[ $((words / tenth)) -ge 85 ] && [ $((words / tenth)) -le 100 ]
}

@test "bench/campaigns: a tiny run accounts for every view and prints the table" {
	command -v python3 >/dev/null || skip "no python3"
	run env SPSC_BIN="$SPSC_BUILDDIR" TMPDIR="$TMP" "$SPSC_SRCDIR/bench/campaigns" \
		-r 1 -n 20000 --rates 5000 --seconds 1
	echo "$output"
	[ "$status" -eq 0 ]
	echo "$output" | grep -Eq '^data: +20000 events \([0-9]+ views\), [0-9]+ bytes, 1000 an atom$'
	echo "$output" | grep -Eq '^  full speed, pipes +[0-9]+\.[0-9]{2} +[0-9]+ +[0-9]+\.[0-9]{2}$'
	echo "$output" | grep -Eq '^  full speed, queues +[0-9]+\.[0-9]{2} +[0-9]+ +[0-9]+\.[0-9]{2}$'
	# One second of events closes no window before the end of the input.
	echo "$output" | grep -Eq '^  5000 +[0-9]+ +[0-9]+\.[0-9]{2} +0 +- +- +- +-$'
	echo "$output" | grep -Eq '^other processes took [0-9]+\.[0-9]% of the CPU time during the timed runs$'
	[[ $output == *"    spsc-shuffle -k 1 -t '\\t' -p 4 -o DIR/part%d"* ]]
	# The data, the servers and the logs are gone.
	[ -z "$(ls -A "$TMP")" ]
}

@test "bench/campaigns: bad arguments are usage errors" {
	run "$SPSC_SRCDIR/bench/campaigns" -r 0
	[ "$status" -eq 2 ]
	[[ $output == *"bad run count: 0"* ]]
	run "$SPSC_SRCDIR/bench/campaigns" --rates 10k
	[ "$status" -eq 2 ]
	[[ $output == *"bad --rates: 10k"* ]]
	run "$SPSC_SRCDIR/bench/campaigns" -L 5m
	[ "$status" -eq 2 ]
	[[ $output == *"bad lateness: 5m"* ]]
	run "$SPSC_SRCDIR/bench/campaigns" --help
	[ "$status" -eq 0 ]
	[[ $output == Usage:* ]]
}
