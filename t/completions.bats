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
	local p help table
	for p in spsc-source spsc-op spsc-sink spsc-shuffle spsc-reduce spsc-coord; do
		help=$("$p" --help | {
			grep -o -- '--[a-z][a-z-]*'
			sed -En 's/^ +(-[a-zA-Z0-9]), (--[a-z][a-z-]*).*/\1 \2/p'
		} | sort -u)
		table=$(printf '%s\n' "${_spsc_table[$p]}" | {
			grep -o -- '--[a-z][a-z-]*'
			sed -En 's/^(-[a-zA-Z0-9]) (--[a-z][a-z-]*).*/\1 \2/p'
		} | sort -u)
		if [ "$help" != "$table" ]; then
			echo "$p: --help and completions/spsc.bash differ:"
			diff <(echo "$help") <(echo "$table") || true
			return 1
		fi
	done
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
