# expect.sh — what the shell tests share; sourced, not run.
#
# In:  $tmp (a scratch directory), $want (grep patterns, one a line),
#      counters $pass and $fail.
# expect STATUS command...: runs the command, checks its exit status and
# that its stdout+stderr matches every line of $want; counts the result
# in $pass or $fail and shows the output of a failure, indented.
# setup NAME: checks that $JIANSUO is set, makes $tmp (jiansuo-NAME.*,
# removed at exit) and zeroes the counters.
setup() {
    : "${JIANSUO:?JIANSUO must name the jiansuo binary}"
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/jiansuo-$1.XXXXXX") || exit 1
    trap 'rm -rf "$tmp"' EXIT INT TERM
    pass=0
    fail=0
}

# ok: counts a check that passed; bad WHAT: says which failed, counts it.
ok() { pass=$((pass + 1)); }
bad() { echo "not ok: $*"; fail=$((fail + 1)); }

want=
expect() {
    status=$1
    shift
    "$@" >"$tmp/out" 2>&1
    got=$?
    ok=1
    if [ "$got" != "$status" ]; then
        echo "not ok: $*: exit status $got, want $status"
        ok=0
    fi
    printf '%s\n' "$want" | while IFS= read -r pat; do
        [ -z "$pat" ] && continue
        grep -q -e "$pat" "$tmp/out" || { echo "not ok: $*: no line matching: $pat"; exit 1; }
    done || ok=0
    if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); sed 's/^/    /' "$tmp/out"; fi
}
