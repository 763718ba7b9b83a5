# gen-log.awk: writes app.log, the log-filtering example's input.
#
#   awk -f gen-log.awk > app.log
#
# 300 logfmt records from a made-up web service, one of them (line 127)
# deliberately poisonous.  Park-Miller random numbers (exact in any awk's
# doubles) keep the file the same everywhere; app.log is bundled anyway so
# that it can be read without running anything.
function next_random() {
	state = (state * 16807) % 2147483647
	return state
}

BEGIN {
	state = 4242
	nh = split("web01 web02 web03 api01", host)
	np = split("/ /login /api/items /api/items/42 /api/cart /api/checkout /static/app.js", path)
	nw = split("slow upstream|retrying payment gateway|cache miss storm|disk 85% full", warn, "|")
	ne = split("upstream timeout|payment declined by gateway|database connection reset|template render failed", err, "|")
	t = 36000
	for (i = 1; i <= 300; i++) {
		t += 1 + next_random() % 9
		stamp = sprintf("2026-11-03T%02d:%02d:%02dZ", int(t / 3600), int(t / 60) % 60, t % 60)
		h = host[next_random() % nh + 1]
		r = next_random() % 100
		if (i == 127) {
			printf "%s host=%s level=POISON msg=\"\\x00\\xff record the filter cannot parse\"\n", stamp, h
		} else if (r < 8) {
			printf "%s host=%s level=error status=%d msg=\"%s\"\n", stamp, h,
			    500 + next_random() % 4, err[next_random() % ne + 1]
		} else if (r < 20) {
			printf "%s host=%s level=warn msg=\"%s\"\n", stamp, h, warn[next_random() % nw + 1]
		} else {
			printf "%s host=%s level=info status=%d msg=\"GET %s\" ms=%d\n", stamp, h,
			    r < 95 ? 200 : 304, path[next_random() % np + 1], 2 + next_random() % 180
		}
	}
}
