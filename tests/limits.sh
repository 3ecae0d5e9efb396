#!/bin/sh
# limits.sh — inputs at and past the documented limits (README "Limits").
#
# In:  $JIANSUO, the built binary; JIANSUO_LONG_TESTS=1 for the heavy
#      cases (minutes and gigabytes: run them on an optimised build, e.g.
#      JIANSUO=_opt/jiansuo JIANSUO_LONG_TESTS=1 sh tests/limits.sh).
# Out: "limits: N passed, M failed", and for the heavy cases the time and
#      peak memory of each build.  Always: a query of 100,000 characters
#      is refused with a clear message while one at the limit runs; a
#      single line of 6 MB is cut into pieces with a warning and its
#      words are found; 200,000 sections that all hold one term are
#      built, checked and searched.  Heavy: a 2 GB file, a 100 MB single
#      line, 1,000,000 sections sharing a term, each within its memory
#      budget.  Inputs are generated under $TMPDIR and removed.
#      JIANSUO_TEST_SMALL=1 (make check-valgrind) makes the line 2.4 MB and
#      the sections 20,000.
set -u
# shellcheck source=tests/expect.sh
. "$(dirname "$0")/expect.sh"
setup limits
exec 3>&1 # the figures, whatever the commands' output goes to

# Runs a command under /usr/bin/time when there is one, and prints its
# seconds and peak resident memory; sets $peak_mb (0 when unknown).
timed() {
    what=$1
    shift
    peak_mb=0
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%e %M' -o "$tmp/time" "$@"
        st=$?
        read -r secs kb <"$tmp/time"
        peak_mb=$((kb / 1024))
        echo "limits: $what: ${secs} s, peak RSS ${peak_mb} MB" >&3
    else
        "$@"
        st=$?
    fi
    return $st
}

# The number of sections of the index in $1.
sections() {
    "$JIANSUO" stats -d "$1" --json |
        sed 's/^{"index":"[^"]*","format_version":[0-9]*,"documents":[0-9]*,"sections":\([0-9]*\).*/\1/'
}

# The total of `search` for a term, from its JSON.
total() {
    "$JIANSUO" search -d "$1" --json --exact-total --limit 1 "$2" |
        sed -n 's/.*"total":\([0-9]*\).*/\1/p'
}

# ---- a query of 100,000 characters ----
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "%s", (i % 2 ? "书" : "读"); print "" }' >"$tmp/longq"
printf '# 读书\n\n读书读书的人。\n' >"$tmp/q.md"
"$JIANSUO" index -d "$tmp/qi" "$tmp/q.md" >/dev/null 2>&1 || bad "query index"
"$JIANSUO" search -d "$tmp/qi" --queries "$tmp/longq" >/dev/null 2>"$tmp/err"
st=$?
if [ "$st" = 1 ] && grep -q 'the query is 300000 bytes long; the limit is 4096' "$tmp/err"; then
    ok
else
    bad "100,000-character query: status $st, $(cat "$tmp/err")"
fi
# 1,365 characters, 4,095 bytes: just under the limit, searched.
awk 'BEGIN { for (i = 0; i < 1365; i++) printf "%s", (i % 2 ? "书" : "读"); print "" }' >"$tmp/maxq"
if "$JIANSUO" search -d "$tmp/qi" --queries "$tmp/maxq" >/dev/null 2>"$tmp/err"; then
    ok
else
    bad "a query at the limit: $(cat "$tmp/err")"
fi

small=${JIANSUO_TEST_SMALL:-0}
# ---- one line of 6 MB (the limit is 1 MiB a line) ----
pieces=200000 nsec=200000
[ "$small" = 1 ] && pieces=110000 nsec=20000
awk -v n=$pieces 'BEGIN { for (i = 0; i < n; i++) printf "春风吹绿柳树%04d", i % 10000; print "最后的星空" }' >"$tmp/line.txt"
"$JIANSUO" index -d "$tmp/li" "$tmp/line.txt" >"$tmp/out" 2>&1
st=$?
if [ "$st" = 0 ] && grep -q 'line.txt:[0-9]*: line longer than 1048576 bytes' "$tmp/out"; then ok; else bad "long line: status $st, $(cat "$tmp/out")"; fi
if "$JIANSUO" check -d "$tmp/li" >/dev/null 2>&1; then ok; else bad "long line: check"; fi
if [ "$(total "$tmp/li" 最后的星空)" = 1 ]; then ok; else bad "long line: its end is not found"; fi

# ---- 200,000 sections, one term in every one ----
awk -v n=$nsec 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"%d\",\"text\":\"我们的第%d条 w%d\"}\n", i, i, i }' >"$tmp/many.jsonl"
"$JIANSUO" index -d "$tmp/mi" --memory 32 "$tmp/many.jsonl" >/dev/null 2>"$tmp/err" ||
    bad "200,000 sections: $(cat "$tmp/err")"
