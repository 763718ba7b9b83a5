#!/usr/bin/env bats
# The launcher's pages, spsc(1) and spsc-dag(5), against the launcher:
# its options and commands, the keys of status --json and state.json, the
# messages of spsc check, and the DAGs the pages show, which must check
# and draw as the pages say.

load helpers

PAGE="$SPSC_SRCDIR/man/spsc.1"
DAGPAGE="$SPSC_SRCDIR/man/spsc-dag.5"
OVERVIEW="$SPSC_SRCDIR/man/spsc.7"

setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/spsc-test.XXXXXX")
	cd "$TMP" || return 1
	export SPSC_HOME="$TMP/home"
	unset SPSC_COORD
	RUN_PID=
}

teardown() {
	# the stages and the coordinator die with spsc (PR_SET_PDEATHSIG)
	if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
		kill -KILL "$RUN_PID" 2>/dev/null || true
	fi
	cd / && rm -rf "$TMP"
}

# section PAGE NAME: the roff source of section NAME of PAGE.
section() {
	sed -n "/^\\.SH \"\\?$2\"\\?\$/,/^\\.SH /p" "$1" | sed '$d'
}

# block PAGE FIRST: the lines of the .nf block of PAGE whose first line
# starts with FIRST (as written in roff), roff escapes undone.
block() {
	python3 - "$1" "$2" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
for i, l in enumerate(lines):
    if l.startswith(sys.argv[2]) and i > 0 and lines[i - 1] == ".nf":
        for l in lines[i:]:
            if l == ".fi":
                break
            for a, b in (("\\-", "-"), ("\\(aq", "'"), ("\\(ga", "`"),
                         ("\\(dq", '"'), ("\\e", "\\"), ("\\fI", ""),
                         ("\\fP", ""), ("\\fB", ""), ("\\&", "")):
                l = l.replace(a, b)
            print(l)
        sys.exit(0)
sys.exit("no block starting with " + sys.argv[2])
PY
}

@test "spsc(1) and spsc-dag(5) are installed with the other pages" {
	grep -qE '^dist_man_MANS \+=.* man/spsc\.1( |$)' "$SPSC_SRCDIR/man/local.mk"
	grep -qE '^dist_man_MANS \+=.* man/spsc-dag\.5( |$)' "$SPSC_SRCDIR/man/local.mk"
}

@test "spsc(1), spsc-dag(5) and spsc(7) format without warnings" {
	command -v groff >/dev/null || skip "groff is not installed"
	for page in "$PAGE" "$DAGPAGE" "$OVERVIEW"; do
		run groff -man -t -ww -z "$page"
		[ "$status" -eq 0 ]
		[ -z "$output" ] || { echo "${page##*/}: $output"; return 1; }
	done
}

@test "spsc(7) and every program's page point to spsc(1) and spsc-dag(5)" {
	for page in "$OVERVIEW" "$SPSC_SRCDIR"/man/spsc-*.1; do
		see=$(section "$page" "SEE ALSO")
		[[ $see == *".BR spsc (1),"* ]] || { echo "${page##*/}: no spsc(1)"; return 1; }
		[[ $see == *".BR spsc-dag (5),"* || $see == *".BR spsc\\-dag (5),"* ]] ||
			{ echo "${page##*/}: no spsc-dag(5)"; return 1; }
	done
	grep -q '^\.SH "ONE DAG, THREE WAYS"$' "$OVERVIEW"
}

@test "every option and command of spsc --help is in spsc(1)" {
	local opt esc cmd
	for opt in $(spsc --help | grep -o -- '--[a-z][a-z-]*' | sort -u) -q; do
		esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
		grep -q -- "$esc" "$PAGE" || { echo "$opt is missing from man/spsc.1"; return 1; }
	done
	for cmd in $(spsc --help | sed -En 's/^  ([a-z]+) .*DAG.*/\1/p'); do
		section "$PAGE" COMMANDS | grep -q "^\\.BI $cmd \"" ||
			{ echo "command $cmd has no entry in COMMANDS"; return 1; }
		grep -q "^\\.B spsc $cmd\$" "$PAGE" ||
			{ echo "command $cmd is not in the SYNOPSIS"; return 1; }
	done
}

@test "every exit status of spsc.h is in spsc(1)" {
	local n
	for n in $(sed -En 's/^#define EXIT_[A-Z]+ ([0-9]+).*/\1/p' "$SPSC_SRCDIR/cmd/spsc/spsc.h") 0 1 2; do
		section "$PAGE" 'EXIT STATUS' | grep -qx "\\.B $n" ||
			{ echo "exit status $n is not in EXIT STATUS"; return 1; }
	done
}

