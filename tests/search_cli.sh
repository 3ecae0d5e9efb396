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
set -u
: "${JIANSUO:?JIANSUO must name the jiansuo binary}"
: "${SEARCH_CASES:?SEARCH_CASES must name the folder of cases}"
here=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/jiansuo-scli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
if ! (cd "$SEARCH_CASES" && "$JIANSUO" index -d "$tmp/index" corpus) \
        >"$tmp/log" 2>&1; then
    echo "not ok: indexing the search corpus failed:"
    cat "$tmp/log"
    echo "search_cli: 0 passed, 1 failed"
    exit 1
fi
JIANSUO_INDEX=$tmp/index CLI_CASES=$SEARCH_CASES sh "$here/cli.sh" \
    >"$tmp/result"
status=$?
sed 's/^cli: /search_cli: /' "$tmp/result"
exit $status
