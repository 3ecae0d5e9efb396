#!/bin/bash
# completion.sh — doc/jiansuo.bash completes what the program accepts.
#
# In:  $JIANSUO, the binary; the script is $DOC_DIR/jiansuo.bash (default
#      $srcdir/doc, srcdir being what automake's test driver exports).
# Loads the script (in two runs: with bash-completion, when installed, and
# without it), sets COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT as
# bash does for a line, calls _jiansuo and compares COMPREPLY, as a sorted
# set, with what is wanted.
# The commands, each command's options, the formats, encodings and
# backends are read from the program's --help (and the format names of
# the help are checked against the sources' format tables), so that the
# script's written-out lists cannot drift from the program unnoticed.
# Out: "ok ..." / "not ok ..." lines, then "completion: N passed, M failed";
#      exit status 1 if any check failed.
set -u
: "${JIANSUO:?JIANSUO must name the jiansuo binary}"
srcroot=${srcdir:-.}
doc=${DOC_DIR:-$srcroot/doc}
script=$(cd "$doc" && pwd)/jiansuo.bash # absolute: the checks cd

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $1"; }
finish() {
    echo "completion: $pass passed, $fail failed"
    [ "$fail" = 0 ]
    exit
}

if [ ! -r "$script" ]; then
    not_ok "$script is not readable"
    finish
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jiansuo-completion.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
# No argument: the top-level run; "bash-completion" or "fallback": one
# run of the checks (below), whose lines the top-level run counts.
mode=${1-}
# fatal MESSAGE: a failure that stops the checks.
fatal() {
    not_ok "$1"
    [ -n "$mode" ] && exit 1
    finish
}

