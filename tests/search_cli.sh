#!/bin/sh
# search_cli.sh — golden tests of `jiansuo search` on the project's own
# small corpus.
#
# In:  $JIANSUO, the built binary; $SEARCH_CASES, a folder holding
#      corpus/ (a Markdown manual in Simplified Chinese, a plain-text
#      article in Traditional Chinese, JSON Lines notes) and the cases,
#      NAME.cmd with .out / .err / .status siblings as cli.sh reads them.
# Out: builds the index once (from inside $SEARCH_CASES, so that sources
#      are the stable relative paths corpus/...), points JIANSUO_INDEX at
#      it, and lets cli.sh run the cases: "cli: N passed, M failed".
#      Then the same cases on a Xapian build of the corpus (2 shards):
#      scores differ, so each case that searches (no paging, --queries,
#      --help or error) is run on both with --json --no-partial and
#      every hit, and the sets of sections and the totals must agree.
#      The same again for the cases in $SEARCH_CASES/prefix, on the
#      corpus there (prefix queries, word*).
set -u
: "${JIANSUO:?JIANSUO must name the jiansuo binary}"
: "${SEARCH_CASES:?SEARCH_CASES must name the folder of cases}"
here=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jiansuo-scli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
# Runs the cases of folder $1 (with its own corpus/) as "$2_cli" and
# "$2_xapian"; sets status to 1 when any fails.
status=0
suite() {
    cases=$1
    label=$2
    rm -rf "$tmp/index" "$tmp/xindex"
    if ! (cd "$cases" && "$JIANSUO" index -d "$tmp/index" corpus) \
            >"$tmp/log" 2>&1; then
        echo "not ok: indexing the $label corpus failed:"
        cat "$tmp/log"
        echo "${label}_cli: 0 passed, 1 failed"
        status=1
        return
    fi
    JIANSUO_INDEX=$tmp/index CLI_CASES=$cases sh "$here/cli.sh" \
        >"$tmp/result" || status=1

    # The cases on the Xapian backend: the same strict sections (when the
    # build has it: JIANSUO_XAPIAN=0 from a ./configure --without-xapian).
    xpass=0
    xfail=0
    if [ "${JIANSUO_XAPIAN:-1}" = 0 ]; then
        echo "${label}_cli: built without the Xapian backend: its comparison skipped"
    elif (cd "$cases" && "$JIANSUO" index --backend xapian --shards 2 \
            -d "$tmp/xindex" corpus) >"$tmp/log" 2>&1; then
        for cmd in "$cases"/*.cmd; do
            args=$(cat "$cmd")
            case "$args" in
            "search "*) ;;
            *) continue ;;
            esac
            case " $args " in
            *" -- "* | *--offset* | *--queries* | *--help* | *" -n x "*) continue ;;
            esac
            for b in native xapian; do
                if [ $b = native ]; then d=$tmp/index; else d=$tmp/xindex; fi
                (
                    cd "$cases" || exit 125
                    eval "set -- $args --json --no-partial --exact-total -n 10000 -d \"\$d\""
                    exec "$JIANSUO" "$@"
                ) >"$tmp/$b.json" 2>/dev/null
                echo "status $?" >"$tmp/$b.sum"
                grep -o '"total":[0-9]*' "$tmp/$b.json" >>"$tmp/$b.sum"
                grep -o '"section":[0-9]*' "$tmp/$b.json" | sort >>"$tmp/$b.sum"
            done
            if cmp -s "$tmp/native.sum" "$tmp/xapian.sum"; then
                xpass=$((xpass + 1))
            else
                xfail=$((xfail + 1))
                echo "not ok xapian $(basename "$cmd"): sections differ"
                diff "$tmp/native.sum" "$tmp/xapian.sum"
            fi
        done
    else
        echo "not ok: indexing the $label corpus with Xapian failed:"
        cat "$tmp/log"
        xfail=$((xfail + 1))
    fi
    sed "s/^cli: /${label}_cli: /" "$tmp/result"
    [ "${JIANSUO_XAPIAN:-1}" = 0 ] ||
        echo "${label}_xapian: $xpass passed, $xfail failed"
    [ "$xfail" = 0 ] || status=1
}

suite "$SEARCH_CASES" search
# word* (prefixes) on a corpus with Latin words of its own: the main
# corpus has almost none, and a file added to it would move every score
suite "$SEARCH_CASES/prefix" search_prefix
exit $status
