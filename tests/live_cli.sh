#!/bin/sh
# live_cli.sh — keeping an index current from the command line: add,
# delete, merge, index --update, stats and check on a live index; a
# second writer; searches through a hundred commits.
#
# In:  $JIANSUO, the built binary.
# Out: "live_cli: N passed, M failed".
set -u
# shellcheck source=tests/expect.sh
. "$(dirname "$0")/expect.sh"
setup live

idx=$tmp/index
d=$tmp/docs
mkdir -p "$d/sub"
printf '# 工匠學院\n\n工匠學院的課程介紹。\n' >"$d/a.md"
printf '# 春風\n\n春風吹過小城的柳樹。\n' >"$d/sub/b.md"
printf '{"id":"p1","title":"李白","text":"床前明月光"}\n{"id":"p2","title":"杜甫","text":"國破山河在"}\n' >"$d/poems.jsonl"

want='indexed 4 documents'
expect 0 "$JIANSUO" index -d "$idx" "$d"

# add: a new file, then a replacement of a record by id from another file
printf '# 夏夜\n\n夏夜的星空明亮。\n' >"$d/c.md"
want='0 added\|1 added
generation 1, 2 segments'
expect 0 "$JIANSUO" add -d "$idx" "$d/c.md"
want='星空'
expect 0 "$JIANSUO" search -d "$idx" 星空
printf '{"id":"p1","title":"李白","text":"舉頭望明月"}\n' >"$tmp/p1.jsonl"
want='1 replaced'
expect 0 "$JIANSUO" add -d "$idx" "$tmp/p1.jsonl"
want='no section matches 床前'
expect 0 "$JIANSUO" search -d "$idx" --no-partial 床前
want='舉頭望'
expect 0 "$JIANSUO" search -d "$idx" 明月

# delete: by id and by path; an unknown one is reported, the rest done
want='id nope: no such document
1 deleted'
expect 1 "$JIANSUO" delete -d "$idx" --id p2 nope
want='no section matches'
expect 0 "$JIANSUO" search -d "$idx" --no-partial 山河
# a file already removed, named by a relative path, is still found
rm "$d/sub/b.md"
want='1 deleted'
cd "$d" || exit 1
expect 0 "$JIANSUO" delete -d "$idx" --path sub/b.md
cd - >/dev/null || exit 1
want='say --id or --path'
expect 2 "$JIANSUO" delete -d "$idx" p1
want='not both'
expect 2 "$JIANSUO" delete -d "$idx" --id --path x

# stats and check see the segments
want='segments       3\|segments       4
deleted sections\|sections deleted'
expect 0 "$JIANSUO" stats -d "$idx"
want='"segments":\[{"name":"seg-000001.jsi","sections":[0-9]*,"live":'
expect 0 "$JIANSUO" stats -d "$idx" --json
want='ok: 3 documents'
expect 0 "$JIANSUO" check -d "$idx"

# index --update: the file whose records went one by one is read again
# (the index holds what the files say), then nothing changed, then one
# file changed and one gone
want='1 added, 1 replaced, 0 deleted, 2 unchanged'
expect 0 "$JIANSUO" index --update -d "$idx" "$d"
want='"id":"p2"'
expect 0 "$JIANSUO" search -d "$idx" --no-snippet --json 山河
want='0 added, 0 replaced, 0 deleted, 3 unchanged'
expect 0 "$JIANSUO" index --update -d "$idx" "$d"
printf '# 工匠學院\n\n工匠學院的新課程。\n' >"$d/a.md"
rm -f "$d/c.md"
want='1 replaced, 1 deleted'
expect 0 "$JIANSUO" index --update -d "$idx" "$d"
want='no section matches 星空'
expect 0 "$JIANSUO" search -d "$idx" --no-partial 星空
want='新【課程】'
expect 0 "$JIANSUO" search -d "$idx" 課程

# merge: one segment, nothing deleted left, the same answers
"$JIANSUO" search -d "$idx" --json 工匠 明月 >"$tmp/before" 2>&1
want='takes a number from 1'
expect 2 "$JIANSUO" merge -d "$idx" --segments 0
want='1 segment'
expect 0 "$JIANSUO" merge -d "$idx" --memory 64
want='segments       1 (0 sections deleted'
expect 0 "$JIANSUO" stats -d "$idx"
"$JIANSUO" search -d "$idx" --json 工匠 明月 >"$tmp/after" 2>&1
if cmp -s "$tmp/before" "$tmp/after"; then ok; else bad "merge changed the answers"; fi
want='ok: 3 documents'
expect 0 "$JIANSUO" check -d "$idx"

# a second writer is refused while the first holds the lock, or waits
(flock -x "$idx/lock" -c 'sleep 2') &
holder=$!
sleep 0.5
want='index is locked by process'
expect 1 "$JIANSUO" add -d "$idx" "$d/a.md"
want='1 replaced'
expect 0 "$JIANSUO" add --wait -d "$idx" "$d/a.md"
wait "$holder"

# index without --update makes the directory one index.jsi again
want='indexed'
expect 0 "$JIANSUO" index -d "$idx" "$d"
left=
for f in "$idx"/*; do
    case ${f##*/} in index.jsi|lock) ;; *) left="$left ${f##*/}" ;; esac
