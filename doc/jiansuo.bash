# jiansuo.bash — bash completion for jiansuo(1).
#
# Installed as bash-completion/completions/jiansuo, where bash-completion
# loads it the first time "jiansuo" is completed; it can also be sourced
# by hand.  Completes the commands, each command's options, directories
# after -d/--index, the format, encoding and backend names, files after
# --queries, and files and directories for the paths of index and
# sections (and for analyze, whose words are text: as bash would without
# this script).
#
# The lists below follow 'jiansuo --help' and 'jiansuo CMD --help';
# they are written out rather than read from --help, which would run the
# program on every Tab.  tests/completion.sh compares them with the
# program's --help, so a new option or command fails that test until it
# is added here.  A new command: add it to cmds, give it a case in
# _jiansuo_options, and say what its positional arguments are below.

_jiansuo_options()
{
    case $1 in
    analyze) echo "--json --no-fold -h --help" ;;
    sections) echo "--json --format --encoding --hidden -h --help" ;;
    index)
        echo "-d --index --memory --threads --format --encoding --hidden" \
            "--no-fold --backend --shards --update --wait -h --help"
        ;;
    add)
        echo "-d --index --wait --memory --format --encoding --hidden" \
            "-h --help"
        ;;
    delete) echo "-d --index --wait --id --path -h --help" ;;
    merge) echo "-d --index --wait --memory --segments -h --help" ;;
    search)
        echo "-d --index --backend --remote --no-fold -n --limit --offset" \
            "--json --no-snippet --no-partial --exact-total --no-champions" \
            "--queries --follow --explain --k1 --b --heading-weight --snippet-chars" \
            "-h --help"
        ;;
    stats) echo "-d --index --backend --json -h --help" ;;
    check) echo "-d --index --backend -h --help" ;;
    serve)
        echo "-d --index --backend --listen --threads --write-token-file" \
            "--tls-cert --tls-key --max-body --max-url --max-headers" \
            "--max-connections --idle-timeout --request-timeout --memory --cache" \
            "--merge-factor" \
            "--log --quiet -h --help"
        ;;
    esac
}

_jiansuo()
{
    local cur prev words cword split=false
    local cmds="analyze sections index add delete merge search stats check serve"

    if declare -F _init_completion >/dev/null 2>&1; then
        # bash-completion: also splits --opt=value (-s)
        _init_completion -s || return
    else
        # Without bash-completion: bash has split --opt=value into
        # "--opt" "=" "value" (= is in COMP_WORDBREAKS).
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${words[cword]}
        prev=
        ((cword > 0)) && prev=${words[cword - 1]}
        if [[ $cur == = ]] && ((cword > 1)); then
            prev=${words[cword - 1]}
            cur=
        elif [[ $prev == = ]] && ((cword > 1)); then
            prev=${words[cword - 2]}
        fi
    fi

    # jiansuo's first argument is the command, or a top-level option.
    if ((cword == 1)); then
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "-h --help -V --version" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -W "$cmds" -- "$cur")
        fi
        return
    fi
    local cmd=${words[1]}

    # The argument of the option before the cursor, when the command has
    # that option (sections has no -d: there it is a path).
    if [[ " $(_jiansuo_options "$cmd") " == *" $prev "* ]]; then
        case $prev in
        -d | --index)
            _jiansuo_files -d
            return
            ;;
        --format)
            mapfile -t COMPREPLY < <(compgen -W "text markdown html man jsonl" -- "$cur")
            return
            ;;
        --encoding)
            mapfile -t COMPREPLY < <(compgen -W "utf-8 gb18030 gbk big5" -- "$cur")
            return
            ;;
        --backend)
            mapfile -t COMPREPLY < <(compgen -W "native xapian" -- "$cur")
            return
            ;;
        --queries | --write-token-file | --tls-cert | --tls-key | --log)
            _jiansuo_files
            return
            ;;
        --memory | --threads | --shards | -n | --limit | --offset | --remote | \
            --k1 | --b | --heading-weight | --snippet-chars | --listen | \
            --max-body | --max-url | --max-headers | --max-connections | \
            --idle-timeout | --request-timeout | --cache | --merge-factor)
            # a number, or host:port: nothing to offer
            COMPREPLY=()
            return
            ;;
        esac
    fi
    # --opt=value for an option that takes no value: nothing to offer
    if [[ $split == true ]]; then
        COMPREPLY=()
        return
    fi

    # After "--", search's words are all query words.
    local i
    for ((i = 2; i < cword; i++)); do
        if [[ ${words[i]} == -- ]]; then
            COMPREPLY=()
            return
        fi
    done

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_jiansuo_options "$cmd")" -- "$cur")
        return
    fi

    # Positional arguments.
    case $cmd in
    index | add | sections | analyze) _jiansuo_files ;;
    delete)
        # paths after --path; ids are the user's to type
        local j
        for ((j = 2; j < cword; j++)); do
            if [[ ${words[j]} == --path ]]; then
                _jiansuo_files
                return
            fi
        done
        COMPREPLY=()
        ;;
    *) COMPREPLY=() ;; # a query, or nothing (stats, check, serve)
    esac
}

# _jiansuo_files [-d]: files and directories (directories only with -d)
# matching $cur (_jiansuo's, bash scoping being dynamic), through
# bash-completion's _filedir where it is loaded.
_jiansuo_files()
{
    if declare -F _filedir >/dev/null 2>&1; then
        _filedir "$@"
        return
    fi
    compopt -o filenames 2>/dev/null
    if [[ ${1-} == -d ]]; then
        mapfile -t COMPREPLY < <(compgen -d -- "$cur")
    else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}

complete -F _jiansuo jiansuo
