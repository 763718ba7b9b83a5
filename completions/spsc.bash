# bash completion for the spsc programs                     -*- shell-script -*-
#
# Source it (". completions/spsc.bash"), or install it as
# $datadir/bash-completion/completions/<program> for each program.
#
# Everything program-specific is in the table below, one line per option,
# spelled as in the program's --help: its names, the long one followed by
# =ARG (a required argument) or [=ARG] (an optional one, which must then be
# attached: --compress=19).  What ARG is decides what gets completed:
#
#   ENDPOINT FILE PATH   file names (an endpoint with a '/' is a file)
#   DIR                  directory names
#   DAG                  DAG files (*.dag, see spsc-dag(5)) and directories
#   STAGE                the stage names of the DAG that is the first operand
#   COMMAND              command names
#   word|word            these words (lower case: literal choices)
#   anything else        nothing (N, SIZE, DURATION, NAME, ...)
#
# A line "ARGS KIND" says the same of the operands.  For KIND COMMAND the
# first operand (or the word after --) starts a command line of its own,
# which is completed as that command's.
#
# A program whose first operand is a command of its own (spsc run, spsc
# stop, ...) has a line "COMMANDS word|word...".  Any line may then end in
# "@cmd,cmd...": the option is one of those commands', the ARGS line their
# operands; a line without it holds for every command (and an option
# without it is also offered before the command: --help).  Such a
# program's ARGS line names its operands one by one, "ARGS DAG DIR" a DAG
# and then a directory, and nothing after the last, unless the last ends
# in "...": "ARGS DAG STAGE..." is a DAG and any number of stages.
#
# A new program is one more entry, here and in the zsh completion, _spsc,
# which has the same table word for word (t/completions.bats checks both
# against each program's --help).

declare -gA _spsc_table=(
[spsc]='
--once @run
--stop-timeout=DURATION @run,stop,systemd
--json @status
--watch[=DURATION] @status
--format=dot|text @graph
--status @graph
--timer=CALENDAR @systemd
--remove @systemd
--host=NAME @systemd
-q --quiet @check
--help
--version
COMMANDS check|run|status|graph|stop|systemd
ARGS DAG
ARGS DAG STAGE... @status
ARGS DAG DIR @systemd
'
[spsc-source]='
-o --output=ENDPOINT
-n --atom-events=N
-b --atom-bytes=SIZE
-l --linger=DURATION
--name=NAME
-z --compress[=LEVEL]
--time=FIELD
-t --separator=SEP
--lateness=DURATION
-f --follow
-w --watch=DIR
--rate=N
--progress
--no-progress
--print-endpoints
--state=DIR
--once
--max-atom=SIZE
--help
--version
ARGS FILE
'
[spsc-coord]='
--home=DIR
--bind=URL
--allow-remote
--curve=FILE
--clients=DIR
--fsync=POLICY
--dedup-window=DURATION
--segment-size=SIZE
--max-atom=SIZE
--max-queues=N
--max-waiters=N
--visibility=DURATION
--max-receives=N
--max-depth=N
--max-bytes=SIZE
--retention=DURATION
--producers=N
-c --coord=URL
--json
--watch[=DURATION]
--repair
--help
--version
ARGS serve|status|create|delete|purge|redrive|seal|reopen|peek|put|keygen|fsck
'
[spsc-op]='
-i --input=ENDPOINT
-o --output=ENDPOINT
-j --jobs=N
--ordered
-t --timeout=DURATION
--grace=DURATION
-r --retries=N
--ok-exit=CODES
--dlq=ENDPOINT
--warm
--shell
--name=NAME
-z --compress[=LEVEL]
--drain
--max-atom=SIZE
--spill=SIZE
-q --quiet
--print-endpoints
--help
--version
ARGS COMMAND
'
[spsc-shuffle]='
-i --input=ENDPOINT
-o --output=ENDPOINT
-p --partitions=N
-k --key=KEY
-t --separator=SEP
--broadcast
--round-robin
--on-error=dlq|skip|fail
--dlq=ENDPOINT
--name=NAME
--drain
--max-atom=SIZE
--print-endpoints
-h --help
-V --version
'
[spsc-reduce]='
-i --input=ENDPOINT
-o --output=ENDPOINT
-k --key=KEY
-t --separator=SEP
--tumbling=DURATION
--sliding=SIZE/SLIDE
--session=DURATION
--time=FIELD
--lateness=DURATION
--late=ENDPOINT
--on-error=dlq|skip|fail
--dlq=ENDPOINT
--json
--name=NAME
--state=DIR
--checkpoint=DURATION
--checkpoint-atoms=N
--drain
--max-atom=SIZE
--print-endpoints
-h --help
-V --version
ARGS AGG
'
[spsc-sink]='
-i --input=ENDPOINT
--journal=FILE
--fsync
--stats[=text|json]
--max-atom=SIZE
--drain
--print-endpoints
-h --help
-V --version
ARGS PATH
'
)