done
if [ -z "$left" ]; then ok; else bad "a full build left:$left"; fi

# Searches through 100 commits (10 under valgrind, JIANSUO_TEST_SMALL=1):
# each commit replaces x.md and y.md
# together, both holding the commit's number; every query (moving to the
# newest commit first) must see both from one commit, never a mix.
commits=100
nqueries=3000
if [ "${JIANSUO_TEST_SMALL:-0}" = 1 ]; then
    commits=10
    nqueries=100
fi
printf '# 甲\n\n共同 號0\n' >"$tmp/x.md"
printf '# 乙\n\n共同 號0\n' >"$tmp/y.md"
"$JIANSUO" add -d "$idx" "$tmp/x.md" "$tmp/y.md" >/dev/null
(
    i=1
    while [ $i -le "$commits" ]; do
        printf '# 甲\n\n共同 號%d\n' $i >"$tmp/x.md"
        printf '# 乙\n\n共同 號%d\n' $i >"$tmp/y.md"
        "$JIANSUO" add -d "$idx" "$tmp/x.md" "$tmp/y.md" >/dev/null 2>&1 || echo fail >"$tmp/writer-failed"
        i=$((i + 1))
    done
) &
writer=$!
yes 共同 | head -n "$nqueries" >"$tmp/queries"
# batches of queries until the writer is done (at least one), each a
# process that moves to the newest commit before every query
batch=0
while [ $batch = 0 ] || kill -0 "$writer" 2>/dev/null; do
    batch=$((batch + 1))
    "$JIANSUO" search -d "$idx" --queries "$tmp/queries" --follow --json \
        --no-partial >"$tmp/results.$batch" 2>>"$tmp/search-err"
done
wait "$writer"
if [ ! -e "$tmp/writer-failed" ]; then ok; else bad "a commit failed"; fi
# per query (a batch's line): the numbers its two hits hold
mixed=0
for f in "$tmp"/results.*; do
    m=$(awk '
        /"line":/ { if (match($0, /"line":[0-9]+/)) line = substr($0, RSTART + 7, RLENGTH - 7) }
        { s = $0
          while (match(s, /號[0-9]+/)) { n[line] = n[line] " " substr(s, RSTART, RLENGTH); c[line]++; s = substr(s, RSTART + RLENGTH) } }
        END { bad = 0
              for (l in c) { split(n[l], a, " "); if (c[l] != 2 || a[1] != a[2]) bad++ }
              print bad }' "$f")
    mixed=$((mixed + m))
done
seen=$(cat "$tmp"/results.* | grep -o '號[0-9]*' | sort -u | wc -l)
if [ "$mixed" = 0 ]; then ok; else bad "$mixed queries saw two commits at once"; fi
# (under valgrind the searches may well finish before the writer has
# gone far: there only the consistency above is checked)
if [ "$seen" -gt 2 ] || [ "${JIANSUO_TEST_SMALL:-0}" = 1 ]; then
    ok
else
    bad "the searches saw only $seen commits"
fi
if [ ! -s "$tmp/search-err" ]; then ok; else bad "search: $(head -3 "$tmp/search-err")"; fi

# Damage is named: a deletion set, the manifest, a segment
dm=$tmp/damaged
printf '{"id":"a","text":"工匠學院"}\n{"id":"b","text":"春風小城"}\n' >"$tmp/ab.jsonl"
"$JIANSUO" index -d "$dm" "$tmp/ab.jsonl" >/dev/null
"$JIANSUO" delete -d "$dm" --id a >/dev/null
cp -r "$dm" "$dm.2"
cp -r "$dm" "$dm.3"
del=$(ls "$dm"/*.del-*)
printf '\377' | dd of="$del" bs=1 seek=24 conv=notrunc 2>/dev/null
want='seg-000001.del-1: deletion set is corrupt at byte'
expect 1 "$JIANSUO" check -d "$dm"
printf 'x' | dd of="$dm.2/manifest.jsm" bs=1 seek=20 conv=notrunc 2>/dev/null
want='manifest.jsm: manifest is corrupt at byte'
expect 1 "$JIANSUO" check -d "$dm.2"
size=$(wc -c <"$dm.3/seg-000001.jsi")
printf 'xxxx' | dd of="$dm.3/seg-000001.jsi" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
want='seg-000001.jsi: index is corrupt'
expect 1 "$JIANSUO" check -d "$dm.3"

# The same commands on a Xapian index of two shards
if [ "${JIANSUO_XAPIAN:-1}" = 1 ]; then
    xi=$tmp/xindex
    want='indexed'
    expect 0 "$JIANSUO" index -d "$xi" --backend xapian --shards 2 "$d"
    want='1 replaced'
    expect 0 "$JIANSUO" add -d "$xi" "$tmp/p1.jsonl"
    want='舉頭望'
    expect 0 "$JIANSUO" search -d "$xi" 明月
    want='1 deleted'
    expect 0 "$JIANSUO" delete -d "$xi" --id p2
    want='no section matches'
    expect 0 "$JIANSUO" search -d "$xi" --no-partial 山河
    want='id nope: no such document\|nope'
    expect 1 "$JIANSUO" delete -d "$xi" --id nope
    want='unchanged'
    expect 0 "$JIANSUO" index --update -d "$xi" "$d"
fi

echo "live_cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
