#!/usr/bin/env bats
# completions/spsc.bash: what bash offers for the spsc programs.  Each test
# sets the variables bash sets for a completion function and checks the
# COMPREPLY it leaves.

load helpers

setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/spsc-test.XXXXXX")
	cd "$TMP" || return 1
	# bash-completion's helpers, where installed, must not change the result.
	unset -f _command_offset
	source "$SPSC_SRCDIR/completions/spsc.bash"
	touch foo.atoms fab.txt other.txt
	mkdir fdir
}

# complete_line LINE: completes at the end of LINE (a trailing space starts
# a new, empty word) and sets `got` to the sorted, unique candidates.
complete_line() {
	COMP_LINE=$1
	COMP_POINT=${#COMP_LINE}
	read -ra COMP_WORDS <<<"$COMP_LINE"
	[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_spsc
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort -u | tr '\n' ' ')
	got=${got% }
}

@test "completion: every program is registered" {
	run complete -p spsc-source spsc-op spsc-sink
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ $output == *"complete -F _spsc spsc-op"* ]]
}

@test "completion: long option names by prefix" {
	complete_line 'spsc-op --ti'
	[ "$got" = "--timeout" ]
	complete_line 'spsc-source --atom-'
	[ "$got" = "--atom-bytes --atom-events" ]
	complete_line 'spsc-sink --st'
	[ "$got" = "--stats" ]
}

@test "completion: spsc-op offers all its options after a dash" {
	complete_line 'spsc-op -'
	for o in -j --jobs --warm --ordered -t --timeout -r --retries --dlq --shell --help --version; do
		[[ " $got " == *" $o "* ]] || { echo "missing $o in: $got"; return 1; }
	done
}

@test "completion: file arguments complete file names" {
	complete_line 'spsc-op --dlq f'
	[ "$got" = "fab.txt fdir foo.atoms" ]
	complete_line 'spsc-source -n 10 o'
	[ "$got" = "other.txt" ]
	complete_line 'spsc-sink -i fo'
	[ "$got" = "foo.atoms" ]
}

@test "completion: a DIR argument completes directories only" {
	complete_line 'spsc-source --watch '
	[ "$got" = "fdir" ]
}

@test "completion: numbers and durations get no candidates" {
	complete_line 'spsc-source -n '
	[ -z "$got" ]
	complete_line 'spsc-op --timeout '
	[ -z "$got" ]
}

@test "completion: --opt=value, split at '=' as bash does" {
	COMP_WORDS=(spsc-sink --stats =)
	COMP_CWORD=2
	_spsc
	[ "${COMPREPLY[*]}" = "text json" ]
	COMP_WORDS=(spsc-op --dlq = fo)
	COMP_CWORD=3
	_spsc
	[ "${COMPREPLY[*]}" = "foo.atoms" ]
}

@test "completion: spsc-op completes the command, then its arguments" {
	mkdir bin
	printf '#!/bin/sh\n' >bin/spsc-test-tool
	chmod +x bin/spsc-test-tool
	PATH=$TMP/bin:$PATH
	complete_line 'spsc-op -j 2 -- spsc-test-t'
	[ "$got" = "spsc-test-tool" ]
	complete_line 'spsc-op -j 2 spsc-test-t'
	[ "$got" = "spsc-test-tool" ]
	# After the command, the words are its own: --dlq is not ours.
	complete_line 'spsc-op -j 2 -- spsc-test-tool --dl'
	[ -z "$got" ]
	complete_line 'spsc-op -- spsc-test-tool ot'
	[ "$got" = "other.txt" ]
}

@test "completion: an option's argument is not taken for the command" {
	complete_line 'spsc-op -t 5s --dlq foo.atoms -r 2 --w'
	[ "$got" = "--warm" ]
}

@test "completion: spsc-coord's commands, then its options" {
	complete_line 'spsc-coord fs'
	[ "$got" = "fsck" ]
	complete_line 'spsc-coord fsck --rep'
	[ "$got" = "--repair" ]
	complete_line 'spsc-coord re'
	[ "$got" = "redrive reopen" ]
	complete_line 'spsc-coord se'
	[ "$got" = "seal serve" ]
	complete_line 'spsc-coord create counts --pro'
	[ "$got" = "--producers" ]
	complete_line 'spsc-coord create counts --producers '
	[ -z "$got" ]
}

