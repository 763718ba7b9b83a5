#!/usr/bin/env bats
# spsc check: every problem in a DAG file as FILE:LINE:COL, and the exit
# status (0 valid, 1 errors, 2 usage).  spsc graph draws what check reads.

load helpers

setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/spsc-test.XXXXXX")
	cd "$TMP" || return 1
	export SPSC_HOME="$TMP/home"
	unset SPSC_COORD
	: >in.txt
}

# dag FILE: the DAG on stdin, into FILE
dag() {
	cat >"$1"
}

# wc_dag FILE: a valid keyed DAG of 5 stages and 12 queues (counting the
# dead-letter queues), with a comment and an env line.
# check_says STATUS FILE OUTPUT: spsc check FILE exits STATUS and prints
# exactly OUTPUT.
check_says() {
	run spsc check "$2"
	[ "$status" -eq "$1" ]
	[ "$output" = "$3" ]
}

wc_dag() {
	cat >"$1" <<'EOF_'
# a comment
env LC_ALL=C
ingest:  spsc-source -o raw in.txt
map*2:   spsc-op -i raw -o words -- tr a-z A-Z
split:   spsc-shuffle -i words -k 1 -p 3 -o bykey
count*3: spsc-reduce -i bykey.${REPLICA} -o counts -k 1 count
store:   spsc-sink -i counts out.txt
EOF_
}

@test "check: a valid DAG is ok, exit 0" {
	wc_dag wc.dag
	check_says 0 wc.dag "wc.dag: ok: 5 stages, 12 queues"
	run spsc check -q wc.dag
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "check: an unknown option, in the program's own words, at its column" {
	dag d.dag <<'EOF_'
ingest: spsc-source -o raw in.txt
map:    spsc-op -i raw -o words --frob -- cat
store:  spsc-sink -i words out.txt
EOF_
	check_says 1 d.dag "d.dag:2:33: error: unrecognized option '--frob'; unknown option or missing argument"
	dag e.dag <<'EOF_'
split: spsc-shuffle -i words -k 1 -p many -o bykey
EOF_
	check_says 1 e.dag "e.dag:1:38: error: -p: 'many' is not a whole number from 1 to 4096"
}

@test "check: a queue read but never written, with the likely one" {
	dag d.dag <<'EOF_'
ingest: spsc-source -o raw in.txt
map:    spsc-op -i raw -o counts.0 -- cat
store:  spsc-sink -i count.0 out.txt
EOF_
	run spsc check d.dag
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "d.dag:2:27: warning: queue 'counts.0' is written by map but never read" ]
	[ "${lines[1]}" = "d.dag:3:22: error: queue 'count.0' is read but never written; did you mean counts.0, written by map on line 2?" ]
	dag e.dag <<'EOF_'
store:  spsc-sink -i nowhere out.txt
EOF_
	check_says 1 e.dag "e.dag:1:22: error: queue 'nowhere' is read but never written (if something outside this file writes it, add: external nowhere)"
}

@test "check: external queues are written from outside" {
	dag d.dag <<'EOF_'
external uploads
store:  spsc-sink -i uploads out.txt
EOF_
	run spsc check d.dag
	[ "$status" -eq 0 ]
}

@test "check: a queue written but never read is a warning" {
	dag d.dag <<'EOF_'
ingest: spsc-source -o raw in.txt
EOF_
	run spsc check d.dag
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "d.dag:1:24: warning: queue 'raw' is written by ingest but never read" ]
	[ "${lines[1]}" = "d.dag: ok: 1 stages, 1 queues (see the warnings)" ]
}

@test "check: partitions a shuffle writes and the readers it has must match" {
	dag d.dag <<'EOF_'
ingest:  spsc-source -o raw in.txt
split:   spsc-shuffle -i raw -k 1 -p 4 -o bykey
count*5: spsc-reduce -i bykey.${REPLICA} -o counts -k 1 count
store:   spsc-sink -i counts out.txt
EOF_
	check_says 1 d.dag "d.dag:3:25: error: count.4 reads queue 'bykey.4', but split on line 2 writes 4 partitions of it: its -p and count's replicas disagree"
	sed -i 's/count\*5/count*3/' d.dag
	check_says 1 d.dag "d.dag:2:43: error: queue 'bykey.3' is written by split but never read: count on line 3 reads 3 partitions of it, so its replicas and the -p disagree"
}

@test "check: a cycle" {
	dag d.dag <<'EOF_'
ingest: spsc-source -o a in.txt
one:    spsc-op -i a -o b -- cat
two:    spsc-op -i b -o a -- cat
EOF_
	check_says 1 d.dag "d.dag:2:1: error: cycle: one -> two -> one (a stage must not read what it, or what it feeds, writes)"
}

@test "check: duplicate names, programs not on PATH, bad lines" {
	dag d.dag <<'EOF_'
a: spsc-opp -i x -o y -- cat
a: ./no-such-script
b*0: cat
c: cat | wc -l
d: awk '{ print $1 }
e: echo $(date)
frob
EOF_
	run spsc check d.dag
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "d.dag:1:4: error: spsc-opp: command not found (not on PATH)" ]
	[ "${lines[1]}" = "d.dag:2:1: error: stage 'a' is defined twice (first on line 1)" ]
	[ "${lines[2]}" = "d.dag:3:3: error: replicas must be a number from 1 to 1024" ]
	[ "${lines[3]}" = "d.dag:4:8: error: shell operators (| ; & < >) are not supported: quote them, or run the stage through sh -c" ]
	[ "${lines[4]}" = "d.dag:5:8: error: unterminated single quote" ]
	[ "${#lines[@]}" -eq 5 ]
	dag e.dag <<'EOF_'
