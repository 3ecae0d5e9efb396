#!/bin/sh
# index_full.sh — a build on a full disk fails cleanly.
#
# In:  $JIANSUO, the built binary.
# Out: "index_full: N passed, M failed".  Builds a small index, then a
#      larger build into the same directory runs out of space: always by
#      the test hook JIANSUO_TEST_ENOSPC_AFTER=BYTES (index/file.h: every
#      write fails with ENOSPC after BYTES), at many points of the build,
#      with one and two threads; and, where a mount namespace and tmpfs
#      are allowed (root, or CI containers that permit it), on a real
#      tmpfs too small for the new index.  Each time the build must exit
#      1 naming the file and "No space left on device", the previous index
#      must pass `check` and answer a search as before, the failed build
#      must leave no temporary file behind, and the next build must
#      succeed.  JIANSUO_TEST_SMALL=1 (make check-valgrind) builds a
#      smaller corpus and fails it at fewer points.
set -u
: "${JIANSUO:?JIANSUO must name the jiansuo binary}"

# Our own words, repeated at random (about 1.7 MB).
corpus() {
    awk -v n="$2" -v seed="$3" 'BEGIN {
        split("學院 工匠 圖書館 春風 小城 柳樹 新芽 夏夜 星空 明亮 技術 比賽 資料 索引 搜尋 河邊 作坊 木頭", w, " ");
        srand(seed);
        for (i = 0; i < n; i++) {
            printf "{\"id\":\"d%d\",\"title\":\"%s\",\"text\":\"", i, w[int(rand()*18)+1];
            for (j = 0; j < 30; j++) printf "%s", w[int(rand()*18)+1];
            printf " word%d\"}\n", int(rand()*50000);
        }
    }' > "$1"
}

# The checks after a build that ran out of space: $1 the index directory,
# $2 the build's stderr, $3 its exit status, $4 what it was.
after_full() {
    if [ "$3" = 1 ]; then ok; else bad "$4: exit status $3, want 1"; fi
    if grep -q "$1/.*No space left on device" "$2" &&
        grep -q 'nothing was published' "$2"; then
        ok
    else
        bad "$4: message: $(cat "$2")"
    fi
    if "$JIANSUO" check -d "$1" >/dev/null 2>"$tmp/err"; then
        ok
    else
        bad "$4: check: $(cat "$tmp/err")"
    fi
    "$JIANSUO" search -d "$1" --no-snippet 春風 小城 >"$tmp/got" 2>&1
    if cmp -s "$tmp/got" "$tmp/want"; then ok; else bad "$4: search differs"; fi
    left=
    for f in "$1"/* "$1"/.[!.]*; do
        [ -e "$f" ] || continue
        case ${f##*/} in index.jsi|lock) ;; *) left="$left ${f##*/}" ;; esac
    done
    if [ -z "$left" ]; then ok; else bad "$4: left behind:$left"; fi
}

# shellcheck source=tests/expect.sh
. "$(dirname "$0")/expect.sh"
pass=0
fail=0

# Run inside a mount namespace (see the end): a real full tmpfs.
if [ "${1:-}" = tmpfs ]; then
    tmp=$2
    fs=$tmp/fs
    mkdir -p "$fs"
    # Room for the small index and some, not for the large one.
    mount -t tmpfs -o size=1536k tmpfs "$fs" || exit 2
    idx=$fs/index
    "$JIANSUO" index -d "$idx" "$tmp/small.jsonl" >/dev/null 2>"$tmp/err" ||
        bad "tmpfs: first build: $(cat "$tmp/err")"
    "$JIANSUO" search -d "$idx" --no-snippet 春風 小城 >"$tmp/want" 2>&1
    for threads in 1 2; do
        "$JIANSUO" index -d "$idx" --memory 2 --threads $threads \
            "$tmp/big.jsonl" >/dev/null 2>"$tmp/out"
        after_full "$idx" "$tmp/out" $? "tmpfs, $threads threads"
    done
    # The space of the failed builds came back: the next build fits.
    if "$JIANSUO" index -d "$idx" "$tmp/small.jsonl" "$tmp/small2.jsonl" \
        >/dev/null 2>"$tmp/err"; then
        ok
    else
        bad "tmpfs: build after the failures: $(cat "$tmp/err")"
    fi
    if "$JIANSUO" check -d "$idx" >/dev/null 2>&1; then ok; else bad "tmpfs: final check"; fi
    umount "$fs"
    echo "tmpfs: $pass passed, $fail failed"
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jiansuo-full.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
corpus "$tmp/small.jsonl" 300 1
corpus "$tmp/small2.jsonl" 300 2
if [ "${JIANSUO_TEST_SMALL:-0}" = 1 ]; then
    big=5000 points="0 20 400 999" memory=1
else
    big=20000 points="0 1 20 100 250 400 550 700 850 999" memory=2
fi
corpus "$tmp/big.jsonl" $big 3

idx=$tmp/index
if "$JIANSUO" index -d "$idx" "$tmp/small.jsonl" >/dev/null; then ok; else bad "first build"; fi
"$JIANSUO" search -d "$idx" --no-snippet 春風 小城 >"$tmp/want" 2>&1
if grep -q '春風' "$tmp/want"; then ok; else bad "first search: $(cat "$tmp/want")"; fi

# A whole build writes more than the index it publishes (sorted runs,
# spools): failing at fractions of the new index's size fails in every
# phase, reading, spilling, merging, writing the parts, the header.
"$JIANSUO" index -d "$tmp/sizing" --memory $memory "$tmp/big.jsonl" >/dev/null 2>&1
size=$(wc -c <"$tmp/sizing/index.jsi")
rm -rf "$tmp/sizing"
threads=1
for per_mille in $points; do
    n=$((size / 1000 * per_mille))
    JIANSUO_TEST_ENOSPC_AFTER=$n "$JIANSUO" index -d "$idx" --memory $memory \
        --threads $threads "$tmp/big.jsonl" >/dev/null 2>"$tmp/out"
    after_full "$idx" "$tmp/out" $? "ENOSPC after $n bytes, $threads threads"
    threads=$((3 - threads))
done
if "$JIANSUO" index -d "$idx" --memory $memory "$tmp/big.jsonl" >/dev/null 2>"$tmp/err"; then
    ok
else
    bad "build after the failures: $(cat "$tmp/err")"
fi
if "$JIANSUO" check -d "$idx" >/dev/null 2>&1; then ok; else bad "final check"; fi

# A real full file system, where this machine lets us mount one.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
    mkdir "$tmp/probe" &&
    unshare -m sh -c "mount -t tmpfs -o size=64k tmpfs '$tmp/probe'" 2>/dev/null; then
    unshare -m sh "$0" tmpfs "$tmp" >"$tmp/ns.out" 2>&1
    sed -n 's/^not ok/&/p' "$tmp/ns.out"
    p=$(sed -n 's/^tmpfs: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$tmp/ns.out")
    f=$(sed -n 's/^tmpfs: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$tmp/ns.out")
    if [ -z "$p" ]; then
        bad "tmpfs: $(cat "$tmp/ns.out")"
    else
        pass=$((pass + p))
        fail=$((fail + f))
    fi
else
    echo "index_full: no mount namespace here; the real tmpfs case is skipped"
fi

echo "index_full: $pass passed, $fail failed"
[ "$fail" = 0 ]
