#!/bin/sh
# index_kill.sh — atomic publication under SIGKILL.
#
# In:  $JIANSUO, the built binary.
# Out: "index_kill: N passed, M failed".  Builds a small index, then
#      starts larger builds into the same directory and kills them with
#      SIGKILL at several points: after each kill the previous index must
#      still pass `jiansuo check` and answer `stats` with its own counts;
#      the next build must succeed and leave no temporary files behind.
set -u
# shellcheck source=tests/expect.sh
. "$(dirname "$0")/expect.sh"
setup kill

# A small corpus and a larger one (about 20 MB), our own words.
awk 'BEGIN {
    split("學院 工匠 圖書館 春風 小城 柳樹 新芽 夏夜 星空 明亮 技術 比賽 資料 索引 搜尋", w, " ");
    for (i = 0; i < 200; i++) {
        printf "{\"id\":\"s%d\",\"title\":\"%s%s\",\"text\":\"", i, w[i%15+1], w[(i*7)%15+1];
        for (j = 0; j < 40; j++) printf "%s", w[(i*j+j)%15+1];
        printf "\"}\n";
    }
}' > "$tmp/small.jsonl"
awk 'BEGIN {
    split("學院 工匠 圖書館 春風 小城 柳樹 新芽 夏夜 星空 明亮 技術 比賽 資料 索引 搜尋 的 了 在 和 是", w, " ");
    srand(7);
    for (i = 0; i < 60000; i++) {
        printf "{\"id\":\"b%d\",\"title\":\"%s\",\"text\":\"", i, w[int(rand()*20)+1];
        for (j = 0; j < 60; j++) printf "%s", w[int(rand()*rand()*20)+1];
        printf "\"}\n";
    }
}' > "$tmp/big.jsonl"

idx=$tmp/index
if "$JIANSUO" index -d "$idx" "$tmp/small.jsonl" >/dev/null; then ok; else bad "first build"; fi
want=$("$JIANSUO" stats -d "$idx" --json | sed 's/^{"index":"[^"]*","format_version":[0-9]*,"documents":[0-9]*,"sections":\([0-9]*\).*/\1/')
if [ "$want" = 200 ]; then ok; else bad "first build has $want sections, want 200"; fi

# How long a whole build takes here, so the kills can fall in every phase:
# reading, merging, writing, publishing.
t0=$(date +%s%N)
"$JIANSUO" index -d "$tmp/timing" --memory 4 "$tmp/big.jsonl" >/dev/null 2>&1
t1=$(date +%s%N)
delays=$(awk -v ns=$((t1 - t0)) 'BEGIN {
    for (f = 0.02; f < 1.2; f += 0.09) printf "%.3f ", f * ns / 1e9 }')
for delay in $delays; do
    "$JIANSUO" index -d "$idx" --memory 4 "$tmp/big.jsonl" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if "$JIANSUO" check -d "$idx" >/dev/null 2>"$tmp/err"; then
        ok
    else
        bad "check after a kill at ${delay}s: $(cat "$tmp/err")"
    fi
    n=$("$JIANSUO" stats -d "$idx" --json | sed 's/^{"index":"[^"]*","format_version":[0-9]*,"documents":[0-9]*,"sections":\([0-9]*\).*/\1/')
    # The kill may come after the publication: then the new index is there.
    if [ "$n" = 200 ] || [ "$n" = 60000 ]; then ok; else bad "after a kill at ${delay}s: $n sections"; fi
done

if "$JIANSUO" index -d "$idx" --memory 4 "$tmp/big.jsonl" >/dev/null; then ok; else bad "build after the kills"; fi
n=$("$JIANSUO" stats -d "$idx" --json | sed 's/^{"index":"[^"]*","format_version":[0-9]*,"documents":[0-9]*,"sections":\([0-9]*\).*/\1/')
if [ "$n" = 60000 ]; then ok; else bad "final build has $n sections, want 60000"; fi
left=
for f in "$idx"/* "$idx"/.[!.]*; do
    [ -e "$f" ] || continue
    case ${f##*/} in index.jsi|lock) ;; *) left="$left ${f##*/}" ;; esac
done
if [ -z "$left" ]; then ok; else bad "leftovers after the build:$left"; fi
if "$JIANSUO" check -d "$idx" >/dev/null; then ok; else bad "final check"; fi

echo "index_kill: $pass passed, $fail failed"
[ "$fail" = 0 ]
