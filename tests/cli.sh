#!/bin/sh
# cli.sh — golden tests of the jiansuo command line.
#
# In:  $CLI_CASES/NAME.cmd, one line of arguments for jiansuo (shell
#      quoting allowed), with optional siblings:
#        NAME.stdin   fed to standard input (else /dev/null)
#        NAME.out     expected standard output (required)
#        NAME.err     expected standard error (else it must be empty)
#        NAME.status  expected exit status (else 0)
# Out: one line per case, "ok NAME" or "not ok NAME" with a diff, then
#      "cli: N passed, M failed"; exit status 1 if any case failed.
#
# Run by `make check` with JIANSUO pointing at the built binary.  To
# regenerate an expected file after a deliberate change, run the case by
# hand and review the diff before committing it.
set -u
: "${CLI_CASES:?CLI_CASES must name the folder of cases}"
# shellcheck source=tests/expect.sh
. "$(dirname "$0")/expect.sh"
setup cli
for cmd in "$CLI_CASES"/*.cmd; do
    [ -e "$cmd" ] || continue
    name=${cmd%.cmd}
    base=$(basename "$name")
    stdin=/dev/null
    [ -f "$name.stdin" ] && stdin=$name.stdin
    want_status=0
    [ -f "$name.status" ] && want_status=$(cat "$name.status")
    args=$(cat "$cmd")
    (
        cd "$CLI_CASES" || exit 125
        eval "set -- $args"
        exec "$JIANSUO" "$@"
    ) <"$stdin" >"$tmp/out" 2>"$tmp/err"
    status=$?
    ok=1
    if [ "$status" != "$want_status" ]; then
        echo "not ok $base: exit status $status, want $want_status"
        ok=0
    fi
    if ! diff -u "$name.out" "$tmp/out" >"$tmp/diff"; then
        echo "not ok $base: standard output differs"
        cat "$tmp/diff"
        ok=0
    fi
    if [ -f "$name.err" ]; then
        if ! diff -u "$name.err" "$tmp/err" >"$tmp/diff"; then
            echo "not ok $base: standard error differs"
            cat "$tmp/diff"
            ok=0
        fi
    elif [ -s "$tmp/err" ]; then
        echo "not ok $base: unexpected standard error:"
        cat "$tmp/err"
        ok=0
    fi
    if [ $ok = 1 ]; then
        echo "ok $base"
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
    fi
done
echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
