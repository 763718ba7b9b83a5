# gen-events.awk: the ad events of the campaigns example, made on the spot.
#
#   awk [-v events=N] [-v seed=S] -f gen-events.awk ads.tsv > events.json
#
# One JSON object a line, in the shape of the Yahoo Streaming Benchmark's
# events:
#
#   {"user_id":"…","page_id":"…","ad_id":"…","ad_type":"banner",
#    "event_type":"view","event_time":1796075043502,"ip_address":"10.1.2.3"}
#
# ad_id is one of the ads of ads.tsv, event_type one of view, click and
# purchase, event_time epoch milliseconds.  The events leave the generator
# 1 to 3 ms apart (about 500 a second) from 2026-11-30T21:44:03.500Z on,
# and carry that time, except:
#   - 3 in 100 are out of order: their event_time is 0.2 to 3 s earlier,
#     less than the job's 5 s lateness, so they still count;
#   - 5 in 1000, after the first 30 s, are late: 20 to 30 s earlier, so
#     their window has closed by the time they arrive.
# The generator is the Park-Miller "minimal standard" (x = x * 16807 mod
# 2^31-1) rather than rand(), and every number stays below 2^53, so every
# awk writes the same events for the same seed.
function rnd() {
	state = (state * 16807) % 2147483647
	return state
}

function uuid(	h, i) {
	h = ""
	# One draw a statement: awk does not say in which order it evaluates
	# the arguments of a call, or the two sides of a concatenation.
	for (i = 0; i < 4; i++)
		h = h sprintf("%08x", rnd())
	return substr(h, 1, 8) "-" substr(h, 9, 4) "-" substr(h, 13, 4) "-" \
		substr(h, 17, 4) "-" substr(h, 21, 12)
}

{ ad[nads++] = $1 }

END {
	if (events == "")
		events = 30000
	if (seed == "")
		seed = 7
	state = seed
	split("banner modal sponsored-search mail mobile", adtype, " ")
	split("view click purchase", evtype, " ")
	base = 1796075043500	# 2026-11-30T21:44:03.500Z
	now = base
	for (i = 0; i < events; i++) {
		now += 1 + rnd() % 3
		t = now
		r = rnd() % 1000
		if (r < 30)
			t = now - 200 - rnd() % 2800
		else if (r < 35 && now - base >= 30000)
			t = now - 20000 - rnd() % 10000
		# One draw a statement, as in uuid().
		user = uuid()
		page = uuid()
		a = ad[rnd() % nads]
		at = adtype[1 + rnd() % 5]
		et = evtype[1 + rnd() % 3]
		ip = 1 + rnd() % 223
		ip = ip "." (rnd() % 256)
		ip = ip "." (rnd() % 256)
		ip = ip "." (1 + rnd() % 254)
		printf "{\"user_id\":\"%s\",\"page_id\":\"%s\",\"ad_id\":\"%s\"," \
			"\"ad_type\":\"%s\",\"event_type\":\"%s\",\"event_time\":%.0f," \
			"\"ip_address\":\"%s\"}\n", user, page, a, at, et, t, ip
	}
}