e: echo $(date)
frob
f:
g: in=q spsc-op -i q -o r -- cat
EOF_
	run spsc check e.dag
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "e.dag:1:9: error: command substitution is not supported: run the stage through sh -c, or a script" ]
	[ "${lines[1]}" = "e.dag:2:1: error: 'frob' is neither a stage (NAME: COMMAND) nor a directive (env, coord, external, name, host)" ]
	[ "${lines[2]}" = "e.dag:3:1: error: stage 'f' has no command" ]
	[ "${lines[3]}" = "e.dag:4:4: error: in= and out= are for programs that are not spsc programs: spsc-op says its own endpoints" ]
}

@test "check: usage errors exit 2; a missing file exits 1" {
	run spsc check
	[ "$status" -eq 2 ]
	run spsc frob x.dag
	[ "$status" -eq 2 ]
	[[ "$output" == *"'frob' is not a command"* ]]
	check_says 1 nosuch.dag "nosuch.dag: error: No such file or directory"
}

@test "check: words split as sh splits them; \${REPLICA} and \${STAGE} expand, other \$ stays" {
	dag d.dag <<'EOF_'
# quotes, escapes and a continued line
w*2: in=q.${REPLICA} out=r \
     sh -c 'printf "%s|" "$0" "$@" >"words.$STAGE.$REPLICA"' \
        "a b" 'c  d' e\ f "\$g" '${REPLICA}' "${STAGE}-${REPLICA}" $1 # comment
external q.0 q.1
EOF_
	run spsc check d.dag
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "d.dag:2:26: warning: queue 'r' is written by w but never read" ]
	run spsc graph --format text d.dag
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "w*2              q.0, q.1 -> r" ]
}

@test "graph: DOT that dot parses, one node per stage and per queue" {
	command -v dot >/dev/null || skip "graphviz is not installed"
	wc_dag wc.dag
	run spsc graph wc.dag
	[ "$status" -eq 0 ]
	echo "$output" >g.dot
	dot -Tsvg g.dot >g.svg
	[ "$(grep -c 'shape=box' g.dot)" -eq 5 ]
	[ "$(grep -c 'shape=cylinder' g.dot)" -eq 12 ]
	grep -q '"s:map" \[shape=box, label="map x2"\]' g.dot
	grep -q '"s:map" -> "q:raw.dlq" \[style=dashed\]' g.dot
	grep -q '"q:raw" -> "s:map";' g.dot
	[ "$(grep -c '<g id="node' g.svg)" -eq 17 ]
	run spsc graph --format text wc.dag
	[ "${lines[0]}" = "ingest*1         - -> raw" ]
	[ "${lines[1]}" = "map*2            raw -> words" ]
	[ "${lines[2]}" = "                 dead letters: raw.dlq" ]
	run spsc graph --format svg wc.dag
	[ "$status" -eq 2 ]
}

@test "check: names spsc sets are not the DAG's; the program is the same for every replica" {
	dag d.dag <<'EOF_'
env REPLICA=3 LC_ALL=C SPSC_COORD=ipc:///x
w*2: ${STAGE}-tool --replica ${REPLICA}
EOF_
	run spsc check d.dag
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "d.dag:1:5: error: REPLICA is set by spsc for each stage: the DAG cannot set it" ]
	[ "${lines[1]}" = "d.dag:1:24: error: SPSC_COORD is set by spsc for each stage: the DAG cannot set it" ]
	[ "${lines[2]}" = "d.dag:2:6: error: the program must be the same for every replica: \${REPLICA} and \${STAGE} go in its arguments" ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "check: a file with CRLF line ends reads as with LF" {
	printf 'ingest: spsc-source -o raw in.txt\r\nstore:  spsc-sink -i raw out.txt\r\n' >crlf.dag
	check_says 0 crlf.dag "crlf.dag: ok: 2 stages, 2 queues"
}

@test "options: each command takes its own, before or after the DAG" {
	dag d.dag <<'EOF_'
ingest: spsc-source -o raw in.txt
store:  spsc-sink -i raw out.txt
EOF_
	run spsc check --once d.dag
	[ "$status" -eq 2 ]
	[[ "$output" == "spsc: check does not take --once"* ]]
	run spsc graph d.dag --format text
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "ingest*1         - -> raw" ]
	run spsc check d.dag -q
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
}

@test "check: host lines place every stage once, on a named host" {
	cat > h.dag <<'EOF2'
host a src
host b sink nosuch
host c src
src: spsc-source -o q in.txt
mid: spsc-op -i q -o r -- cat
sink: spsc-sink -i r out.txt
host
EOF2
	touch in.txt
	run spsc check h.dag
	[ "$status" -eq 1 ]
	[[ "$output" == *"h.dag:2:13: error: host b: no stage 'nosuch'"* ]]
	[[ "$output" == *"h.dag:3:8: error: stage 'src' is placed twice (on a and c)"* ]]
	[[ "$output" == *"h.dag:5:1: error: stage 'mid' is on no host: with host lines, every stage needs one"* ]]
	[[ "$output" == *"h.dag:7:1: error: host takes NAME STAGE..."* ]]
}
