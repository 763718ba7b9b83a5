# genlines.awk: benchmark input for bench/pipe.
#
#   awk -v lines=N [-v seed=S] -f bench/genlines.awk > FILE
#
# Writes N log-like lines of exactly 99 characters plus '\n' (100 bytes an
# event, so a 1000-event atom is exactly 100000 bytes).  The fields vary
# from line to line so that no stage gains from repeated input, yet the
# output depends only on N, the seed and the awk in use; the benchmark
# needs realistic bytes, not a reproducible file.
BEGIN {
	if (lines == "")
		lines = 1000
	srand(seed == "" ? 1 : seed)
	nm = split("GET POST PUT DELETE GET GET POST HEAD", method)
	nl = split("INFO INFO INFO INFO WARN ERROR DEBUG INFO", level)
	nh = split("web01 web02 web03 api01 api02 db01 cache01 edge01", host)
	filler = "the quick brown fox jumps over the lazy dog while " \
	    "pack my box with five dozen liquor jugs and sphinx of black " \
	    "quartz judge my vow as the five boxing wizards jump quickly"
	for (i = 0; i < lines; i++) {
		r = int(rand() * 16777216)
		head = sprintf("%010d %s %-5s %s /api/v%d/items/%07d %d %dms ",
		    i, host[r % nh + 1], level[int(r / 8) % nl + 1],
		    method[int(r / 64) % nm + 1], int(r / 512) % 3 + 1,
		    r % 9999991, 200 + int(r / 1536) % 4 * 100,
		    int(r / 6144) % 997)
		print head substr(filler, r % 61 + 1, 99 - length(head))
	}
}
