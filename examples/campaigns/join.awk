# join.awk: the operator of the campaigns example, a warm awk program.
#
#   spsc-op --warm -- mawk -W interactive -v ads=ads.tsv -f join.awk
#   spsc-op --warm -- awk -v ads=ads.tsv -f join.awk      (gawk, busybox...)
#
# It loads the ad table once, when spsc-op starts it, then for each ad
# event of each atom keeps the views and prints
#
#   CAMPAIGN_ID<TAB>EVENT_TIME
#
# (the campaign of the event's ad, and its event_time as it came), and
# echoes the end-of-atom marker after each atom (spsc-op(1), WARM
# PROTOCOL).  Clicks, purchases and ads not in the table print nothing.
#
# It reads compact JSON as gen-events.awk writes it, with index() and
# substr() rather than a JSON parser, which keeps it fast enough for a
# million events a second; see README for the same join with jq, which
# takes any JSON.
#
# mawk needs -W interactive: otherwise it waits for a full 4 KB of input
# before it looks at a line, and would sit on the end of the last atom
# while spsc-op waits for its marker.  -W interactive also makes mawk's
# standard output unbuffered, a write(2) per line; so the output goes to
# "/dev/fd/1", which awk buffers like any file, and is flushed after each
# marker.  mawk opens /dev/fd/1 anew (in append mode): fine for spsc-op's
# pipe or a file of its own, but do not mix its output with other writes
# to one file.
BEGIN {
	marker = ENVIRON["SPSC_MARKER"]
	if (ads == "")
		ads = "ads.tsv"
	while ((r = (getline line < ads)) > 0) {
		tab = index(line, "\t")
		campaign[substr(line, 1, tab - 1)] = substr(line, tab + 1)
	}
	if (r < 0) {
		print "join.awk: cannot read the ad table " ads >"/dev/stderr"
		exit 1
	}
	close(ads)
	out = "/dev/fd/1"
}

$0 == marker { print >>out; fflush(out); next }

# A view has "event_type":"view".  index() finds a pattern's first
# character, then compares the rest there, so a pattern that starts with a
# quote stops at each of a line's 30 quotes; "view\"" starts with a letter
# that the hex ids lack, and most events (clicks, purchases) have none.
# Where it is found, the text before it must be "event_type":", or else
# the line is searched for the whole member.
{
	i = index($0, "view\"")
	if (i == 0)
		next
	if (substr($0, i - 14, 14) != "\"event_type\":\"" &&
	    !index($0, "\"event_type\":\"view\""))
		next
	i = index($0, "\"ad_id\":\"")
	if (i == 0)
		next
	ad = substr($0, i + 9)
	ad = substr(ad, 1, index(ad, "\"") - 1)
	if (!(ad in campaign))
		next
	i = index($0, "\"event_time\":")
	if (i == 0)
		next
	t = substr($0, i + 13)
	if (substr(t, 1, 1) == "\"")	# the benchmark's original form: a string
		t = substr(t, 2, index(substr(t, 2), "\"") - 1)
	else if ((i = index(t, ",")) > 0 || (i = index(t, "}")) > 0)
		t = substr(t, 1, i - 1)
	print campaign[ad] "\t" t >>out
}
