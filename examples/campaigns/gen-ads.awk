# gen-ads.awk: the campaigns example's ad table, ads.tsv, as committed.
#
#   awk -f gen-ads.awk > ads.tsv
#
# 100 campaigns of 10 ads each, as in the Yahoo Streaming Benchmark: one
# line per ad, "AD_ID<TAB>CAMPAIGN_ID", both random UUID-like ids.  The
# generator is the Park-Miller "minimal standard" (x = x * 16807 mod
# 2^31-1) rather than rand(), so that every awk writes the same table.
function rnd() {
	state = (state * 16807) % 2147483647
	return state
}

# Four draws make 32 hex digits, cut 8-4-4-4-12.
function uuid(	h, i) {
	h = ""
	# One draw a statement: awk does not say in which order it evaluates
	# the arguments of a call, or the two sides of a concatenation.
	for (i = 0; i < 4; i++)
		h = h sprintf("%08x", rnd())
	return substr(h, 1, 8) "-" substr(h, 9, 4) "-" substr(h, 13, 4) "-" \
		substr(h, 17, 4) "-" substr(h, 21, 12)
}

BEGIN {
	state = 20261130
	for (c = 1; c <= 100; c++) {
		campaign = uuid()
		for (a = 1; a <= 10; a++)
			print uuid() "\t" campaign
	}
}
