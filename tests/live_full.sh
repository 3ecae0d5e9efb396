#!/bin/sh
# live_full.sh — a live index's writer on a full disk fails cleanly.
#
# In:  $JIANSUO, the built binary.
# Out: "live_full: N passed, M failed".  `add`, `delete` and `merge` run
#      out of space (the hook JIANSUO_TEST_ENOSPC_AFTER=BYTES, index/file.h)
#      at points spread over all they write: each must exit 1 saying "No
#      space left on device" and that nothing was committed, the last
#      generation must pass `check` and answer a search as before, and
#      the next writer must succeed and leave only the files its manifest
#      names.
set -u
# shellcheck source=tests/expect.sh
. "$(dirname "$0")/expect.sh"
setup livefull

corpus() {
    awk -v n="$2" -v seed="$3" -v pre="$4" 'BEGIN {
        split("學院 工匠 圖書館 春風 小城 柳樹 新芽 夏夜 星空 明亮 技術 比賽 資料 索引 搜尋", w, " ");
        srand(seed);
        for (i = 0; i < n; i++) {
            printf "{\"id\":\"%s%d\",\"title\":\"%s\",\"text\":\"", pre, i, w[int(rand()*15)+1];
            for (j = 0; j < 30; j++) printf "%s", w[int(rand()*15)+1];
            printf "\"}\n";
        }
    }' >"$1"
}
corpus "$tmp/a.jsonl" 3000 1 a
corpus "$tmp/b.jsonl" 3000 2 b
corpus "$tmp/a2.jsonl" 1500 3 a

# files in the index no manifest names (deletion sets are named too)
left() {
    named=$("$JIANSUO" stats -d "$idx" --json | grep -o '"name":"[^"]*"' | sed 's/"name":"\(.*\)"/\1/')
    l=
    for f in "$idx"/*; do
        n=${f##*/}
        case $n in lock|manifest.jsm|*.del-*) continue ;; esac
        echo "$named" | grep -qx "$n" || l="$l $n"
    done
    echo "$l"
}

base=$tmp/base
"$JIANSUO" index -d "$base" "$tmp/a.jsonl" >/dev/null || bad "first build"
"$JIANSUO" add -d "$base" "$tmp/b.jsonl" >/dev/null || bad "first add"
"$JIANSUO" search -d "$base" --no-snippet 春風 小城 >"$tmp/want" 2>&1
idx=$tmp/index
total=$(du -sb "$base" | cut -f1)

for op in add delete merge; do
    # fewer points under valgrind (JIANSUO_TEST_SMALL=1)
    fr="0.001 0.05 0.2 0.45 0.7 0.95"
    dp="0 200 2000 8000"
    if [ "${JIANSUO_TEST_SMALL:-0}" = 1 ]; then
        fr="0.05 0.45"
        dp="200"
    fi
    case $op in
    delete) points=$dp ;;
    *) points=$(awk -v t="$total" -v fr="$fr" 'BEGIN {
           n = split(fr, f, " ");
           for (i = 1; i <= n; i++) printf "%d ", t * f[i] }') ;;
    esac
    for at in $points; do
        rm -rf "$idx"
        cp -a "$base" "$idx"
        case $op in
        add) set -- add -d "$idx" "$tmp/a2.jsonl" ;;
        delete) set -- delete -d "$idx" --path "$tmp/b.jsonl" ;;
        merge) set -- merge -d "$idx" ;;
        esac
        JIANSUO_TEST_ENOSPC_AFTER=$at "$JIANSUO" "$@" >/dev/null 2>"$tmp/err"
        st=$?
        if [ "$st" = 0 ]; then
            ok # it fit in the space given
            continue
        fi
        if [ "$st" = 1 ]; then ok; else bad "$op at $at bytes: exit $st"; fi
        if grep -q 'No space left on device' "$tmp/err" &&
            grep -q 'nothing was committed' "$tmp/err"; then
            ok
        else
            bad "$op at $at bytes: message: $(cat "$tmp/err")"
        fi
        if "$JIANSUO" check -d "$idx" >/dev/null 2>"$tmp/cerr"; then
            ok
        else
            bad "$op at $at bytes: check: $(cat "$tmp/cerr")"
        fi
        "$JIANSUO" search -d "$idx" --no-snippet 春風 小城 >"$tmp/got" 2>&1
        if cmp -s "$tmp/got" "$tmp/want"; then ok; else bad "$op at $at bytes: search differs"; fi
        # the next writer works and cleans up
        if "$JIANSUO" merge -d "$idx" --segments 50 >/dev/null 2>"$tmp/err"; then
            ok
        else
            bad "$op at $at bytes: the writer after: $(cat "$tmp/err")"
        fi
        l=$(left)
        if [ -z "$l" ]; then ok; else bad "$op at $at bytes: left behind:$l"; fi
    done
done

echo "live_full: $pass passed, $fail failed"
[ "$fail" = 0 ]