# Every key of status --json and of state.json, from a running DAG whose
# queue the coordinator holds, has its row or its mention in spsc(1).
@test "spsc status --json and state.json: every key is in spsc(1)" {
	mkdir in
	cat > d.dag <<'EOF'
src:  spsc-source --watch in -o q
sink: spsc-sink -i q out.txt
EOF
	spsc run d.dag 2>run.log &
	RUN_PID=$!
	local i
	for i in $(seq 200); do
		spsc status --json d.dag > st.json 2>/dev/null &&
			python3 -c 'import json,sys; d=json.load(open("st.json")); sys.exit(not (d["running"] and d["queues"] and d["queues"][0]["known"]))' &&
			break
		sleep 0.1
	done
	python3 - "$TMP/st.json" "$SPSC_HOME/dags/d/state.json" > keys <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
state = json.load(open(sys.argv[2]))
def keys(where, objs):
    for o in objs:
        for k in o:
            print(where, k)
keys("status", [st])
keys("status", st["stages"])
keys("status", st["queues"])
keys("state", [state])
keys("state", state["stages"])
keys("state", [r for s in state["stages"] for r in s["replicas"]])
keys("state", [state["coordinator"]])
PY
	spsc stop d.dag
	wait "$RUN_PID"
	RUN_PID=
	local status_sec files_sec where key
	status_sec=$(section "$PAGE" STATUS)
	files_sec=$(section "$PAGE" FILES)
	sort -u keys | while read -r where key; do
		if [ "$where" = status ]; then
			grep -q "^$key	" <<<"$status_sec" ||
				{ echo "status --json: no row for $key"; exit 1; }
		else
			grep -qE "^\\.(B|BR|RB) (\\{ )?$key( |\$)" <<<"$files_sec" ||
				{ echo "state.json: $key is not in FILES"; exit 1; }
		fi
	done
	[ "$(wc -l < keys)" -gt 20 ]
}

# Each diag_error and diag_warn format of the launcher, and each syntax
# error of its lexer, matches a message of spsc-dag(5), CHECKS, where
# every conversion (%s, %d, ...) stands for anything.
@test "every message of spsc check is in spsc-dag(5), CHECKS" {
	command -v groff >/dev/null || skip "groff is not installed"
	command -v col >/dev/null || skip "col is not installed"
	# the page on lines long enough for every message to stay on one
	groff -man -t -Tutf8 -rLL=2000n "$DAGPAGE" 2>/dev/null |
		sed 's/\x1b\[[0-9;]*m//g' | col -bx |
		sed -n '/^CHECKS$/,/^EXAMPLES$/p' > checks.txt
	[ -s checks.txt ]
	python3 - "$SPSC_SRCDIR/cmd/spsc" checks.txt <<'PY'
import glob, re, sys
page = open(sys.argv[2]).read()
for a, b in (("\u2010", "-"), ("\u2212", "-"), ("\u2019", "'"), ("\u2018", "'"),
             ("\u201c", '"'), ("\u201d", '"')):
    page = page.replace(a, b)
page = re.sub(r"[ \t]+", " ", page)
lit = r'"((?:[^"\\]|\\.)*)"'
formats = []
for path in glob.glob(sys.argv[1] + "/*.c"):
    src = open(path).read()
    for m in re.finditer(r"\bdiag_(?:error|warn)\s*\(", src):
        call = src[m.end():src.find(";", m.end())]
        first = re.search(lit, call)
        if not first:
            continue
        text, rest = first.group(1), call[first.end():]
        while True:
            more = re.match(r"\s*" + lit, rest)
            if not more:
                break
            text += more.group(1)
            rest = rest[more.end():]
        formats.append(text)
    if path.endswith("/lex.c"):
        formats += re.findall(r"fail\(lx, [^,]+, " + lit + r"\)", src)
        formats += re.findall(r"return " + lit + ";", src)
missing = []
for f in formats:
    f = bytes(f, "utf-8").decode("unicode_escape")
    if f.strip("%s") == "":
        continue        # "%s": a message from elsewhere
    pattern = ".*?".join(re.escape(p) for p in re.split(r"%[-0-9.*]*l*[sdiu]", f))
    if not re.search(pattern, page):
        missing.append(f)
if len(formats) < 20:
    sys.exit("only %d formats found" % len(formats))
if missing:
    sys.exit("not in CHECKS:\n  " + "\n  ".join(missing))
PY
}

@test "the DAGs of spsc-dag(5) check, and draw and fail as the page says" {
	command -v jq >/dev/null || skip "jq is not installed"
	: > corpus.txt
	: > combine.awk
	mkdir incoming
	# the word count: the example's own file, stage for stage
	block "$DAGPAGE" '# WordCount over queues' > wordcount.dag
	diff <(grep -v -e '^#' -e '^$' wordcount.dag) \
		<(grep -v -e '^#' -e '^$' "$SPSC_SRCDIR/examples/wordcount/wordcount.dag")
	run spsc check wordcount.dag
	[ "$status" -eq 0 ]
	spsc graph --format text wordcount.dag > graph.txt
	diff graph.txt <(block "$DAGPAGE" 'ingest*1')
	# the stage that is no spsc program
	block "$DAGPAGE" 'ingest:  spsc\-source \-\-watch incoming' > flag.dag
	run spsc check flag.dag
	[ "$status" -eq 0 ]
	[ "$(spsc graph --format text flag.dag | sed -n 2p)" = "flag*1           lines -> flagged" ]
	# the DAG with an external queue, and without its external line
	block "$DAGPAGE" 'name views' > views.dag
	run spsc check views.dag
	[ "$status" -eq 0 ]
	grep -v '^external' views.dag > v.dag
	mv v.dag views.dag
	run spsc check views.dag
	[ "$status" -eq 1 ]
	[ "$output" = "$(block "$DAGPAGE" 'views.dag:')" ]
	# and the DAGs of spsc(1) and spsc(7)
	block "$DAGPAGE" '# wc.dag: count the words' > a.dag
	block "$PAGE" 'ingest:  spsc\-source \-n 500' > b.dag
	block "$OVERVIEW" '# /srv/wc/wc.dag' > c.dag
	for f in a.dag b.dag c.dag; do
		run spsc check "$f"
		[ "$status" -eq 0 ] || { echo "$f: $output"; return 1; }
	done
}