@test "completion: spsc-reduce's options and their arguments" {
	run complete -p spsc-reduce
	[ "$status" -eq 0 ]
	complete_line 'spsc-reduce --on-error '
	[ "$got" = "dlq fail skip" ]
	complete_line 'spsc-reduce --st'
	[ "$got" = "--state" ]
	complete_line 'spsc-reduce --state '
	[ "$got" = "fdir" ]
	complete_line 'spsc-reduce --late fo'
	[ "$got" = "foo.atoms" ]
	complete_line 'spsc-reduce -k 1 --tumbling '
	[ -z "$got" ]
	complete_line 'spsc-reduce --check'
	[ "$got" = "--checkpoint --checkpoint-atoms" ]
}

# The tables must list exactly the options each program documents: every
# long option, and each short one with its long name ("-j --jobs").
@test "completion: tables match each program's --help" {
	local p help table text
	for p in spsc spsc-source spsc-op spsc-sink spsc-shuffle spsc-reduce spsc-coord; do
		# each filter reads the whole text (one after the other on one
		# pipe, the second would get nothing)
		text=$("$p" --help)
		help=$({
			grep -o -- '--[a-z][a-z-]*' <<<"$text"
			sed -En 's/^ +(-[a-zA-Z0-9]), (--[a-z][a-z-]*).*/\1 \2/p' <<<"$text"
		} | sort -u)
		text=${_spsc_table[$p]}
		table=$({
			grep -o -- '--[a-z][a-z-]*' <<<"$text"
			sed -En 's/^(-[a-zA-Z0-9]) (--[a-z][a-z-]*).*/\1 \2/p' <<<"$text"
		} | sort -u)
		if [ "$help" != "$table" ]; then
			echo "$p: --help and completions/spsc.bash differ:"
			diff <(echo "$help") <(echo "$table") || true
			return 1
		fi
	done
}

@test "completion: spsc's commands are those of its --help" {
	local help table
	help=$(spsc --help | sed -En 's/^  ([a-z]+) .*DAG.*/\1/p' | sort | tr '\n' ' ')
	table=$(printf '%s\n' "${_spsc_table[spsc]}" | sed -n 's/^COMMANDS //p' |
		tr '|' '\n' | sort | tr '\n' ' ')
	[ -n "$help" ]
	[ "$help" = "$table" ] || { echo "--help: $help; table: $table"; return 1; }
}

@test "completion: spsc and spsc-reduce are registered and installed" {
	run complete -p spsc spsc-reduce
	[ "$status" -eq 0 ]
	[[ $output == *"complete -F _spsc spsc"$'\n'* ]]
	# installed for bash (one copy per command) and named by zsh's #compdef
	local mk="$SPSC_SRCDIR/examples/local.mk" p
	for p in spsc spsc-source spsc-op spsc-sink spsc-shuffle spsc-reduce spsc-coord; do
		grep -qE "^SPSC_COMPLETED_COMMANDS = (.* )?$p( |\$)" "$mk" ||
			{ echo "$p is not in SPSC_COMPLETED_COMMANDS"; return 1; }
		head -n1 "$SPSC_SRCDIR/completions/_spsc" | grep -qE "^#compdef (.* )?$p( |\$)" ||
			{ echo "$p is not on the #compdef line"; return 1; }
	done
}

@test "completion: spsc completes its commands, then each command's options" {
	complete_line 'spsc '
	[ "$got" = "check graph run status stop systemd" ]
	complete_line 'spsc st'
	[ "$got" = "status stop" ]
	complete_line 'spsc -'
	[ "$got" = "--help --version" ]
	complete_line 'spsc run --'
	[ "$got" = "--help --once --stop-timeout --version" ]
	complete_line 'spsc status --'
	[ "$got" = "--help --json --version --watch" ]
	complete_line 'spsc check -'
	[ "$got" = "--help --quiet --version -q" ]
	complete_line 'spsc systemd --t'
	[ "$got" = "--timer" ]
	complete_line 'spsc graph --format '
	[ "$got" = "dot text" ]
	complete_line 'spsc run --stop-timeout '
	[ -z "$got" ]
}

