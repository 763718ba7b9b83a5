# Shared set-up for the bats files: a private temp dir per test, removed
# afterwards, and the freshly built programs first on PATH.

setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/spsc-test.XXXXXX")
	cd "$TMP" || return 1
}

teardown() {
	cd / && rm -rf "$TMP"
}

# Frames by hand, through t/atomread.py (the reader written from
# spsc-atom(5)):
#   atoms [OPTIONS]   frame the lines on stdin into atoms
#   events [FILE]     the events of a stream of atoms, byte for byte
#   headers [FILE]    one line per atom, "atom id=... created_ns=... | frame"
#   field NAME        the value of NAME=... in each header line on stdin
atoms() {
	python3 "$SPSC_SRCDIR/t/atomread.py" --write "$@"
}

events() {
	python3 "$SPSC_SRCDIR/t/atomread.py" --events "$@"
}

headers() {
	python3 "$SPSC_SRCDIR/t/atomread.py" --headers "$@"
}

field() {
	sed -n "s/.* $1=\\([^ ]*\\).*/\\1/p"
}
