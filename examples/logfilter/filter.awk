# filter.awk: the log-filtering example's operator.  It keeps the error
# records of a logfmt log and prints each as "time host status message".
#
# It has a deliberate bug: a record whose level it does not know (the one
# with level=POISON in app.log) makes it give up with exit status 70, so
# every attempt at that atom fails and spsc-op dead-letters it.  The fix is
# -v lenient=1, which skips such a record with a warning instead.
$3 !~ /^level=(info|warn|error)$/ {
	if (lenient) {
		print "filter.awk: skipping unparseable record: " $0 > "/dev/stderr"
		next
	}
	print "filter.awk: cannot parse record: " $0 > "/dev/stderr"
	exit 70
}

$3 == "level=error" {
	message = ""
	if (match($0, /msg="[^"]*"/))
		message = substr($0, RSTART + 5, RLENGTH - 6)
	print substr($1, 12, 8), substr($2, 6), substr($4, 8), message
}
