#!/usr/bin/env bats
# spsc run: a DAG file started, supervised and stopped.  Real stages on a
# real private coordinator; kill -9, SIGTERM and the process table.

load helpers

setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/spsc-test.XXXXXX")
	cd "$TMP" || return 1
	export SPSC_HOME="$TMP/home"
	unset SPSC_COORD
	export NO_COLOR=1
	RUN_PID=
}

teardown() {
	if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
		kill -KILL "$RUN_PID" 2>/dev/null || true
	fi
	left_behind | awk '{ print $1 }' | xargs -r kill -KILL 2>/dev/null || true
	cd / && rm -rf "$TMP"
}

# Processes whose command line names this test's directory: what a DAG
# started and should have stopped.
left_behind() {
	ps -eo pid=,args= | grep -F "$TMP" | grep -v -e "grep -F" -e "ps -eo" || true
}

# wait_run: waits for the spsc run started in the background (RUN_PID);
# its exit status in $status.
wait_run() {
	status=0
	wait "$RUN_PID" || status=$?
	RUN_PID=
}

# wait_for CMD...: until CMD succeeds, at most 20 s.
wait_for() {
	local i
	for i in $(seq 200); do
		"$@" && return 0
		sleep 0.1
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# The pid of replica REPLICA of STAGE, from spsc status --json.
stage_pid() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, sys
try:
    state = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(1)
for st in state["stages"]:
    if st["name"] == sys.argv[2]:
        for r in st["replicas"]:
            if r["replica"] == int(sys.argv[3]) and r["pid"]:
                print(r["pid"]); sys.exit(0)
sys.exit(1)
PY
}

# slow_dag FILE: 2000 lines through a map that takes 50 ms an atom of 50,
# long enough to kill something in the middle.
slow_dag() {
	seq 1 2000 >in.txt
	cat >"$1" <<'EOF_'
ingest: spsc-source -n 50 -o raw in.txt
map:    spsc-op -i raw -o out --shell -- "sleep 0.05; cat"
store:  spsc-sink -i out out.txt
EOF_
}

state_file() {
	echo "$SPSC_HOME/dags/$1/state.json"
}

@test "run --once: a keyed job over queues ends by itself with exact output; again, nothing; a second run at once is refused" {
	seq 1 3000 | awk '{ print "k" ($1 % 7) }' >in.txt
	cat >wc.dag <<'EOF_'
env LC_ALL=C
ingest:  spsc-source -n 100 --state state -o raw in.txt
map*2:   spsc-op -i raw -o words -- cat
split:   spsc-shuffle -i words -k 1 -p 3 -o bykey
count*3: spsc-reduce -i bykey.${REPLICA} -o counts -k 1 count
store:   spsc-sink -i counts out.txt
EOF_
	run spsc run --once wc.dag
	echo "$output"
	[ "$status" -eq 0 ]
	sort out.txt | awk '{ print $1, $NF }' >got
	sort in.txt | uniq -c | awk '{ print $2, $1 }' >want
	diff -u want got
	[ -z "$(left_behind)" ]
	cp out.txt first
	run spsc run --once wc.dag
	[ "$status" -eq 0 ]
	cmp out.txt first
	[ -z "$(left_behind)" ]
}

@test "run --once: a concurrent second run exits 4 and touches nothing" {
	cat >slow.dag <<'EOF_'
wait: sh -c 'sleep 3'
EOF_
	spsc run --once slow.dag 2>first.log &
	RUN_PID=$!
	wait_for test -s "$(state_file slow)"
	wait_for grep -q 'wait.0: started' first.log
	cp "$(state_file slow)" before.json
	run spsc run --once slow.dag
	[ "$status" -eq 4 ]
	[[ "$output" == *"slow.dag: the DAG slow is already running (pid $RUN_PID): nothing done"* ]]
	cmp before.json "$(state_file slow)"
	wait_run
	[ "$status" -eq 0 ]
	[ "$(grep -c 'wait.0: started' first.log)" -eq 1 ]
}

@test "run: a stage killed with kill -9 is restarted, and nothing is lost or doubled" {
	slow_dag k.dag
	spsc run --once k.dag 2>run.log &
	RUN_PID=$!
	wait_for stage_pid "$(state_file k)" map 0 >/dev/null
	sleep 0.5
	pid=$(stage_pid "$(state_file k)" map 0)
	kill -KILL "$pid"
	wait_run
	cat run.log
	[ "$status" -eq 0 ]
	grep -q "map.0: killed by signal 9 (Killed); restart 1 in" run.log
	[ "$(grep -c 'map.0: started' run.log)" -eq 2 ]
	sort -n out.txt | cmp - in.txt
	[ -z "$(left_behind)" ]
}

