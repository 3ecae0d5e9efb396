#!/bin/sh
# live_kill.sh — a live index under SIGKILL.
#
# In:  $JIANSUO, the built binary; JIANSUO_LONG_TESTS=1 for more kills.
# Out: "live_kill: N passed, M failed".  Kills `add`, `delete` and
#      `merge` with SIGKILL at points spread over each whole operation
#      (timed first, as index_kill.sh does for builds).  After each kill
#      the last committed generation must open, pass `check` and hold the
#      sections it held before or the ones the operation commits (the
#      kill may come after the commit point); the next writer must
#      succeed and leave only files its manifest names.
set -u
# shellcheck source=tests/expect.sh
. "$(dirname "$0")/expect.sh"
setup livekill

awk 'BEGIN {
    split("學院 工匠 圖書館 春風 小城 柳樹 新芽 夏夜 星空 明亮 技術 比賽 資料 索引 搜尋 的 了 在 和 是", w, " ");
    srand(11);
    for (i = 0; i < 30000; i++) {
        printf "{\"id\":\"b%d\",\"title\":\"%s\",\"text\":\"", i, w[int(rand()*20)+1];
        for (j = 0; j < 50; j++) printf "%s", w[int(rand()*rand()*20)+1];
        printf "\"}\n";
    }
}' >"$tmp/big.jsonl"
head -n 2000 "$tmp/big.jsonl" >"$tmp/small.jsonl"
# the same ids again, other text: a replacement of every one of them
sed 's/"text":"/"text":"替換 /' "$tmp/big.jsonl" >"$tmp/big2.jsonl"

idx=$tmp/index
sections() {
    "$JIANSUO" stats -d "$idx" --json |
        sed 's/^{"index":"[^"]*","format_version":[0-9]*,"documents":[0-9]*,"sections":\([0-9]*\).*/\1/'
}
leftovers() {
    # every file but lock and the manifest must be named by the manifest
    named=$("$JIANSUO" stats -d "$idx" --json | grep -o '"name":"[^"]*"' | sed 's/"name":"\(.*\)"/\1/')
    left=
    for f in "$idx"/*; do
        n=${f##*/}
        case $n in lock|manifest.jsm|index.jsi|*.del-*) continue ;; esac
        echo "$named" | grep -qx "$n" || left="$left $n"
    done
    echo "$left"
}

if "$JIANSUO" add -d "$idx" "$tmp/small.jsonl" >/dev/null; then ok; else bad "first add"; fi

# time of each operation here, so that the kills fall all over it
timeit() {
    cp -r "$idx" "$tmp/t"
    t0=$(date +%s%N)
    "$JIANSUO" "$@" -d "$tmp/t" >/dev/null 2>&1
    t1=$(date +%s%N)
    rm -rf "$tmp/t"
    echo $((t1 - t0))
}
kills=6
[ "${JIANSUO_LONG_TESTS:-0}" = 1 ] && kills=20

# op NAME ARGS...: kill `jiansuo ARGS -d idx` at `kills` points
op() {
    name=$1
    shift
    ns=$(timeit "$@")
    delays=$(awk -v ns="$ns" -v k="$kills" 'BEGIN {
        for (i = 0; i < k; i++) printf "%.4f ", (0.05 + 1.1 * i / k) * ns / 1e9 }')
    for delay in $delays; do
        before=$(sections)
        "$JIANSUO" "$@" -d "$idx" >/dev/null 2>&1 &
        pid=$!
        sleep "$delay"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        if "$JIANSUO" check -d "$idx" >/dev/null 2>"$tmp/err"; then
            ok
        else
            bad "$name: check after a kill at ${delay}s: $(cat "$tmp/err")"
        fi
        after=$(sections)
        case $name in
        add) expect_n="$before 30000" ;;
        replace) expect_n="$before" ;;
        delete) expect_n="$before $((before - 2000))" ;;
        merge) expect_n="$before" ;;
        esac
        case " $expect_n " in
        *" $after "*) ok ;;
        *) bad "$name: after a kill at ${delay}s: $after sections (before: $before)" ;;
        esac
        # the next writer cleans up and works
        if "$JIANSUO" merge -d "$idx" --segments 50 >/dev/null 2>"$tmp/err"; then
            ok
        else
            bad "$name: the writer after a kill at ${delay}s: $(cat "$tmp/err")"
        fi
        l=$(leftovers)
        if [ -z "$l" ]; then ok; else bad "$name: left after a kill at ${delay}s:$l"; fi
    done
}

op add add "$tmp/big.jsonl"
"$JIANSUO" add -d "$idx" "$tmp/big.jsonl" >/dev/null
op replace add "$tmp/big2.jsonl"
ids=$(awk 'NR <= 2000 { sub(/^{"id":"/, ""); sub(/".*/, ""); print }' "$tmp/big.jsonl")
# shellcheck disable=SC2086
op delete delete --id $ids
op merge merge

if [ "$(sections)" = 30000 ] || [ "$(sections)" = 28000 ]; then ok; else bad "final: $(sections) sections"; fi

echo "live_kill: $pass passed, $fail failed"
[ "$fail" = 0 ]
