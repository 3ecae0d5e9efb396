#!/bin/sh
# index_cli.sh — `jiansuo index`, `stats` and `check` from the command line.
#
# In:  $JIANSUO, the built binary; $CLI_CASES/data, the golden tests' own
#      small corpus (several formats, encodings, a binary file and a bad
#      JSON line).
# Out: "index_cli: N passed, M failed".  Checks exit statuses, the parts
#      of the output that do not depend on timing, that a failed build
#      leaves the previous index in place, that `check` names damage, and
#      that JIANSUO_INDEX is the default location.
set -u
: "${CLI_CASES:?CLI_CASES must name the folder of cases}"
# shellcheck source=tests/expect.sh
. "$(dirname "$0")/expect.sh"
setup icli

d=$tmp/index
want='indexed 9 documents, 25 sections from 8 files
binary file (NUL byte at byte 3): not indexed
records.jsonl:3: invalid JSON
1 skipped files, 1 skipped records'
expect 1 "$JIANSUO" index -d "$d" "$CLI_CASES/data"

want='ok: 9 documents, 25 sections, [0-9]* terms, [0-9]* postings checked'
expect 0 "$JIANSUO" check -d "$d"

want='"documents":9,"sections":25,
"part_bytes":{"stats":[0-9]*,"documents":[0-9]*,"sections":[0-9]*,"store":[0-9]*,"store index":[0-9]*,"lexicon":[0-9]*,"lexicon index":[0-9]*,"postings":[0-9]*,"headings":[0-9]*,"champions":[0-9]*,"postings crc":[0-9]*,"keys":[0-9]*}'
expect 0 "$JIANSUO" stats -d "$d" --json

want='^sections  *25$
^  postings  *[0-9]*'
expect 0 "$JIANSUO" stats -d "$d"

# A path that does not exist fails the build and keeps the old index.
want='/no/such/path: No such file or directory
nothing was published'
expect 1 "$JIANSUO" index -d "$d" "$CLI_CASES/data/manual.md" /no/such/path
want='ok: 9 documents, 25 sections'
expect 0 "$JIANSUO" check -d "$d"

# The default location.
want='ok: 9 documents'
expect 0 env JIANSUO_INDEX="$d" "$JIANSUO" check

# A second writer is refused, and told which process holds the lock
# (here a stand-in: flock(1) holding it, a shell writing its process id
# as jiansuo does).  Bounded: the holder sleeps 30 s at most and is
# killed as soon as the refusal is checked.
rm -f "$d/lock"
flock "$d/lock" sh -c 'echo $$ >"$1"; exec sleep 30' sh "$d/lock" &
flock_pid=$!
i=0
while [ ! -s "$d/lock" ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
holder=$(cat "$d/lock")
want="index is locked by process $holder
nothing was published"
expect 1 "$JIANSUO" index -d "$d" "$CLI_CASES/data/manual.md"
kill "$holder" "$flock_pid" 2>/dev/null
wait "$flock_pid" 2>/dev/null
want='ok: 9 documents, 25 sections'
expect 0 "$JIANSUO" check -d "$d"

# Damage in the postings is found and named.
cp -r "$d" "$tmp/broken"
size=$(wc -c <"$tmp/broken/index.jsi")
printf '\377\377\377\377' | dd of="$tmp/broken/index.jsi" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
want='index is corrupt'
expect 1 "$JIANSUO" check -d "$tmp/broken"

# The commands that only read an index share their option handling
# (js_cli_index_command): help, a bad option, a stray argument.
want='usage: jiansuo stats'
expect 0 "$JIANSUO" stats --help
want='usage: jiansuo check'
expect 2 "$JIANSUO" check --bogus
want="unexpected argument 'extra'"
expect 2 "$JIANSUO" check -d "$d" extra
want='ok: 9 documents'
expect 0 "$JIANSUO" check --index="$d" --backend native

# No index, bad options.
want='no index here'
expect 1 "$JIANSUO" stats -d "$tmp/none"
want='--memory takes MiB'
expect 2 "$JIANSUO" index -d "$d" --memory 0 "$CLI_CASES/data"
want='no file or directory given'
expect 2 "$JIANSUO" index -d "$d"

echo "index_cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