@test "run: a stage that always fails backs off, the waits growing, and does not spin" {
	cat >f.dag <<'EOF_'
fail: sh -c 'exit 1'
EOF_
	spsc run f.dag 2>run.log &
	RUN_PID=$!
	wait_for grep -q 'restart 3 in' run.log
	kill -TERM "$RUN_PID"
	wait_run
	cat run.log
	# 1 s, 2 s, 4 s, each less up to a quarter
	awk '/fail.0: exit status 1; restart/ { sub(/s$/, "", $NF); print $NF }' run.log >waits
	[ "$(wc -l <waits)" -ge 3 ]
	awk 'NR == 1 && ($1 < 0.7 || $1 > 1.0) { exit 1 }
	     NR == 2 && ($1 < 1.45 || $1 > 2.0) { exit 1 }
	     NR == 3 && ($1 < 2.95 || $1 > 4.0) { exit 1 }' waits
	# three failures in over 2 s, not hundreds
	[ "$(grep -c 'fail.0: started' run.log)" -le 4 ]
}

@test "run: exit 2 is a usage error, never restarted; under --once the run fails" {
	cat >u.dag <<'EOF_'
bad: sh -c 'echo "bad: no such option" >&2; exit 2'
EOF_
	run spsc run --once u.dag
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad.0        | bad: no such option"* ]]
	[[ "$output" == *"bad.0: exit status 2 (a usage error): not restarted"* ]]
	[ "$(grep -c 'bad.0: started' <<<"$output")" -eq 1 ]
}

@test "run: SIGTERM stops in data order and leaves no process behind" {
	seq 1 100 >in.txt
	cat >s.dag <<'EOF_'
ingest: spsc-source --follow -n 10 -o raw in.txt
map*2:  spsc-op -i raw -o words -- cat
store:  spsc-sink -i words out.txt
EOF_
	spsc run s.dag 2>run.log &
	RUN_PID=$!
	wait_for test -s out.txt
	wait_for sh -c '[ "$(wc -l <out.txt)" -eq 100 ]'
	kill -TERM "$RUN_PID"
	wait_run
	cat run.log
	[ "$status" -eq 0 ]
	grep -E 'stopping|stopped' run.log | sed 's/^spsc\[[0-9]*\]: info: //' |
		grep -v '^coord  *|' >order
	cat order
	# the source first, the maps once it is down, the sink once both
	# maps are, the coordinator last
	line() { grep -n -F "$1" order | head -1 | cut -d: -f1; }
	[ "$(line 'ingest.0: stopping')" -lt "$(line 'ingest.0: stopped')" ]
	[ "$(line 'ingest.0: stopped')" -lt "$(line 'map.0: stopping')" ]
	[ "$(line 'ingest.0: stopped')" -lt "$(line 'map.1: stopping')" ]
	[ "$(line 'map.0: stopped')" -lt "$(line 'store.0: stopping')" ]
	[ "$(line 'map.1: stopped')" -lt "$(line 'store.0: stopping')" ]
	[ "$(line 'store.0: stopped')" -lt "$(line 'coord: stopping')" ]
	[ -z "$(left_behind)" ]
	sort -n out.txt | cmp - in.txt
}

@test "run: two stages writing long lines at once: every line whole and prefixed" {
	cat >l.dag <<'EOF_'
a: awk 'BEGIN { s = sprintf("%5000s", ""); gsub(/ /, "a", s); for (i = 0; i < 300; i++) print s > "/dev/stderr" }'
b: awk 'BEGIN { s = sprintf("%7000s", ""); gsub(/ /, "b", s); for (i = 0; i < 300; i++) print s > "/dev/stderr" }'
EOF_
	spsc run --once l.dag 2>run.log
	a=$(printf '%5000s' '' | tr ' ' a)
	b=$(printf '%7000s' '' | tr ' ' b)
	[ "$(grep -c -x "a.0          | $a" run.log)" -eq 300 ]
	[ "$(grep -c -x "b.0          | $b" run.log)" -eq 300 ]
	# and nothing else carries those letters
	[ "$(grep -c -e aaaaaaaaaa -e bbbbbbbbbb run.log)" -eq 600 ]
}

