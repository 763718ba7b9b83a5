#!/usr/bin/env bash
# Log filtering with a poisonous record: the good records come out, the one
# atom the operator keeps failing on goes to the dead-letter file, spsc-op
# exits 3, and after the fix the dead atom is replayed and a full rerun adds
# no duplicates.
#
# Usage: examples/logfilter/run.sh        (programs from PATH or $SPSC_BIN)
set -u
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
[ -z "${SPSC_BIN:-}" ] || PATH=$SPSC_BIN:$PATH
for p in spsc-source spsc-op spsc-sink; do
	command -v "$p" >/dev/null || { echo "run.sh: $p not found on PATH" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/spsc-logfilter.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$work" || exit 1

log=$here/app.log
filter=$here/filter.awk

# show_header FILE: the first frame's header fields (spsc-atom(5) offsets:
# events at 32, attempt at 36, failure kind at 48, failure code at 52).
show_header() {
	local events attempt kind code
	read -r events attempt < <(od -An -tu4 -j32 -N8 "$1")
	read -r kind < <(od -An -tu1 -j48 -N1 "$1")
	read -r code < <(od -An -td4 -j52 -N4 "$1")
	case $kind in
	1) kind="exit status $code" ;;
	2) kind="killed by signal $code" ;;
	3) kind="timed out" ;;
	*) kind="failure kind $kind, code $code" ;;
	esac
	printf '   header: %s events, %s attempts, failed with %s\n' \
		"$events" "$attempt" "$kind"
}

echo "1. Filter app.log ($(wc -l <"$log") records, one poisonous) in atoms of 10 records:"
# --name fixes the salt of the output ids, so that the fixed filter below
# (different arguments, same name) gives its outputs the same ids.
spsc-source -n 10 --name logfilter "$log" |
	spsc-op --name filter -r 2 --dlq ./failed.atoms -- awk -f "$filter" |
	spsc-sink ./errors.log
status=("${PIPESTATUS[@]}")
echo "   exit status: spsc-source ${status[0]}, spsc-op ${status[1]}, spsc-sink ${status[2]}"
[ "${status[1]}" = 3 ] && echo "   spsc-op says 3: the stream went on, but an atom was dead-lettered"
echo "   errors.log: $(wc -l <errors.log) error records came out:"
sed 's/^/   | /' errors.log

echo
echo "2. The poisonous atom is in ./failed.atoms, whole and unchanged:"
show_header ./failed.atoms
spsc-sink -i ./failed.atoms | sed 's/^/   | /'

echo
echo "3. Fix the filter (-v lenient=1) and replay the dead atom into errors.log:"
before=$(wc -l <errors.log)
spsc-op --name filter -i ./failed.atoms -- awk -v lenient=1 -f "$filter" |
	spsc-sink ./errors.log
echo "   exit status: spsc-op ${PIPESTATUS[0]}, spsc-sink ${PIPESTATUS[1]}"
echo "   recovered:"
tail -n +$((before + 1)) errors.log | sed 's/^/   | /'
echo "   errors.log: $(wc -l <errors.log) records; app.log has $(grep -c 'level=error' "$log") errors"

echo
echo "4. Rerun the whole fixed pipeline into errors.log: nothing is duplicated:"
spsc-source -n 10 --name logfilter "$log" |
	spsc-op --name filter -r 2 --dlq ./failed-again.atoms -- awk -v lenient=1 -f "$filter" |
	spsc-sink ./errors.log
status=("${PIPESTATUS[@]}")
echo "   exit status: spsc-source ${status[0]}, spsc-op ${status[1]}, spsc-sink ${status[2]}"
echo "   errors.log: $(wc -l <errors.log) records, $(sort -u errors.log | wc -l) distinct"
if [ -s failed-again.atoms ]; then
	echo "   failed-again.atoms holds atoms: the fix did not work"
else
	echo "   no atom was dead-lettered this time"
fi