@test "completion: spsc completes DAG files and directories, and systemd's DIR" {
	touch wc.dag other.dag
	complete_line 'spsc run '
	[ "$got" = "fdir other.dag wc.dag" ]
	complete_line 'spsc run w'
	[ "$got" = "wc.dag" ]
	complete_line 'spsc run --once --stop-timeout 5s o'
	[ "$got" = "other.dag" ]
	complete_line 'spsc check -q f'
	[ "$got" = "fdir" ]
	# one DAG: nothing after it
	complete_line 'spsc run wc.dag '
	[ -z "$got" ]
	# systemd DAG DIR: then a directory
	complete_line 'spsc systemd '
	[ "$got" = "fdir other.dag wc.dag" ]
	complete_line 'spsc systemd --timer daily wc.dag '
	[ "$got" = "fdir" ]
	complete_line 'spsc systemd wc.dag fdir '
	[ -z "$got" ]
}

@test "completion: spsc status completes the DAG's stage names" {
	cat > wc.dag <<'EOF_'
# a comment, and a continued line, are no stages
env LC_ALL=C
ingest:  spsc-source -o raw in.txt
map*2:   spsc-op -i raw -o words \
  --name a:b -- cat
store:spsc-sink -i words out.txt
EOF_
	complete_line 'spsc status wc.dag '
	[ "$got" = "ingest map store" ]
	complete_line 'spsc status --json wc.dag map s'
	[ "$got" = "store" ]
	complete_line 'spsc status nosuch.dag '
	[ -z "$got" ]
	# the other commands take one DAG, and no stage
	complete_line 'spsc graph wc.dag '
	[ -z "$got" ]
}

# completions/_spsc (zsh) carries the same table, word for word.
@test "completion: the zsh table is the bash table" {
	local table='/^declare -gA _spsc_table=(/,/^)$/p'
	diff <(sed -n "$table" "$SPSC_SRCDIR/completions/spsc.bash") \
		<(sed -n "$table" "$SPSC_SRCDIR/completions/_spsc")
}

@test "completion: zsh turns the table into _arguments specs" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	zsh -n "$SPSC_SRCDIR/completions/_spsc"
	# Load the file's definitions without running the completion itself.
	run zsh -f -c '
		source <(sed "\$d" "$1")
		_spsc_specs spsc-op; _spsc_specs spsc-sink; _spsc_specs spsc-source' \
		zsh "$SPSC_SRCDIR/completions/_spsc"
	[ "$status" -eq 0 ]
	for spec in \
		'(-j --jobs)-j+:n: ' \
		'(-j --jobs)--jobs=:n: ' \
		'--dlq=:endpoint:_files' \
		'--warm' \
		'(-z --compress)--compress=-::level: ' \
		'(-)1:command:_command_names -e' \
		'*::arguments:_normal' \
		'--stats=-::text|json:(text json)' \
		'*:path:_files' \
		'(-w --watch)--watch=:dir:_files -/' \
		'*:file:_files'; do
		printf '%s\n' "${lines[@]}" | grep -qxF -- "$spec" || {
			echo "missing spec: $spec"
			printf '%s\n' "${lines[@]}"
			return 1
		}
	done
}

@test "completion: zsh gives each spsc command its own specs" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	run zsh -f -c '
		source <(sed "\$d" "$1")
		_spsc_specs spsc; print -- -; _spsc_specs spsc run; print -- -
		_spsc_specs spsc systemd; print -- -; _spsc_specs spsc status' \
		zsh "$SPSC_SRCDIR/completions/_spsc"
	[ "$status" -eq 0 ]
	local top run systemd status
	top=$(printf '%s\n' "${lines[@]}" | sed -n '1,/^-$/p' | sed '$d')
	run=$(printf '%s\n' "${lines[@]}" | sed -n '/^-$/,/^-$/p' | sed '1d;$d')
	systemd=$(printf '%s\n' "${lines[@]}" | sed '1,/^-$/d' | sed '1,/^-$/d' | sed '/^-$/,$d')
	status=$(printf '%s\n' "${lines[@]}" | sed '1,/^-$/d' | sed '1,/^-$/d' | sed '1,/^-$/d')
	# before the command: the command, and the options of every command
	[ "$top" = "$(printf '%s\n' --help --version \
		'1:command:(check run status graph stop systemd)')" ]
	# run: its options and one DAG file
	for spec in '--once' '--stop-timeout=:duration: ' '--help' \
		'1:dag:_files -g "*.dag"'; do
		grep -qxF -- "$spec" <<<"$run" || { echo "run: missing $spec"; echo "$run"; return 1; }
	done
	! grep -qE -- '--json|--timer|^2:|^\*:' <<<"$run"
	# systemd: a DAG, then a directory
	for spec in '--timer=:calendar: ' '--remove' '1:dag:_files -g "*.dag"' \
		'2:dir:_files -/'; do
		grep -qxF -- "$spec" <<<"$systemd" || { echo "systemd: missing $spec"; echo "$systemd"; return 1; }
	done
	# status: a DAG, then any number of its stages
	for spec in '--json' '--watch=-::duration: ' '1:dag:_files -g "*.dag"' \
		'*:stage:_spsc_stage_names'; do
		grep -qxF -- "$spec" <<<"$status" || { echo "status: missing $spec"; echo "$status"; return 1; }
	done
}