# What the program says it accepts.
commands=$("$JIANSUO" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
# options_of CMD: the options 'jiansuo CMD --help' lists (as in man.sh)
options_of() {
    "$JIANSUO" "$1" --help |
        sed -n 's/^[ \t]*\(-.*\)$/\1/p' | sed 's/  .*//' |
        grep -oE '(^|[ ,])--?[A-Za-z0-9][A-Za-z0-9-]*' | sed 's/^[ ,]*//' |
        sort -u
}
# listed OPTION LETTER: the names after "--OPTION LETTER  read every file
# as LETTER:" in 'jiansuo sections --help', up to "(default", commas out.
listed() {
    "$JIANSUO" sections --help | tr '\n' ' ' |
        sed -n "s/.*--$1 $2 *read every file as $2: \\([^(]*\\)(.*/\\1/p" | tr -d ',' | tr -s ' '
}
formats=$(listed format F)
encodings=$(listed encoding E)
# [--backend native|xapian] in the usage of 'jiansuo index --help'
backends=$("$JIANSUO" index --help | sed -n 's/.*\[--backend \([a-z|]*\)\].*/\1/p' | tr '|' ' ')
for what in commands formats encodings backends; do
    if [ -z "${!what}" ]; then
        fatal "found no $what in the program's --help (has its wording changed?)"
    fi
done

# The format names of the help are those of the formats' tables (js_format
# NAME = {"name", ...} in src/fmt_*.c), so the completion offers them all.
if [ -z "$mode" ]; then
    src_formats=$(sed -n 's/^const js_format js_format_[a-z_]* = {"\([a-z]*\)".*/\1/p' \
        "$srcroot"/src/fmt_*.c | sort | tr '\n' ' ')
    # shellcheck disable=SC2086 # the list is words
    if [ "$src_formats" = "$(printf '%s\n' $formats | sort | tr '\n' ' ')" ]; then
        ok "the formats of --help are those of src/fmt_*.c"
    else
        not_ok "the formats of --help ($formats) are not those of src/fmt_*.c ($src_formats)"
    fi
fi

# The checks run twice, each in a bash of its own: with bash-completion
# loaded, as users have it, and without it, through the script's own
# fallback.  Each run prints "ok"/"not ok" lines, counted here.
if [ -z "$mode" ]; then
    modes=fallback
    bc=/usr/share/bash-completion/bash_completion
    if [ -r "$bc" ]; then
        modes="bash-completion fallback"
    else
        echo "# $bc is not installed: only the fallback is checked"
    fi
    for m in $modes; do
        echo "# $m"
        bash "$0" "$m" >"$tmp/$m.out" 2>&1
        cat "$tmp/$m.out"
        if ! grep -q '^# done$' "$tmp/$m.out"; then
            not_ok "the checks with $m stopped before the end"
        fi
        pass=$((pass + $(grep -c '^ok ' "$tmp/$m.out")))
        fail=$((fail + $(grep -c '^not ok ' "$tmp/$m.out")))
    done
    finish
fi

# bash-completion is not written for set -u.
set +u
if [ "$mode" = bash-completion ]; then
    # shellcheck disable=SC1091
    . /usr/share/bash-completion/bash_completion
fi
# shellcheck disable=SC1090
. "$script"
set -u
if ! declare -F _jiansuo >/dev/null; then
    echo "not ok $script defines no function _jiansuo"
    exit 1
fi
if [ "$mode" = fallback ] && declare -F _init_completion >/dev/null; then
    echo "not ok the fallback run has bash-completion loaded"
    exit 1
fi

# complete LINE: what _jiansuo offers with the cursor at the end of LINE,
# sorted, one a line.  Words are split at blanks and, as bash does (= is
# in COMP_WORDBREAKS), around "="; a line ending in a blank completes an
# empty word.
complete_line() {
    local line=$1 w part
    local -a split=()
    for w in $line; do
        # --format=ma: "--format" "=" "ma"
        while [[ $w == *=* ]]; do
            part=${w%%=*}
            [ -n "$part" ] && split+=("$part")
            split+=("=")
            w=${w#*=}
        done
        [ -n "$w" ] && split+=("$w")
    done
    [[ $line == *" " ]] && split+=("")
    COMP_WORDS=("${split[@]}")
    COMP_CWORD=$((${#split[@]} - 1))
    COMP_LINE=$line
    COMP_POINT=${#line}
    COMPREPLY=()
    set +u
    _jiansuo jiansuo "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    set -u
    if [ ${#COMPREPLY[@]} -gt 0 ]; then
        printf '%s\n' "${COMPREPLY[@]}" | sort -u
    fi
}

# check NAME LINE WANT...: completing LINE offers exactly WANT.
check() {
    local name="$mode: $1" line=$2 got want
    shift 2
    got=$(complete_line "$line")
    want=$(if [ $# -gt 0 ]; then printf '%s\n' "$@" | sort -u; fi)
    if [ "$got" = "$want" ]; then
        ok "$name"
    else
        not_ok "$name: completing '$line'"
        echo "#   want: $(tr '\n' ' ' <<<"$want")"
        echo "#   got:  $(tr '\n' ' ' <<<"$got")"
    fi
}


# shellcheck disable=SC2046,SC2086 # the lists are words
{
    check "commands" "jiansuo " $commands
    check "commands starting with se" "jiansuo se" search sections serve
    check "top-level options" "jiansuo -" -h --help -V --version
    for cmd in $commands; do
        check "options of $cmd" "jiansuo $cmd -" $(options_of "$cmd")
    done
    check "long options of search starting with --no-" "jiansuo search --no-" \
        $(options_of search | grep -e '^--no-')
    check "formats after --format" "jiansuo index --format " $formats
    check "formats after --format=" "jiansuo sections --format=" $formats
    check "formats starting with ma" "jiansuo index --format ma" man markdown
    check "formats starting with m after --format=" "jiansuo index --format=m" man markdown
    check "encodings after --encoding" "jiansuo sections --encoding " $encodings
    check "backends after --backend (index)" "jiansuo index --backend " $backends
    check "backends after --backend (search)" "jiansuo search --backend " $backends
    check "backends after --backend= (stats)" "jiansuo stats --backend=" $backends
    check "nothing after --limit" "jiansuo search -n "
    check "no options after -- in search" "jiansuo search -- -"
    check "no positional arguments for stats" "jiansuo stats "
}

# Paths, in a tree with a file and a directory.
mkdir "$tmp/tree" "$tmp/tree/corpus" && : >"$tmp/tree/notes.md" &&
    : >"$tmp/tree/queries.txt" || exit 1
cd "$tmp/tree" || exit 1
check "directories after -d" "jiansuo index -d " corpus
check "directories after --index" "jiansuo search --index " corpus
check "directories after --index=" "jiansuo stats --index=" corpus
check "files and directories for index's paths" "jiansuo index " corpus notes.md queries.txt
check "files and directories for sections' paths" "jiansuo sections --json n" notes.md
check "files after --queries" "jiansuo search --queries q" queries.txt
check "-d is a path where the command has no -d" "jiansuo sections -d n" notes.md
check "nothing for search's query words" "jiansuo search 工匠 "
echo "# done"