@test "run: what a killed stage leaves behind is killed too" {
	cat >o.dag <<'EOF_'
leaky: sh -c 'sleep 1000.7 & exec sleep 1000.8'
EOF_
	spsc run o.dag 2>run.log &
	RUN_PID=$!
	wait_for pgrep -f 'sleep 1000.7' >/dev/null
	pid=$(pgrep -f 'sleep 1000.8')
	kill -KILL "$pid"
	# the orphan came to spsc (a subreaper) and was killed; the stage is
	# restarted in a second and leaves a new one
	wait_for grep -q 'leaky.0: killed by signal 9' run.log
	kill -TERM "$RUN_PID"
	wait_run
	[ -z "$(pgrep -f 'sleep 1000.[78]')" ]
}

@test "run: \${REPLICA}, \${STAGE} and env lines reach the stages; other \$ is left alone" {
	cat >e.dag <<'EOF_'
env GREETING='hello world'
w*2: sh -c 'printf "%s|" "$0" "$@" "$GREETING" "$STAGE" "$REPLICA" >"words.${STAGE}.${REPLICA}"' \
        "a b" 'c  d' e\ f "\$g" '${REPLICA}' "${STAGE}-${REPLICA}" $1 # comment
EOF_
	run spsc run --once e.dag
	[ "$status" -eq 0 ]
	[ "$(cat words.w.0)" = 'a b|c  d|e f|$g|${REPLICA}|w-0|$1|hello world|w|0|' ]
	[ "$(cat words.w.1)" = 'a b|c  d|e f|$g|${REPLICA}|w-1|$1|hello world|w|1|' ]
}

@test "status and stop: a running DAG's stages beside their queues, then stopped in order" {
	seq 1 20 >in.txt
	cat >st.dag <<'EOF_'
ingest: spsc-source --follow -n 5 -o raw in.txt
map*2:  spsc-op -i raw -o words -- cat
store:  spsc-sink -i words out.txt
EOF_
	run spsc status --json st.dag
	[ "$status" -eq 0 ]
	python3 -c 'import json,sys; s=json.loads(sys.argv[1]); assert s["running"] is False and s["stages"][1]["state"] == "down", s' "$output"
	spsc run st.dag 2>run.log &
	RUN_PID=$!
	wait_for sh -c '[ -s out.txt ] && [ "$(wc -l <out.txt)" -eq 20 ]'
	run spsc status --json st.dag
	[ "$status" -eq 0 ]
	python3 - "$output" "$RUN_PID" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
assert s["running"] is True and s["pid"] == int(sys.argv[2]), s
assert s["coord_reachable"] is True
m = [x for x in s["stages"] if x["name"] == "map"][0]
assert m["replicas"] == 2 and m["running"] == 2 and m["state"] == "running", m
assert m["inputs"] == ["raw"] and m["outputs"] == ["words"], m
q = [x for x in s["queues"] if x["name"] == "raw"][0]
assert q["known"] and q["ready"] == 0 and q["inflight"] == 0, q
PY
	run spsc status st.dag
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "DAG st: running (pid $RUN_PID), coordinator unix://"* ]]
	[[ "${lines[1]}" == STAGE*RUN*STATE*RESTARTS*INPUT*READY*INFLIGHT*DLQ*WATERMARK ]]
	[[ "${lines[3]}" =~ ^map\ +2/2\ running\ +0\ .*raw\ +0\ +0\ +0 ]]
	run spsc status st.dag map
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[2]}" =~ ^map\  ]]
	run spsc status st.dag nosuch
	[ "$status" -eq 2 ]
	[[ "$output" == *"st.dag has no stage 'nosuch'"* ]]
	run spsc stop st.dag
	[ "$status" -eq 0 ]
	wait_run
	[ "$status" -eq 0 ]
	grep -q 'ingest.0: stopping (SIGTERM)' run.log
	[ -z "$(left_behind)" ]
	run spsc stop st.dag
	[ "$status" -eq 0 ]
	[[ "$output" == *"st is not running"* ]]
}

