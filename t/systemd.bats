#!/usr/bin/env bats
# spsc systemd DAG DIR: systemd units that run a DAG the way spsc run
# does, ordered for data order, each file checked by systemd-analyze
# verify; --timer for spsc run --once on a calendar; a manifest of what was
# written, for writing again and for --remove.
load helpers

# The DAG of the wordcount example, smaller: a source, a map of two
# replicas running awk, a shuffle into three partitions, a reduce of three
# replicas (one per partition) and a sink; a private coordinator.
#
#   ingest -raw-> map*2 -words-> split -bykey.0..2-> count*3 -counts-> store
mkdag() {
	export SPSC_HOME="$TMP/home"
	unset SPSC_COORD
	mkdir -p "$TMP/dag"
	printf 'a b\nb c\n' > "$TMP/dag/corpus.txt"
	cat > "$TMP/dag/wc.dag" <<'EOF'
env LC_ALL=C
ingest:  spsc-source --name wc --state state/ingest -o raw corpus.txt
map*2:   spsc-op -i raw -o words -- awk '{ printf "%d%%\n", $1 }'
split:   spsc-shuffle -i words -k 1 -p 3 -o bykey
count*3: spsc-reduce -i bykey.${REPLICA} -o counts -k 1 sum:2
store:   spsc-sink -i counts out-${STAGE}.tsv
EOF
}

# stdout_of CMD ARGS...: runs it with its stderr in $TMP/err, so that
# `run stdout_of ...` sees the standard output alone.
stdout_of() {
	"$@" 2>"$TMP/err"
}

# need_verify: skips unless systemd-analyze verify works here at all, as
# it does on Debian 12 with the systemd package (not as PID 1).
need_verify() {
	command -v systemd-analyze >/dev/null ||
		skip "systemd-analyze is not installed (Debian: the systemd package)"
	mkdir -p "$TMP/probe"
	printf '[Service]\nExecStart=/bin/sh -c true\n' > "$TMP/probe/spsc-probe.service"
	systemd-analyze verify --man=no "$TMP/probe/spsc-probe.service" \
		> "$TMP/probe.out" 2>&1 ||
		skip "systemd-analyze verify does not work here: $(cat "$TMP/probe.out")"
}