if [ "$(sections "$tmp/mi")" = $nsec ]; then ok; else bad "200,000 sections: $(sections "$tmp/mi")"; fi
if [ "$(total "$tmp/mi" 我们的)" = $nsec ]; then ok; else bad "a term in 200,000 sections: total $(total "$tmp/mi" 我们的)"; fi
if "$JIANSUO" check -d "$tmp/mi" >/dev/null 2>&1; then ok; else bad "200,000 sections: check"; fi
rm -rf "$tmp/mi" "$tmp/many.jsonl" "$tmp/li" "$tmp/line.txt"

if [ "${JIANSUO_LONG_TESTS:-0}" != 1 ]; then
    echo "limits: the heavy cases are skipped (JIANSUO_LONG_TESTS=1 runs them)"
    echo "limits: $pass passed, $fail failed"
    [ "$fail" = 0 ]
    exit
fi

# The budget of the heavy builds, and what the process may use beyond
# it (the program, its libraries, a section's text).
budget=256
slack=160

# ---- a 2 GB file ----
# 16 blocks of about 1 MB of our own words, in a scrambled order, as one
# Markdown file with a heading every few kilobytes.
awk 'BEGIN {
    split("學院 工匠 圖書館 春風 小城 柳樹 新芽 夏夜 星空 明亮 技術 比賽 資料 索引 搜尋 河邊 作坊 木頭 桌子 學生", w, " ");
    srand(11);
    for (b = 0; b < 16; b++) {
        f = sprintf("'"$tmp"'/block%02d", b);
        for (h = 0; h < 200; h++) {
            printf "\n## 第%d塊第%d節\n\n", b, h > f;
            for (p = 0; p < 10; p++) {
                for (j = 0; j < 80; j++) printf "%s", w[int(rand() * 20) + 1] > f;
                printf " token%d\n\n", int(rand() * 100000) > f;
            }
        }
        close(f);
    }
}'
: >"$tmp/big.md"
i=0
while [ "$(wc -c <"$tmp/big.md")" -lt 2147483648 ]; do
    cat "$tmp/block$(printf %02d $(((i * 7) % 16)))" >>"$tmp/big.md"
    i=$((i + 1))
done
timed "2 GB file ($(wc -c <"$tmp/big.md") bytes), --memory $budget" \
    "$JIANSUO" index -d "$tmp/bi" --memory $budget "$tmp/big.md" >/dev/null 2>"$tmp/err" ||
    bad "2 GB file: $(cat "$tmp/err")"
if [ "$peak_mb" -le $((budget + slack)) ]; then ok; else bad "2 GB file: peak $peak_mb MB"; fi
rm -f "$tmp/big.md" "$tmp"/block*
if timed "check of the 2 GB file's index" "$JIANSUO" check -d "$tmp/bi" >/dev/null; then ok; else bad "2 GB file: check"; fi
if [ "$(total "$tmp/bi" 圖書館)" -gt 0 ]; then ok; else bad "2 GB file: search"; fi
rm -rf "$tmp/bi"

# ---- a single line of 100 MB ----
awk 'BEGIN { for (i = 0; i < 4200000; i++) printf "春风吹绿柳树%06d", i % 1000000; print "最后的星空" }' >"$tmp/line.txt"
timed "100 MB line ($(wc -c <"$tmp/line.txt") bytes), --memory $budget" \
    "$JIANSUO" index -d "$tmp/li" --memory $budget "$tmp/line.txt" >"$tmp/out" 2>&1 ||
    bad "100 MB line: $(cat "$tmp/out")"
if [ "$peak_mb" -le $((budget + slack)) ]; then ok; else bad "100 MB line: peak $peak_mb MB"; fi
if "$JIANSUO" check -d "$tmp/li" >/dev/null 2>&1; then ok; else bad "100 MB line: check"; fi
if [ "$(total "$tmp/li" 最后的星空)" = 1 ]; then ok; else bad "100 MB line: its end is not found"; fi
rm -rf "$tmp/li" "$tmp/line.txt"

# ---- 1,000,000 sections, one term in every one ----
awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "{\"id\":\"%d\",\"text\":\"我们的第%d条 w%d\"}\n", i, i, i }' >"$tmp/many.jsonl"
timed "1,000,000 sections, --memory $budget" \
    "$JIANSUO" index -d "$tmp/mi" --memory $budget "$tmp/many.jsonl" >/dev/null 2>"$tmp/err" ||
    bad "1,000,000 sections: $(cat "$tmp/err")"
if [ "$peak_mb" -le $((budget + slack)) ]; then ok; else bad "1,000,000 sections: peak $peak_mb MB"; fi
if [ "$(sections "$tmp/mi")" = 1000000 ]; then ok; else bad "1,000,000 sections: $(sections "$tmp/mi")"; fi
t=$(total "$tmp/mi" 我们的)
if [ "$t" = 1000000 ]; then ok; else bad "a term in 1,000,000 sections: total $t"; fi
if timed "search of a term in every section" "$JIANSUO" search -d "$tmp/mi" 我们的 >/dev/null; then ok; else bad "1,000,000 sections: search"; fi
if timed "check of 1,000,000 sections" "$JIANSUO" check -d "$tmp/mi" >/dev/null; then ok; else bad "1,000,000 sections: check"; fi

echo "limits: $pass passed, $fail failed"
[ "$fail" = 0 ]