# _spsc_parse PROGRAM [COMMAND]: reads the program's table, the lines
# that hold for COMMAND (without one, those for every command), into
# _spsc_names (every option name), _spsc_arg (name -> ARG of an option
# with a required argument), _spsc_optarg (name -> ARG of an optional
# one), _spsc_args (the operands' kinds) and _spsc_commands (the words of
# a COMMANDS line, |-separated).
_spsc_parse() {
	local line name names arg scope own=
	_spsc_names=() _spsc_args= _spsc_commands=
	_spsc_arg=() _spsc_optarg=()
	while read -r line; do
		[[ -n $line ]] || continue
		scope=
		if [[ $line == *' @'* ]]; then
			scope=,${line##* @},
			line=${line% @*}
			[[ -n ${2-} && $scope == *,"$2",* ]] || continue
		fi
		if [[ $line == COMMANDS\ * ]]; then
			_spsc_commands=${line#COMMANDS }
			continue
		fi
		if [[ $line == ARGS\ * ]]; then
			# a command's own ARGS line wins over the general one
			[[ -z $own ]] && _spsc_args=${line#ARGS }
			[[ -z $scope ]] || own=1
			continue
		fi
		names=${line%%[[=]*}
		arg=${line#"$names"}
		for name in $names; do
			_spsc_names+=("$name")
			case $arg in
			'') ;;
			\[=*\]) [[ $name == --* ]] && _spsc_optarg[$name]=${arg:2:-1} ;;
			=*) _spsc_arg[$name]=${arg#=} ;;
			esac
		done
	done <<<"${_spsc_table[$1]}"
}

# _spsc_complete_kind KIND PREFIX: candidates for an argument of that kind.
_spsc_complete_kind() {
	local IFS=$'\n'
	case $1 in
	ENDPOINT | FILE | PATH)
		compopt -o filenames 2>/dev/null || :
		COMPREPLY=($(compgen -f -- "$2" || :)) ;;
	DIR)
		compopt -o filenames 2>/dev/null || :
		COMPREPLY=($(compgen -d -- "$2" || :)) ;;
	DAG)
		compopt -o filenames 2>/dev/null || :
		COMPREPLY=($(compgen -d -- "$2" || :
			compgen -f -X '!*.dag' -- "$2" || :)) ;;
	STAGE)
		COMPREPLY=($(compgen -W "$(_spsc_stages "${_spsc_ops[0]-}")" -- "$2" || :)) ;;
	COMMAND)
		COMPREPLY=($(compgen -c -- "$2" || :)) ;;
	*[a-z]*)
		COMPREPLY=($(compgen -W "${1//|/$'\n'}" -- "$2" || :)) ;;
	*)
		COMPREPLY=() ;;
	esac
}

# _spsc_words: COMP_WORDS with "--opt" "=" "value" joined back into
# "--opt=value" (bash splits words at '='), as _spsc_w, the index of the
# word under the cursor as _spsc_cw, and each word's first index in
# COMP_WORDS as _spsc_orig.
_spsc_words() {
	local i j=-1 tok
	_spsc_w=() _spsc_orig=() _spsc_cw=0
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		tok=${COMP_WORDS[i]}
		if ((j >= 0)) && [[ $tok == '=' || ${_spsc_w[j]} == --*= ]] &&
			[[ ${_spsc_w[j]} == --* ]]; then
			_spsc_w[j]+=$tok
		else
			_spsc_w[++j]=$tok
			_spsc_orig[j]=$i
		fi
		((i == COMP_CWORD)) && _spsc_cw=$j
	done
}

# _spsc_command INDEX: complete the command line that starts at word
# INDEX (of _spsc_w), as bash-completion would for that command.
_spsc_command() {
	if ((_spsc_cw == $1)); then
		_spsc_complete_kind COMMAND "${_spsc_w[_spsc_cw]}"
	elif declare -F _command_offset >/dev/null; then
		_command_offset "${_spsc_orig[$1]}"
	else
		_spsc_complete_kind FILE "${_spsc_w[_spsc_cw]}"
	fi
}