# verify DIR: every unit file in DIR through systemd-analyze verify, the
# directory being the unit search path (Requires= must be found), with
# nothing to say: no error and no warning.
verify() {
	local dir=$1
	run env SYSTEMD_UNIT_PATH="$dir:" systemd-analyze verify --man=no "$dir"/spsc-*
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

# keys FILE KEY: the lines of FILE setting KEY, in order.
keys() {
	grep "^$2=" "$1" || true
}

@test "systemd: one unit per stage, a template per replicated one, the target and the coordinator; all verify" {
	mkdag
	run stdout_of spsc systemd dag/wc.dag units
	cat "$TMP/err"
	[ "$status" -eq 0 ]
	u="$TMP/units"
	[ "$output" = "$u/spsc-wc.target
$u/spsc-wc-coord.service
$u/spsc-wc-ingest.service
$u/spsc-wc-map@.service
$u/spsc-wc-split.service
$u/spsc-wc-count@.service
$u/spsc-wc-store.service" ]
	# the hint, on stderr
	grep -q "systemctl link $u/spsc-wc.target " "$TMP/err"
	grep -q "systemctl daemon-reload" "$TMP/err"
	grep -q "systemctl start spsc-wc.target" "$TMP/err"
	[ "$(stat -c %a "$u")" = 755 ]
	for f in "$u"/spsc-*; do
		[ "$(stat -c %a "$f")" = 644 ]
	done
	[ "$(ls -A "$u" | wc -l)" -eq 8 ]	# and the manifest; no temp file left
	need_verify
	verify "$u"
}

@test "systemd: data order: After= every unit downstream and the coordinator; the target wants them all" {
	mkdag
	spsc systemd dag/wc.dag units 2>/dev/null >/dev/null
	u="$TMP/units"
	[ "$(keys "$u/spsc-wc.target" Wants)" = "Wants=spsc-wc-coord.service
Wants=spsc-wc-ingest.service
Wants=spsc-wc-map@0.service
Wants=spsc-wc-map@1.service
Wants=spsc-wc-split.service
Wants=spsc-wc-count@0.service
Wants=spsc-wc-count@1.service
Wants=spsc-wc-count@2.service
Wants=spsc-wc-store.service" ]
	[ "$(keys "$u/spsc-wc.target" WantedBy)" = "WantedBy=multi-user.target" ]
	# the coordinator: after nothing of ours, so it stops last
	[ -z "$(keys "$u/spsc-wc-coord.service" After)" ]
	[ -z "$(keys "$u/spsc-wc-coord.service" Requires)" ]
	[ "$(keys "$u/spsc-wc-coord.service" Type)" = "Type=notify" ]
	[ "$(keys "$u/spsc-wc-coord.service" ExecStart)" = "ExecStart=\"$(command -v spsc-coord)\" \"serve\" \"--home\" \"$TMP/home/dags/wc/coord\"" ]
	[ "$(keys "$u/spsc-wc-coord.service" PartOf)" = "PartOf=spsc-wc.target" ]
	# counts has three producers (one reducer a partition); words has
	# one, the two maps that read raw
	[ "$(keys "$u/spsc-wc-coord.service" ExecStartPost)" = "ExecStartPost=\"$(command -v spsc-coord)\" \"-c\" \"unix://$TMP/home/dags/wc/coord/coord.unix\" \"create\" \"--producers\" \"3\" \"counts\"" ]
	# every stage requires the coordinator and starts after it
	for f in ingest map@ split count@ store; do
		[ "$(keys "$u/spsc-wc-$f.service" Requires)" = "Requires=spsc-wc-coord.service" ]
		[ "$(keys "$u/spsc-wc-$f.service" PartOf)" = "PartOf=spsc-wc.target" ]
		[ "$(keys "$u/spsc-wc-$f.service" StartLimitIntervalSec)" = "StartLimitIntervalSec=0" ]
		[ "$(keys "$u/spsc-wc-$f.service" Type)" = "Type=exec" ]
		[ "$(keys "$u/spsc-wc-$f.service" RestartPreventExitStatus)" = "RestartPreventExitStatus=2" ]
		[ "$(keys "$u/spsc-wc-$f.service" SuccessExitStatus)" = "SuccessExitStatus=3" ]
		[ "$(keys "$u/spsc-wc-$f.service" WorkingDirectory)" = "WorkingDirectory=$TMP/dag" ]
		[ "$(keys "$u/spsc-wc-$f.service" TimeoutStopSec)" = "TimeoutStopSec=30s" ]
	done
	# and after every unit of the stages that read what it writes
	[ "$(keys "$u/spsc-wc-ingest.service" After)" = "After=spsc-wc-coord.service
After=spsc-wc-map@0.service spsc-wc-map@1.service" ]
	[ "$(keys "$u/spsc-wc-map@.service" After)" = "After=spsc-wc-coord.service
After=spsc-wc-split.service" ]
	[ "$(keys "$u/spsc-wc-split.service" After)" = "After=spsc-wc-coord.service
After=spsc-wc-count@0.service spsc-wc-count@1.service spsc-wc-count@2.service" ]
	[ "$(keys "$u/spsc-wc-count@.service" After)" = "After=spsc-wc-coord.service
After=spsc-wc-store.service" ]
	[ "$(keys "$u/spsc-wc-store.service" After)" = "After=spsc-wc-coord.service" ]
}

@test "systemd: ExecStart quotes every argument: awk's \$1, %, quotes and backslashes survive" {
	mkdag
	spsc systemd dag/wc.dag units 2>/dev/null >/dev/null
	u="$TMP/units"
	op=$(command -v spsc-op)
	# the word is  { printf "%d%%\n", $1 }  with a backslash and an n
	[ "$(keys "$u/spsc-wc-map@.service" ExecStart)" = 'ExecStart="'"$op"'" "-i" "raw" "-o" "words" "--" "awk" "{ printf \"%%d%%%%\\n\", $$1 }"' ]
	[ "$(keys "$u/spsc-wc-ingest.service" ExecStart)" = "ExecStart=\"$(command -v spsc-source)\" \"--name\" \"wc\" \"--state\" \"state/ingest\" \"-o\" \"raw\" \"corpus.txt\"" ]
	# a newline in a word is a C escape; a program's path is absolute
	cat > "$TMP/dag/nl.dag" <<'EOF'
src: spsc-source -o raw corpus.txt
echo: in=raw spsc-op -i raw -o - -- "printf" 'a
b' "$HOME" '${REPLICA}'
EOF
	mkdir -p "$TMP/dag/bin"
	ln -s "$(command -v spsc-op)" "$TMP/dag/bin/myop"
	sed -i 's|^echo: in=raw spsc-op|echo: in=raw bin/myop|' "$TMP/dag/nl.dag"
	run stdout_of spsc systemd dag/nl.dag units2
	cat "$TMP/err"
	[ "$status" -eq 0 ]
	[ "$(keys "$TMP/units2/spsc-nl-echo.service" ExecStart)" = 'ExecStart="'"$(realpath "$TMP/dag/bin/myop")"'" "-i" "raw" "-o" "-" "--" "printf" "a\nb" "$$HOME" "$${REPLICA}"' ]
	need_verify
	verify "$TMP/units"
	verify "$TMP/units2"
}

@test "systemd: REPLICA is %i in a template, and \${REPLICA} in a command too; 0 in a single unit" {
	mkdag
	spsc systemd dag/wc.dag units 2>/dev/null >/dev/null
	u="$TMP/units"
	[ "$(keys "$u/spsc-wc-count@.service" Environment)" = "Environment=\"SPSC_HOME=$TMP/home\"
Environment=\"PATH=$PATH\"
Environment=\"LC_ALL=C\"
Environment=\"STAGE=count\"
Environment=\"REPLICA=%i\"
Environment=\"SPSC_COORD=unix://$TMP/home/dags/wc/coord/coord.unix\"" ]
	[ "$(keys "$u/spsc-wc-count@.service" ExecStart)" = "ExecStart=\"$(command -v spsc-reduce)\" \"-i\" \"bykey.%i\" \"-o\" \"counts\" \"-k\" \"1\" \"sum:2\"" ]
	grep -qx 'Environment="REPLICA=0"' "$u/spsc-wc-store.service"
	grep -qx 'Environment="STAGE=store"' "$u/spsc-wc-store.service"
	# ${STAGE} is the stage's name
	[ "$(keys "$u/spsc-wc-store.service" ExecStart)" = "ExecStart=\"$(command -v spsc-sink)\" \"-i\" \"counts\" \"out-store.tsv\"" ]
}

@test "systemd: a DAG naming its coordinator gets no coordinator unit, and its stages that address" {
	mkdag
	sed -i '1i coord tcp://127.0.0.1:5999' dag/wc.dag
	run stdout_of spsc systemd dag/wc.dag units
	cat "$TMP/err"
	[ "$status" -eq 0 ]
	u="$TMP/units"
	[ ! -e "$u/spsc-wc-coord.service" ]
	[ -z "$(grep coord "$u/spsc-wc.target")" ]
	[ -z "$(keys "$u/spsc-wc-map@.service" Requires)" ]
	[ "$(keys "$u/spsc-wc-ingest.service" After)" = "After=spsc-wc-map@0.service spsc-wc-map@1.service" ]
	grep -qx 'Environment="SPSC_COORD=tcp://127.0.0.1:5999"' "$u/spsc-wc-split.service"
	need_verify
	verify "$u"
}

@test "systemd: --stop-timeout is each unit's TimeoutStopSec" {
	mkdag
	spsc systemd --stop-timeout 1500ms dag/wc.dag units 2>/dev/null >/dev/null
	grep -qx 'TimeoutStopSec=1500ms' "$TMP/units/spsc-wc-coord.service"
	grep -qx 'TimeoutStopSec=1500ms' "$TMP/units/spsc-wc-map@.service"
}

@test "systemd: --timer writes a oneshot spsc run --once and its timer, nothing else; they verify" {
	mkdag
	run stdout_of spsc systemd --timer 'Mon..Fri *-*-* 02:00' dag/wc.dag units
	cat "$TMP/err"
	[ "$status" -eq 0 ]
	u="$TMP/units"
	[ "$output" = "$u/spsc-wc-once.service
$u/spsc-wc-once.timer" ]
	[ "$(ls "$u")" = "spsc-wc-once.service
spsc-wc-once.timer" ]
	grep -q "systemctl start spsc-wc-once.timer" "$TMP/err"
	s="$u/spsc-wc-once.service"
	[ "$(keys "$s" Type)" = "Type=oneshot" ]
	[ "$(keys "$s" ExecStart)" = "ExecStart=\"$(command -v spsc)\" \"run\" \"--once\" \"--stop-timeout\" \"30s\" \"$TMP/dag/wc.dag\"" ]
	[ "$(keys "$s" WorkingDirectory)" = "WorkingDirectory=$TMP/dag" ]
	grep -qx "Environment=\"SPSC_HOME=$TMP/home\"" "$s"
	[ "$(keys "$s" SuccessExitStatus)" = "SuccessExitStatus=3" ]
	[ "$(keys "$u/spsc-wc-once.timer" OnCalendar)" = "OnCalendar=Mon..Fri *-*-* 02:00" ]
	[ "$(keys "$u/spsc-wc-once.timer" Persistent)" = "Persistent=true" ]
	[ "$(keys "$u/spsc-wc-once.timer" WantedBy)" = "WantedBy=timers.target" ]
	need_verify
	verify "$u"
}

@test "systemd: a bad calendar is a usage error that names it, and writes nothing" {
	command -v systemd-analyze >/dev/null ||
		skip "systemd-analyze is not installed: calendars are not checked"
	mkdag
	run spsc systemd --timer 'every blue moon' dag/wc.dag units
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"'every blue moon'"* ]]
	[ ! -e "$TMP/units" ]
}

@test "systemd: writing again removes what is no longer written; --remove removes exactly the manifest's files" {
	mkdag
	u="$TMP/units"
	spsc systemd dag/wc.dag units 2>/dev/null >/dev/null
	[ -f "$u/spsc-wc-store.service" ]
	grep -qx 'spsc-wc-store.service' "$u/.spsc-wc.manifest"
	# a unit of the same prefix written by hand
	printf '[Service]\nExecStart=/bin/true\n' > "$u/spsc-wc-mine.service"
	# store renamed keep
	sed -i 's/^store:/keep:/' dag/wc.dag
	run stdout_of spsc systemd dag/wc.dag units
	[ "$status" -eq 0 ]
	[ ! -e "$u/spsc-wc-store.service" ]
	[ -f "$u/spsc-wc-keep.service" ]
	grep -q "removed $u/spsc-wc-store.service" "$TMP/err"
	grep -qx 'After=spsc-wc-keep.service' "$u/spsc-wc-count@.service"
	[ "$(cat "$u/.spsc-wc.manifest")" = "spsc-wc.target
spsc-wc-coord.service
spsc-wc-ingest.service
spsc-wc-map@.service
spsc-wc-split.service
spsc-wc-count@.service
spsc-wc-keep.service" ]
	# to the timer and back: the other kind's files go
	spsc systemd --timer daily dag/wc.dag units 2>/dev/null >/dev/null
	[ "$(ls "$u")" = "spsc-wc-mine.service
spsc-wc-once.service
spsc-wc-once.timer" ]
	spsc systemd dag/wc.dag units 2>/dev/null >/dev/null
	[ ! -e "$u/spsc-wc-once.timer" ]

	run stdout_of spsc systemd --remove dag/wc.dag units
	cat "$TMP/err"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 7 ]
	[ "${lines[0]}" = "$u/spsc-wc.target" ]
	[ "$(ls -A "$u")" = "spsc-wc-mine.service" ]
	# nothing left to remove
	run spsc systemd --remove dag/wc.dag units
	[ "$status" -eq 1 ]
	[[ "$output" == *"no manifest"* ]]
	[ "$(ls -A "$u")" = "spsc-wc-mine.service" ]
}

@test "systemd: a file of the same name that spsc did not write is not overwritten" {
	mkdag
	mkdir "$TMP/units"
	echo mine > "$TMP/units/spsc-wc-split.service"
	run spsc systemd dag/wc.dag units
	[ "$status" -eq 1 ]
	[[ "$output" == *"spsc-wc-split.service exists"* ]]
	[ "$(cat "$TMP/units/spsc-wc-split.service")" = mine ]
	[ "$(ls -A "$TMP/units")" = "spsc-wc-split.service" ]
}

@test "systemd: a DAG with errors exits 1 and writes nothing" {
	mkdag
	printf 'ingest: spsc-source -o raw corpus.txt\nmap: no-such-program-here -x\n' > dag/bad.dag
	run spsc systemd dag/bad.dag units
	echo "$output"
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad.dag:2:"* ]]
	[ ! -e "$TMP/units" ]
	# a stage whose unit would be the coordinator's
	printf 'src: spsc-source -o raw corpus.txt\ncoord: spsc-sink -i raw out.tsv\n' > dag/c.dag
	run spsc systemd dag/c.dag units
	[ "$status" -eq 1 ]
	[[ "$output" == *"coord"* ]]
	[ ! -e "$TMP/units" ]
	# usage
	run spsc systemd dag/wc.dag
	[ "$status" -eq 2 ]
}

@test "systemd: --host writes the units of the stages placed on that host only; they verify" {
	mkdag
	sed -i '1i coord nats://10.0.0.1:4222,10.0.0.2:4222' dag/wc.dag
	cat >> dag/wc.dag <<'EOF2'
host edge ingest map
host core split count store
EOF2
	run stdout_of spsc systemd --host core dag/wc.dag core
	cat "$TMP/err"
	[ "$status" -eq 0 ]
	[ "$(cd core && ls spsc-* | tr '\n' ' ')" = "spsc-wc-count@.service spsc-wc-split.service spsc-wc-store.service spsc-wc.target " ]
	[ "$(keys core/spsc-wc.target Wants | tr '\n' ' ')" = "Wants=spsc-wc-split.service Wants=spsc-wc-count@0.service Wants=spsc-wc-count@1.service Wants=spsc-wc-count@2.service Wants=spsc-wc-store.service " ]
	grep -qx 'Environment="SPSC_COORD=nats://10.0.0.1:4222,10.0.0.2:4222"' core/spsc-wc-split.service
	run stdout_of spsc systemd --host edge dag/wc.dag edge
	[ "$status" -eq 0 ]
	[ "$(cd edge && ls spsc-* | tr '\n' ' ')" = "spsc-wc-ingest.service spsc-wc-map@.service spsc-wc.target " ]
	need_verify
	verify "$TMP/core"
	verify "$TMP/edge"
}

@test "systemd: --host refuses a host with no stage, a private coordinator, and --timer" {
	mkdag
	printf 'host a ingest map split count store\n' >> dag/wc.dag
	run spsc systemd --host a dag/wc.dag units
	[ "$status" -eq 1 ]
	[[ "$output" == *"--host needs queues every host reaches"* ]]
	sed -i '1i coord nats://127.0.0.1:4222' dag/wc.dag
	run spsc systemd --host b dag/wc.dag units
	[ "$status" -eq 1 ]
	[[ "$output" == *"no stage is placed on host b"* ]]
	run spsc systemd --host a --timer daily dag/wc.dag units
	[ "$status" -eq 2 ]
	[[ "$output" == *"--host and --timer do not go together"* ]]
	[ ! -e units ]
}
