#!/bin/sh
# man.sh — doc/jiansuo.1 documents every command and option the program has.
#
# In:  $JIANSUO, the binary; the page is $DOC_DIR/jiansuo.1 (default
#      $srcdir/doc, srcdir being what automake's test driver exports).
# Checks, one "passed" or "failed" each:
#   - every command that 'jiansuo --help' lists has a line in SYNOPSIS
#     and a subsection under COMMANDS;
#   - every option that 'jiansuo CMD --help' lists (short and long forms)
#     appears, as a whole word, in that command's subsection;
#   - the options the top-level help names ('jiansuo --version') appear;
#   - mandoc's lint (and groff's warnings, when groff is installed) have
#     nothing to say about the page.
# The options are read from the program, not written down here, so a new
# option or command without documentation fails this test.
# Out: "ok ..." / "not ok ..." lines, then "man: N passed, M failed";
#      exit status 1 if any check failed.
set -u
: "${JIANSUO:?JIANSUO must name the jiansuo binary}"
page=${DOC_DIR:-${srcdir:-.}/doc}/jiansuo.1

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $1"; }
finish() {
    echo "man: $pass passed, $fail failed"
    [ "$fail" = 0 ]
    exit
}

if [ ! -r "$page" ]; then
    not_ok "$page is not readable"
    finish
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jiansuo-man.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# The page as a reader sees it, in ASCII (the options are ASCII; CJK
# examples do not matter here), on lines wide enough that nothing wraps
# inside an option's item head.  The sed drops the overstrikes of bold
# and underlining (what col -b does, but col is not always installed).
bs=$(printf '\b')
if command -v mandoc >/dev/null 2>&1; then
    mandoc -T ascii -O width=200 "$page" | sed "s/.$bs//g" >"$tmp/page"
elif command -v groff >/dev/null 2>&1; then
    groff -k -Tascii -mandoc -rLL=200n -P-c "$page" 2>/dev/null |
        sed "s/.$bs//g" >"$tmp/page"
else
    not_ok "neither mandoc nor groff is installed (scripts/install-deps)"
    finish
fi

# section NAME: the rendered lines of the section NAME (headings are at
# column 0).  subsection NAME: those of COMMANDS' subsection NAME
# (subsection headings are indented by 3 columns, the text by more).
section() {
    awk -v want="$1" '/^[^ \t]/ { in_sec = ($0 == want); next } in_sec' "$tmp/page"
}
subsection() {
    section COMMANDS | awk -v want="$1" '
        /^   [^ ]/ { head = $0; sub(/^ +/, "", head); sub(/ +$/, "", head);
                     in_ss = (head == want); next }
        in_ss'
}
# has_word WORD: standard input holds WORD with no letter, digit or
# hyphen on either side (so --b is not found in --backend).
has_word() {
    grep -E -q -e "(^|[^A-Za-z0-9-])$1([^A-Za-z0-9-]|$)"
}
# options_of CMD: the options 'jiansuo CMD --help' lists, one a line:
# the lines that start with an option, up to the description (two
# spaces), and every word there that starts with a hyphen.
options_of() {
    "$JIANSUO" "$1" --help |
        sed -n 's/^[ \t]*\(-.*\)$/\1/p' | sed 's/  .*//' |
        grep -oE '(^|[ ,])--?[A-Za-z0-9][A-Za-z0-9-]*' | sed 's/^[ ,]*//' |
        sort -u
}

commands=$("$JIANSUO" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
if [ -z "$commands" ]; then
    not_ok "'jiansuo --help' lists no commands"
    finish
fi

section SYNOPSIS >"$tmp/synopsis"
for cmd in $commands; do
    if has_word "jiansuo $cmd" <"$tmp/synopsis"; then
        ok "SYNOPSIS has jiansuo $cmd"
    else
        not_ok "SYNOPSIS has no line for jiansuo $cmd"
    fi
    subsection "$cmd" >"$tmp/sub"
    if [ -s "$tmp/sub" ]; then
        ok "COMMANDS has a subsection $cmd"
    else
        not_ok "COMMANDS has no subsection $cmd"
    fi
    opts=$(options_of "$cmd")
    if [ -z "$opts" ]; then
        not_ok "'jiansuo $cmd --help' lists no options"
        continue
    fi
    for opt in $opts; do
        if has_word "$opt" <"$tmp/sub"; then
            ok "$cmd $opt"
        else
            not_ok "$cmd $opt: not in the subsection $cmd of $page"
        fi
    done
done

# 'jiansuo --version' prints the version: the top-level options the
# help names in quotes must be in the page too.
for opt in $("$JIANSUO" --help | grep -oE "'jiansuo --?[a-z][a-z-]*'" |
             sed "s/^'jiansuo //; s/'\$//" | sort -u); do
    if has_word "$opt" <"$tmp/page"; then
        ok "top-level $opt"
    else
        not_ok "top-level $opt: not in $page"
    fi
done

# The linters print nothing for a clean page: mandoc's, and groff's
# (which man(1) uses on Debian) where installed; at least one must run.
linted=0
if command -v mandoc >/dev/null 2>&1; then
    linted=1
    if mandoc -T lint -W warning "$page" >"$tmp/lint" 2>&1 && [ ! -s "$tmp/lint" ]; then
        ok "mandoc -T lint -W warning"
    else
        not_ok "mandoc -T lint -W warning:"
        cat "$tmp/lint"
    fi
fi
if command -v groff >/dev/null 2>&1; then
    linted=1
    # -k: the page is UTF-8; -Tutf8: a device with the CJK glyphs
    if groff -k -Tutf8 -ww -z -mandoc "$page" >"$tmp/lint" 2>&1 && [ ! -s "$tmp/lint" ]; then
        ok "groff -ww"
    else
        not_ok "groff -ww:"
        cat "$tmp/lint"
    fi
fi
[ "$linted" = 1 ] || not_ok "neither mandoc nor groff can lint the page (scripts/install-deps)"

finish