# _spsc_operand N: the kind of operand N (from 0), as _spsc_kind: for a
# program with commands, the Nth of its ARGS (after the last, none, or the
# last again if it ends in ...); else its one kind.
_spsc_operand() {
	local -a kinds
	_spsc_kind=$_spsc_args
	[[ -n $_spsc_commands ]] || return 0
	read -ra kinds <<<"$_spsc_args"
	_spsc_kind=${kinds[$1]-}
	if [[ -z $_spsc_kind ]] && ((${#kinds[@]})) && [[ ${kinds[-1]} == *... ]]; then
		_spsc_kind=${kinds[-1]}
	fi
	_spsc_kind=${_spsc_kind%...}
}

# _spsc_stages FILE: the names of the stages of a DAG file, one a line:
# the lines that start with NAME: or NAME*N: (spsc-dag(5)).
_spsc_stages() {
	[[ -r $1 && -f $1 ]] || return 0
	sed -nE 's/^[[:blank:]]*([A-Za-z0-9_][A-Za-z0-9_-]*)(\*[0-9]+)?:.*/\1/p' -- "$1"
}

_spsc() {
	local prog=${COMP_WORDS[0]##*/} cur prev i w opt first=1 n=0
	local -a _spsc_names _spsc_w _spsc_orig _spsc_ops=()
	local -A _spsc_arg _spsc_optarg
	local _spsc_args _spsc_cw _spsc_commands _spsc_kind

	COMPREPLY=()
	[[ -n ${_spsc_table[$prog]+set} ]] || return 0
	_spsc_parse "$prog"
	_spsc_words
	cur=${_spsc_w[_spsc_cw]}

	# A program with commands: the first word is the command, and what
	# follows is completed from that command's lines of the table.
	if [[ -n $_spsc_commands ]]; then
		if ((_spsc_cw == 1)); then
			local IFS=$'\n'
			if [[ $cur == -* ]]; then
				COMPREPLY=($(compgen -W "${_spsc_names[*]}" -- "$cur" || :))
			else
				COMPREPLY=($(compgen -W "${_spsc_commands//|/$'\n'}" -- "$cur" || :))
			fi
			return 0
		fi
		_spsc_parse "$prog" "${_spsc_w[1]}"
		first=2
	fi

	# Walk the words before the cursor: skip option arguments, count the
	# operands, and stop where the operands of a COMMAND program begin.
	for ((i = first; i < _spsc_cw; i++)); do
		w=${_spsc_w[i]}
		if [[ $w == -- ]]; then
			if [[ $_spsc_args == COMMAND ]]; then
				_spsc_command $((i + 1))
				return 0
			fi
			_spsc_ops+=("${_spsc_w[@]:i+1:_spsc_cw-i-1}")
			_spsc_operand $((n + _spsc_cw - i - 1))
			_spsc_complete_kind "$_spsc_kind" "$cur"
			return 0
		elif [[ $w == -?* && $w != *=* && -n ${_spsc_arg[$w]+set} ]]; then
			((i++))	# its argument is the next word
		elif [[ $w != -* && $_spsc_args == COMMAND ]]; then
			_spsc_command "$i"
			return 0
		elif [[ $w != -* ]]; then
			_spsc_ops+=("$w")
			n=$((n + 1))
		fi
	done

	prev=${_spsc_w[_spsc_cw - 1]}
	if ((_spsc_cw > 1)) && [[ $prev == -?* && $prev != *=* && -n ${_spsc_arg[$prev]+set} ]]; then
		_spsc_complete_kind "${_spsc_arg[$prev]}" "$cur"
	elif [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		_spsc_complete_kind "${_spsc_arg[$opt]:-${_spsc_optarg[$opt]:-}}" "${cur#*=}"
		# Bash replaces only what follows the '=' when '=' breaks words.
		[[ $COMP_WORDBREAKS == *=* ]] ||
			COMPREPLY=("${COMPREPLY[@]/#/$opt=}")
	elif [[ $cur == -* ]]; then
		local IFS=$'\n'
		COMPREPLY=($(compgen -W "${_spsc_names[*]}" -- "$cur" || :))
	elif [[ $_spsc_args == COMMAND ]]; then
		_spsc_command "$_spsc_cw"
	else
		_spsc_operand "$n"
		_spsc_complete_kind "$_spsc_kind" "$cur"
	fi
	return 0
}

complete -F _spsc "${!_spsc_table[@]}"
