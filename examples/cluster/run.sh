#!/bin/sh
# The wordcount DAG (examples/wordcount), unchanged, on a 3-node NATS
# JetStream cluster on this machine: every queue a stream replicated on
# all three servers (SPSC_NATS_REPLICAS=3), and the programs told of all
# three, so that any one may die.  spsc starts no coordinator: SPSC_COORD
# names the cluster.
#
# Usage: examples/cluster/run.sh [BASEPORT|auto]   (programs from PATH or $SPSC_BIN)
set -eu
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
wc=$here/../wordcount
[ -z "${SPSC_BIN:-}" ] || PATH=$SPSC_BIN:$PATH
for p in nats-server spsc spsc-coord spsc-source spsc-op spsc-shuffle spsc-reduce spsc-sink; do
	command -v "$p" >/dev/null || { echo "run.sh: $p not found on PATH" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/spsc-cluster.XXXXXX")
trap '"$here/nats-cluster" stop "$work/nats"; rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SPSC_COORD=$("$here/nats-cluster" start "$work/nats" "${1:-14222}")
export SPSC_COORD SPSC_NATS_REPLICAS=3 SPSC_HOME="$work/state"
echo "cluster: $SPSC_COORD" >&2

cp "$wc/wordcount.dag" "$wc/combine.awk" "$work/"
awk -f "$wc/gen-corpus.awk" "$wc/words.txt" >"$work/corpus.txt"
spsc run --once "$work/wordcount.dag" 2>"$work/spsc.log" || {
	status=$?
	cat "$work/spsc.log" >&2
	echo "run.sh: spsc run --once exited $status" >&2
	exit 1
}
spsc-coord status >&2
"$wc/top.sh" "$work/corpus.txt" 10 "$work/counts.tsv"
