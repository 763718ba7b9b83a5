# Shared set-up for the bats files: a private temp dir per test, removed
# afterwards, and the freshly built programs first on PATH.

setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/spsc-test.XXXXXX")
	cd "$TMP" || return 1
}

teardown() {
	cd / && rm -rf "$TMP"
}