@test "run --once: dead letters make exit 3, with how many and where" {
	(seq 1 50; echo POISON; seq 51 100) >in.txt
	cat >p.dag <<'EOF_'
ingest: spsc-source -n 10 -o raw in.txt
filter: spsc-op -i raw -o good -- awk '/POISON/ { exit 1 } { print }'
store:  spsc-sink -i good out.txt
EOF_
	run spsc run --once p.dag
	[ "$status" -eq 3 ]
	[[ "$output" == *"warning: 1 atoms were dead-lettered in this run: raw.dlq 1 (see spsc-coord peek and redrive)"* ]]
	[ "$(wc -l <out.txt)" -eq 91 ]
	# run again: the dead atom is an old one, nothing new died
	run spsc run --once p.dag
	[ "$status" -eq 0 ]
	[[ "$output" != *"dead-lettered"* ]]
}

@test "run: the coordinator killed with kill -9 is restarted, and the DAG completes exactly" {
	slow_dag c.dag
	spsc run --once c.dag 2>run.log &
	RUN_PID=$!
	wait_for test -s out.txt
	pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["coordinator"]["pid"])' "$(state_file c)")
	[ "$pid" -gt 0 ]
	kill -KILL "$pid"
	wait_run
	cat run.log
	[ "$status" -eq 0 ]
	grep -q "coord: killed by signal 9 (Killed); restart 1 in" run.log
	sort -n out.txt | cmp - in.txt
	[ -z "$(left_behind)" ]
}

@test "graph --status: queues labelled with their live depths" {
	seq 1 10 >in.txt
	cat >g.dag <<'EOF_'
ingest: spsc-source -o raw in.txt
hold:   spsc-op -i raw -o out -- sh -c 'sleep 100'
store:  spsc-sink -i out out.txt
EOF_
	spsc run --stop-timeout 2s g.dag 2>run.log &
	RUN_PID=$!
	wait_for grep -q 'ingest.0: finished' run.log
	wait_for sh -c 'spsc graph --status --format text g.dag | grep -q "raw \[0 ready, 1 in flight\]"'
	run spsc graph --status g.dag
	[ "$status" -eq 0 ]
	[[ "$output" == *'"q:raw" [shape=cylinder, label="raw\n0 ready, 1 in flight"];'* ]]
	kill -TERM "$RUN_PID"
	wait_run
}

@test "run: prefixes are coloured on a terminal, and not with NO_COLOR or off one" {
	command -v script >/dev/null || skip "no script(1) to make a terminal"
	cat >c.dag <<'EOF_'
hello: sh -c 'echo hi >&2'
EOF_
	esc=$(printf '\033')
	env -u NO_COLOR script -qec "spsc run --once c.dag" /dev/null >tty.log
	grep -q "${esc}\[[0-9;]*mhello.0 *|${esc}\[0m hi" tty.log
	NO_COLOR=1 script -qec "spsc run --once c.dag" /dev/null >tty.log
	grep -q "^hello.0 *| hi" tty.log
	! grep -q "$esc" tty.log
	env -u NO_COLOR spsc run --once c.dag 2>plain.log
	grep -q "^hello.0 *| hi" plain.log
	! grep -q "$esc" plain.log
}

@test "run: a stage that outlives its stop timeout is killed; a second signal kills at once" {
	cat >t.dag <<'EOF_'
stubborn: sh -c 'trap "" TERM; while :; do sleep 0.1; done'
EOF_
	spsc run --stop-timeout 1s t.dag 2>run.log &
	RUN_PID=$!
	wait_for grep -q 'stubborn.0: started' run.log
	kill -TERM "$RUN_PID"
	wait_run
	cat run.log
	[ "$status" -eq 1 ]
	grep -q 'stubborn.0: still running 1.0s after SIGTERM: killed' run.log
	[ -z "$(left_behind)" ]

	spsc run --stop-timeout 60s t.dag 2>run2.log &
	RUN_PID=$!
	wait_for grep -q 'stubborn.0: started' run2.log
	kill -INT "$RUN_PID"
	wait_for grep -q 'stubborn.0: stopping (SIGTERM)' run2.log
	kill -INT "$RUN_PID"
	wait_run
	cat run2.log
	[ "$status" -eq 1 ]
	grep -q 'SIGINT: stopping at once' run2.log
	grep -q 'stubborn.0: stopped (killed by signal 9 (Killed))' run2.log
	[ -z "$(left_behind)" ]
}

@test "status --watch: the view again every period" {
	cat >w.dag <<'EOF_'
idle: sh -c 'sleep 100'
EOF_
	# not running: each view waits up to 2 s for the coordinator
	run timeout 5 spsc status --watch=0.5s w.dag
	[ "$status" -eq 124 ]
	[ "$(grep -c '^DAG w: not running' <<<"$output")" -ge 2 ]
}

