#!/usr/bin/env bash
# Ad views per campaign per 10 seconds: a job like the Yahoo Streaming
# Benchmark's, as one DAG file run by spsc.  The source cuts the generated
# ad events into atoms, a warm awk keeps the views and joins each ad to its
# campaign, the shuffle routes each campaign to one of four reducers, and
# each reducer counts its campaigns' views in 10 s event-time windows, with
# out-of-order views up to 5 s accepted and later ones set aside.  The
# stages are joined by durable queues on a private coordinator, which spsc
# starts and stops.
#
#   events.json -source-> raw -join-> views -shuffle-> bycamp.0 .. bycamp.3
#     -window x4-> counts -sink-> counts.tsv     (and late.0.atoms .. late.3.atoms)
#
# The job is campaigns.dag; this script only prepares its input in a
# temporary directory, runs `spsc run --once` there and checks the results.
#
# Usage: examples/campaigns/run.sh [SEED]   (programs from PATH or $SPSC_BIN)
set -eu -o pipefail
export LC_ALL=C

seed=${1:-7}
here=$(cd "$(dirname "$0")" && pwd)
[ -z "${SPSC_BIN:-}" ] || PATH=$SPSC_BIN:$PATH
# mawk: the DAG's join runs mawk -W interactive (see campaigns.dag).
for p in spsc spsc-coord spsc-source spsc-op spsc-shuffle spsc-reduce spsc-sink mawk python3; do
	command -v "$p" >/dev/null || { echo "run.sh: $p not found on PATH" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/spsc-campaigns.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The DAG and what it refers to by relative path, side by side: the
# stages run in the DAG file's directory.  30000 events over a minute of
# event time, the same on every machine.
cp "$here/campaigns.dag" "$here/ads.tsv" "$here/join.awk" "$work/"
awk -v seed="$seed" -f "$here/gen-events.awk" "$here/ads.tsv" >"$work/events.json"

# A coordinator of the DAG's own, with its state in $work.
export SPSC_HOME="$work/state"
unset SPSC_COORD
spsc run --once "$work/campaigns.dag" 2>"$work/spsc.log" || {
	status=$?
	cat "$work/spsc.log" >&2
	echo "run.sh: spsc run --once exited $status" >&2
	exit 1
}
# What the reducers said about the late views, for stderr: "window.P |
# spsc-reduce: N late events (behind the watermark) went to ./late.P.atoms".
grep -F 'late events' "$work/spsc.log" >&2 || true

# Late views, as the reducers received them (CAMPAIGN<TAB>EVENT_TIME).
for p in 0 1 2 3; do
	[ ! -e "$work/late.$p.atoms" ] || spsc-sink -i "$work/late.$p.atoms"
done >"$work/late.tsv"

"$here/report.sh" "$work/counts.tsv" "$work/late.tsv" "$work/events.json"