@test "completion: zsh hands spsc's command words on to _arguments" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	# _arguments replaced by a probe: what it would complete from
	run zsh -f -c '
		source <(sed "\$d" "$1")
		_arguments() { print -r -- "CURRENT=$CURRENT words=${(j:,:)words}"; print -rl -- "$@" }
		service=spsc
		words=(spsc run --on); CURRENT=3; _spsc; print -- -
		words=(spsc ru); CURRENT=2; _spsc' \
		zsh "$SPSC_SRCDIR/completions/_spsc"
	[ "$status" -eq 0 ]
	# after the command, the command word is the first word
	[ "${lines[0]}" = "CURRENT=2 words=run,--on" ]
	printf '%s\n' "${lines[@]}" | sed -n '1,/^-$/p' | grep -qxF -- '--once'
	# at the command, the commands
	printf '%s\n' "${lines[@]}" | sed '1,/^-$/d' | grep -qxF "CURRENT=2 words=spsc,ru"
	printf '%s\n' "${lines[@]}" | sed '1,/^-$/d' |
		grep -qxF '1:command:(check run status graph stop systemd)'
}

# zsh_complete LINE SENTINEL: what zsh lists for LINE<TAB>, through a
# pseudo-terminal (zpty), once SENTINEL shows in it (or 10 s went by):
# what the terminal shows after the line typed.
zsh_complete() {
	local out
	out=$(zsh -f -c '
		zmodload zsh/zpty || exit 3
		local out= chunk
		integer i
		zpty z zsh -f -i
		zpty -w z "PS1=\"> \"; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; PATH=\"$2\"; cd \"$3\""
		zpty -w -n z "$4"$'"'"'\t'"'"'
		for (( i = 0; i < 100; i++ )); do
			while zpty -r -t z chunk; do out+=$chunk; done
			[[ $out == *"$5"* ]] && break
			sleep 0.1
		done
		sleep 0.2
		while zpty -r -t z chunk; do out+=$chunk; done
		zpty -d z
		print -r -- "${out//$'"'"'\e'"'"'\[[0-9;?]#[a-zA-Z]/}"' \
		zsh "$SPSC_SRCDIR/completions" "$PATH" "$TMP" "$1" "$2")
	printf '%s\n' "${out#*"$1"}"
}

@test "completion: zsh completes spsc's commands, options, DAG files and stages" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	zsh -f -c 'zmodload zsh/zpty' 2>/dev/null || skip "zsh has no zpty module"
	printf 'ingest: spsc-source -o raw in.txt\nmap*2: spsc-op -i raw -- cat\n' > wc.dag
	touch other.dag
	out=$(zsh_complete 'spsc ' systemd)
	for w in check graph run status stop systemd; do
		[[ $out == *"$w"* ]] || { echo "missing $w in: $out"; return 1; }
	done
	out=$(zsh_complete 'spsc run --' stop-timeout)
	[[ $out == *--once* && $out == *--stop-timeout* ]] || { echo "$out"; return 1; }
	[[ $out != *--json* && $out != *--timer* ]] || { echo "$out"; return 1; }
	out=$(zsh_complete 'spsc run ' other.dag)
	[[ $out == *wc.dag* && $out == *other.dag* && $out == *fdir* ]] || { echo "$out"; return 1; }
	[[ $out != *fab.txt* && $out != *foo.atoms* ]] || { echo "$out"; return 1; }
	out=$(zsh_complete 'spsc status wc.dag ' ingest)
	[[ $out == *ingest* && $out == *map* ]] || { echo "$out"; return 1; }
}
