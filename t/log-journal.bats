#!/usr/bin/env bats
# Log lines when stderr is the journal.  systemd sets JOURNAL_STREAM to
# the "DEV:INODE" of the stream it connected to the journal (st_dev and
# st_ino in decimal, systemd.exec(5)); the programs then write
# "<N>level: message", N the syslog priority, and leave "prog[pid]" to
# journald.  Tested without systemd: stderr goes to a file, and
# JOURNAL_STREAM names that file.
load helpers

# A directory whose walk warns (a dangling link) and still succeeds.
mkdir_warns() {
	mkdir d
	echo hi > d/a.txt
	ln -s nowhere d/link
}

# stream FILE: FILE's "DEV:INODE" as systemd writes it.  stat -c %d is
# st_dev in decimal (%D would be hex) and %i st_ino: check it against
# Python's os.stat, which reports the same numbers stat(2) does.
stream() {
	local s
	s=$(stat -c '%d:%i' "$1")
	[ "$s" = "$(python3 -c 'import os,sys; s=os.stat(sys.argv[1]); print("%d:%d" % (s.st_dev, s.st_ino))' "$1")" ]
	echo "$s"
}

@test "stderr is the journal: <N>level: message, no program or pid" {
	mkdir_warns
	: > err
	s=$(stream err)
	JOURNAL_STREAM=$s spsc-source d > out.atoms 2>> err
	JOURNAL_STREAM=$s spsc-source ./missing.txt > /dev/null 2>> err || rc=$?
	[ "$rc" -eq 1 ]
	cat err
	[ "$(cat err)" = "$(printf '%s\n' \
		'<4>warning: d/link: skipped: dangling symbolic link' \
		'<3>error: ./missing.txt: cannot open: No such file or directory')" ]
}

@test "a JOURNAL_STREAM that is not our stderr leaves the usual format" {
	mkdir_warns
	: > other
	: > err
	for s in "$(stream other)" "$(stat -c '%d' err):$(($(stat -c '%i' err) + 1))" \
		"$(stream err)x" "$(stream err):1" ":$(stat -c '%i' err)" "junk"; do
		: > err
		JOURNAL_STREAM=$s spsc-source d > /dev/null 2>> err
		echo "JOURNAL_STREAM=$s: $(cat err)"
		grep -Eqx 'spsc-source\[[0-9]+\]: warning: d/link: skipped: dangling symbolic link' err
	done
}

@test "a command's stderr relayed by spsc-op goes to the journal at info, tagged with the atom" {
	printf 'x\n' | atoms > in.atoms
	id=$(headers in.atoms | field id)
	: > err
	JOURNAL_STREAM=$(stream err) spsc-op --shell -- 'cat; echo oops >&2' < in.atoms > out.atoms 2>> err
	cat err
	grep -qx "<6>$id: oops" err
	# The command inherits JOURNAL_STREAM, but its stderr is spsc-op's
	# pipe, not the journal: a program of ours run by it keeps the usual
	# format, and spsc-op's prefix says whose it is.
	: > err
	JOURNAL_STREAM=$(stream err) spsc-op --shell -- "cat; spsc-source '$TMP/nothing'; true" \
		< in.atoms > out.atoms 2>> err
	cat err
	grep -Eqx "<6>$id: spsc-source\[[0-9]+\]: error: $TMP/nothing: cannot open: No such file or directory" err
}