@test "run --once: a queue only declared (non-spsc) stages write is made, and sealed once they finish" {
	cat >x.dag <<'EOF_'
feed*2: out=raw sh -c 'seq 1 5 | sed "s/^/$REPLICA-/" | spsc-source --name "f$REPLICA" | spsc-coord put raw'
store:  spsc-sink -i raw out.txt
EOF_
	run spsc run --once x.dag
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"raw: sealed, its writers have finished"* ]]
	[ "$(grep -c 'raw: sealed' <<<"$output")" -eq 1 ]
	[ "$(sort out.txt | tr '\n' ' ')" = "0-1 0-2 0-3 0-4 0-5 1-1 1-2 1-3 1-4 1-5 " ]
	# and again: the queue is reopened, so the sink waits for the feeds
	run spsc run --once x.dag
	[ "$status" -eq 0 ]
	[ "$(wc -l <out.txt)" -eq 10 ]
}

@test "run --once: a cron job with a reducer takes up new input on the next run" {
	mkdir in
	printf 'a\nb\na\n' >in/1.txt
	cat >r.dag <<'EOF_'
ingest: spsc-source --state state -o raw in/
count:  spsc-reduce -i raw -o counts -k 1 count
store:  spsc-sink -i counts out.txt
EOF_
	run spsc run --once r.dag
	[ "$status" -eq 0 ]
	[ "$(sort out.txt)" = "$(printf 'a\t2\nb\t1')" ]
	# no new input: nothing new
	run spsc run --once r.dag
	[ "$status" -eq 0 ]
	[ "$(wc -l <out.txt)" -eq 2 ]
	# new input: counted on its own, nothing late, nothing dead
	printf 'a\nc\n' >in/2.txt
	run spsc run --once r.dag
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *late* ]]
	[ "$(tail -n +3 out.txt | sort)" = "$(printf 'a\t1\nc\t1')" ]
}

@test "status: a DAG run by systemd shows its units' states" {
	cat >sd.dag <<'EOF_'
ingest: spsc-source -o raw in.txt
map*2:  spsc-op -i raw -o out -- cat
store:  spsc-sink -i out out.txt
EOF_
	: >in.txt
	# systemctl as systemd 252 answers show, for units spsc systemd wrote
	mkdir bin
	cat >bin/systemctl <<'EOF_'
#!/bin/sh
[ "$1" = show ] || exit 1
shift 2
for u in "$@"; do
	case $u in
	spsc-sd-ingest.service) printf 'MainPID=0\nExecMainCode=1\nExecMainStatus=0\nNRestarts=0\nId=%s\nLoadState=loaded\nActiveState=inactive\nSubState=dead\n\n' "$u" ;;
	spsc-sd-map@0.service) printf 'MainPID=4242\nExecMainCode=0\nExecMainStatus=0\nNRestarts=0\nId=%s\nLoadState=loaded\nActiveState=active\nSubState=running\n\n' "$u" ;;
	spsc-sd-map@1.service) printf 'MainPID=0\nExecMainCode=1\nExecMainStatus=1\nNRestarts=3\nId=%s\nLoadState=loaded\nActiveState=activating\nSubState=auto-restart\n\n' "$u" ;;
	*) printf 'MainPID=0\nExecMainCode=0\nExecMainStatus=0\nNRestarts=0\nId=%s\nLoadState=loaded\nActiveState=failed\nSubState=failed\n\n' "$u" ;;
	esac
done
EOF_
	chmod +x bin/systemctl
	run env PATH="$TMP/bin:$PATH" spsc status --json sd.dag
	[ "$status" -eq 0 ]
	python3 - "$output" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
assert s["running"] is True and s["manager"] == "systemd", s
st = {x["name"]: x for x in s["stages"]}
assert st["ingest"]["state"] == "finished", st["ingest"]
assert st["map"]["state"] == "backoff" and st["map"]["running"] == 1, st["map"]
assert st["map"]["restarts"] == 3 and st["map"]["last_exit"] == "exit status 1", st["map"]
assert st["store"]["state"] == "failed", st["store"]
PY
	run env PATH="$TMP/bin:$PATH" spsc status sd.dag
	[[ "${lines[0]}" == "DAG sd: running (under systemd), coordinator"* ]]
}
