#!/bin/bash
# serve_cli.sh — `jiansuo serve` end to end over loopback: every endpoint
# and every error status, the write token, group-committed writes, the
# limits, SIGHUP, SIGTERM, the access log, TLS and the Xapian backend.
#
# In:  $JIANSUO, the built binary; curl (scripts/install-deps).
# Out: "serve_cli: N passed, M failed".
set -u
# shellcheck source=tests/expect.sh
. "$(dirname "$0")/expect.sh"
command -v curl >/dev/null || { echo "serve_cli: curl not found; skipped"; exit 77; }
setup serve

d=$tmp/docs
mkdir -p "$d"
printf '# 工匠学院\n\n工匠学院的课程介绍：木工、铁工与陶艺。\n\n## 报名\n\n报名请到学院的办公室。\n' >"$d/school.md"
printf '# 春風\n\n春風吹過小城的柳樹，河邊的工匠正在修船。\n' >"$d/spring.md"
printf '{"id":"p1","title":"李白","text":"床前明月光，疑是地上霜"}\n{"id":"p2","title":"杜甫","text":"國破山河在，城春草木深"}\n' >"$d/poems.jsonl"
idx=$tmp/index
"$JIANSUO" index -d "$idx" "$d" >/dev/null 2>&1 || { echo "serve_cli: index failed"; exit 1; }
head -c 24 /dev/urandom | base64 >"$tmp/token"
chmod 600 "$tmp/token"
token=$(cat "$tmp/token")

pids=
cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# start NAME ARGS...: starts `jiansuo serve ARGS` on a free port, its
# stderr in $tmp/NAME.err; sets $url and $pid once it listens.
start() {
    name=$1
    shift
    : >"$tmp/$name.err" # before the background shell opens it
    "$JIANSUO" serve --listen 127.0.0.1:0 "$@" 2>"$tmp/$name.err" &
    pid=$!
    pids="$pids $pid"
    for _ in $(seq 100); do
        url=$(sed -n 's|.*listening on \(https*://[^ ]*\)/ .*|\1|p' "$tmp/$name.err")
        [ -n "$url" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "not ok: serve $* did not start:"
    sed 's/^/    /' "$tmp/$name.err"
    fail=$((fail + 1))
    return 1
}

# stop: SIGTERM to the server started last; it must exit 0 (under
# valgrind: also without a memory error or leak).
stop() {
    kill -TERM "$pid"
    wait "$pid"
    st=$?
    if [ $st = 0 ]; then ok; else bad "server $pid: exit status $st after SIGTERM"; sed 's/^/    /' "$tmp/$name.err"; fi
}

# http ARGS...: curl ARGS, printing the body (micros made N), then
# "status CODE" on a line of its own.
http() {
    curl -sS -o "$tmp/body" -w '%{http_code}' "$@" >"$tmp/code" 2>"$tmp/curlerr"
    sed 's/"micros":[0-9]*/"micros":N/g' "$tmp/body"
    printf '\nstatus %s\n' "$(cat "$tmp/code")"
    cat "$tmp/curlerr"
}

# same WANT ARGS...: the response (as http prints it) is exactly WANT.
same() {
    want_text=$1
    shift
    got_text=$(http "$@")
    if [ "$got_text" = "$want_text" ]; then
        pass=$((pass + 1))
    else
        echo "not ok: curl $*"
        diff <(printf '%s\n' "$want_text") <(printf '%s\n' "$got_text") | sed 's/^/    /'
        fail=$((fail + 1))
    fi
}

start main -d "$idx" --write-token-file "$tmp/token" --log "$tmp/access.log" || exit 1

### reading endpoints
same '{"status":"ok","backend":"native","generation":0,"documents":4,"sections":5,"writes":true}
status 200' "$url/health"
# (a Traditional query; the second section matches by its heading path)
same '{"query":{"query":"工匠學院","parsed":"\"工匠@0 学院@2\"","total":2,"total_exact":true,"hits":2,"offset":0,"micros":N},"hits":[{"rank":1,"score":1.3146563119536401,"partial":false,"source":"'"$d"'/school.md","title":"工匠学院","format":"markdown","encoding":"UTF-8","metadata":null,"headings":["工匠学院"],"section":2,"ordinal":0,"start":0,"end":75,"snippet":"工匠学院的课程介绍：木工、铁工与陶艺。","highlights":[[0,12]]},{"rank":2,"score":0.92755044694152566,"partial":false,"source":"'"$d"'/school.md","title":"工匠学院","format":"markdown","encoding":"UTF-8","metadata":null,"headings":["工匠学院","报名"],"section":3,"ordinal":1,"start":75,"end":120,"snippet":"报名请到学院的办公室。","highlights":[]}]}
status 200' "$url/search?q=%E5%B7%A5%E5%8C%A0%E5%AD%B8%E9%99%A2&partial=0"
# POST /search: the same parameters as a JSON object
want='"total":2,"total_exact":true,"hits":1,
"source":"[^"]*/school.md"
status 200'
expect 0 http -X POST -H 'Content-Type: application/json' \
    --data '{"q":"工匠學院","n":1,"partial":false}' "$url/search"
# paging, no snippets, exact totals, long excerpts
want='"offset":1,
"rank":2,
status 200'
expect 0 http "$url/search?q=%E5%B7%A5%E5%8C%A0&n=1&offset=1"
want='"hits":\[{"rank":1,"score":[0-9.]*,"partial":false,"source":"[^"]*","title":"[^"]*","format":"[a-z]*","encoding":"UTF-8","metadata":null,"headings":\[[^]]*\],"section":[0-9]*,"ordinal":[0-9]*,"start":[0-9]*,"end":[0-9]*}'
expect 0 http "$url/search?q=%E5%B7%A5%E5%8C%A0&n=1&snippet=0&exact=1"
want='"snippet":"报名请到学院的办公室。"'
expect 0 http "$url/search?q=%E5%8A%9E%E5%85%AC%E5%AE%A4&chars=2000"
want='"sections":5,
"server":{"threads":2,"writes":true,"searches":[0-9]*,"write_requests":0}
status 200'
expect 0 http "$url/stats"
# the page and its assets, with their security headers
want='HTTP/1.1 200
Content-Type: text/html; charset=utf-8
Content-Security-Policy: default-src .self.
<!doctype html>'
expect 0 curl -si "$url/"
want='Content-Type: text/javascript; charset=utf-8'
expect 0 curl -si "$url/app.js"
want='Content-Type: text/css; charset=utf-8'
expect 0 curl -si "$url/app.css"
want='HTTP/1.1 200
Content-Length: [1-9]'
expect 0 curl -sI "$url/health"

### errors: JSON {"error"} with their status
same '{"error":"no query: give q, as in /search?q=..."}
status 400' "$url/search"
same '{"error":"n wants a whole number in 0..1000"}
status 400' "$url/search?q=x&n=abc"
same '{"error":"n wants a whole number in 0..1000"}
status 400' "$url/search?q=x&n=1001"
same '{"error":"partial wants 1 or 0 (true or false)"}
status 400' "$url/search?q=x&partial=maybe"
same '{"error":"chars wants a whole number in 10..10000"}
status 400' "$url/search?q=x&chars=5"
want='"error":"[^"]*searchable
status 400'
expect 0 http "$url/search?q=%20%2C"
want='{"error":"the body is not JSON (line 1, column [0-9]*: [^"]*); POST /search takes {\\"q\\": ...}"}
status 400'
expect 0 http -X POST --data '{"q":' "$url/search"
same '{"error":"\"n\" has a wrong type"}
status 400' -X POST --data '{"q":"x","n":[1]}' "$url/search"
same '{"error":"no such endpoint: /nope (try /search?q=..., /stats, /health, /documents, or / for the page)"}
status 404' "$url/nope"
want='HTTP/1.1 405
Allow: GET, HEAD, POST
{"error":"method not allowed here; use GET, HEAD, POST"}'
expect 0 curl -si -X PUT "$url/search"
same '{"error":"method not allowed here; use POST"}
status 405' "$url/documents"
same '{"error":"method not allowed here; use DELETE"}
status 405' "$url/documents/p1"

### writes need the token
want='HTTP/1.1 401
WWW-Authenticate: Bearer realm="jiansuo"
{"error":"a write needs the token: send \\"Authorization: Bearer TOKEN\\""}'
expect 0 curl -si -X POST --data-binary '{"id":"x","text":"y"}' "$url/documents"
same '{"error":"wrong token"}
status 403' -X POST -H 'Authorization: Bearer not-the-token-at-all' \
    --data-binary '{"id":"x","text":"y"}' "$url/documents"
same '{"error":"wrong token"}
status 403' -X DELETE -H "Authorization: Bearer ${token}x" "$url/documents/p1"
want='床前'
expect 0 http "$url/search?q=%E6%98%8E%E6%9C%88"

auth="Authorization: Bearer $token"
### writes: added, replaced, deleted, each committed before the answer
same '{"records":2,"generation":1,"batch":{"requests":1,"records":2},"micros":N}
status 200' -X POST -H "$auth" --data-binary '{"id":"n1","title":"夏夜","text":"夏夜的星空明亮，萤火虫飞过池塘。"}
{"id":"n2","title":"秋日","sections":[{"heading":"落叶","text":"秋日的落叶铺满小路。"}]}' "$url/documents"
want='"total":1,
"source":"api:n1","title":"夏夜","format":"jsonl","encoding":"UTF-8","id":"n1"'
expect 0 http "$url/search?q=%E8%90%A4%E7%81%AB%E8%99%AB"
want='"title":"秋日","format":"jsonl","encoding":"UTF-8","id":"n2","metadata":null,"headings":\["落叶"\]'
expect 0 http "$url/search?q=%E8%90%BD%E5%8F%B6"
# a JSON array; p1 (indexed from a file) replaced by its id
same '{"records":1,"generation":2,"batch":{"requests":1,"records":1},"micros":N}
status 200' -X POST -H "$auth" -H 'Content-Type: application/json' \
    --data-binary '[{"id":"p1","title":"李白","text":"舉頭望明月，低頭思故鄉"}]' "$url/documents"
want='"total":0,'
expect 0 http "$url/search?q=%E5%BA%8A%E5%89%8D&partial=0"
want='"id":"p1"
低頭思故鄉'
expect 0 http "$url/search?q=%E6%95%85%E4%B9%A1"
same '{"deleted":"n1","generation":3,"batch":{"requests":1,"records":0},"micros":N}
status 200' -X DELETE -H "$auth" "$url/documents/n1"
same '{"error":"no document has the id '"'"'n1'"'"'"}
status 404' -X DELETE -H "$auth" "$url/documents/n1"
want='"total":0,'
expect 0 http "$url/search?q=%E8%90%A4%E7%81%AB%E8%99%AB&partial=0"
# a bad batch: nothing of it is applied
same '{"error":"record 2 (line 2): \"text\" is a number, not a string; nothing was applied"}
status 400' -X POST -H "$auth" --data-binary '{"id":"b1","text":"冬雪覆盖了山顶"}
{"id":"b2","text":7}' "$url/documents"
same '{"error":"record 1 (line 3): no \"id\": every record sent to /documents needs one, by which it is replaced and deleted; nothing was applied"}
status 400' -X POST -H "$auth" --data-binary '

{"title":"冬","text":"冬雪"}' "$url/documents"
want='{"error":"record 2 (line 2): invalid JSON at column [0-9]*: [^"]*; nothing was applied"}
status 400'
expect 0 http -X POST -H "$auth" --data-binary '{"id":"b1","text":"冬雪覆盖了山顶"}
{"id":' "$url/documents"
same '{"error":"record 1: \"sections\" is an object, not an array; nothing was applied"}
status 400' -X POST -H "$auth" --data-binary '[{"id":"b3","sections":{}}]' "$url/documents"
same '{"error":"no records in the body (JSON Lines, or a JSON array of records)"}
status 400' -X POST -H "$auth" --data-binary '  ' "$url/documents"
want='"total":0,'
expect 0 http "$url/search?q=%E5%86%AC%E9%9B%AA&partial=0"
# many requests at once share commits (group commit), none is lost
for i in $(seq 1 20); do
    curl -s -X POST -H "$auth" --data-binary "{\"id\":\"g$i\",\"text\":\"并发写入第${i}条记录 zqx$i\"}" \
        "$url/documents" >"$tmp/g$i.out" &
done
wait_for() { for p in $(jobs -p); do [ "$p" = "$1" ] || wait "$p"; done; }
wait_for "$pid"
ok_all=1
for i in $(seq 1 20); do
    grep -q '"records":1,' "$tmp/g$i.out" || { ok_all=0; cat "$tmp/g$i.out"; }
done
if [ $ok_all = 1 ]; then ok; else bad "20 concurrent POST /documents"; fi
want='"total":20,'
expect 0 http "$url/search?q=%E5%B9%B6%E5%8F%91%E5%86%99%E5%85%A5&partial=0&exact=1"
want='"query":"zqx17","parsed":"\\"zqx17@0\\"","total":1,'
expect 0 http "$url/search?q=zqx17"

### the access log: one line a request, control bytes escaped
want='GET /health" 200 [0-9]* [0-9.]*ms
POST /documents" 401
DELETE /documents/n1" 404'
expect 0 cat "$tmp/access.log"
curl -s "$url/search?q=%0aforged%20line" >/dev/null
want='"GET /search?q=%0aforged%20line" 200'
expect 0 tail -1 "$tmp/access.log"

### SIGHUP reopens the index: here rebuilt from scratch beside the server
printf '# 冬至\n\n冬至的饺子热气腾腾。\n' >"$d/winter.md"
"$JIANSUO" index -d "$idx" "$d" >/dev/null 2>&1
kill -HUP "$pid"
for _ in $(seq 50); do grep -q 'SIGHUP: index reopened' "$tmp/main.err" && break; sleep 0.1; done
want='SIGHUP: index reopened'
expect 0 cat "$tmp/main.err"
want='"total":1,'
expect 0 http "$url/search?q=%E9%A5%BA%E5%AD%90"

### SIGTERM: exit 0, saying so
stop
want='jiansuo serve: stopping: finishing 0 requests in flight
jiansuo serve: stopped'
expect 0 cat "$tmp/main.err"

### limits: body, URL, headers, connections; writes off without a token
start limits -d "$idx" --max-body 2048 --max-url 512 --max-headers 2048 \
    --max-connections 3 --write-token-file "$tmp/token" --quiet || exit 1
head -c 3000 /dev/zero | tr '\0' 'x' >"$tmp/big"
same '{"error":"the body is 3000 bytes, over the limit of 2048 (--max-body); send fewer records a request"}
status 413' -X POST -H "$auth" --data-binary @"$tmp/big" "$url/documents"
# a chunked body has no Content-Length: refused once it grows too large
same '{"error":"the body is over the limit of 2048 bytes (--max-body); send fewer records a request"}
status 413' -X POST -H "$auth" -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/big" "$url/documents"
# without the token, the body is not even read
same '{"error":"a write needs the token: send \"Authorization: Bearer TOKEN\""}
status 401' -X POST --data-binary @"$tmp/big" "$url/documents"
long=$(head -c 600 /dev/zero | tr '\0' 'a')
same '{"error":"the URL is 610 bytes, over the limit of 512 (--max-url); POST /search takes a long query in its body"}
status 414' "$url/search?q=$long"
want='{"error":"the request'"'"'s headers are [0-9]* bytes, over the limit of 2048 (--max-headers)"}
status 431'
expect 0 http -H "X-Filler: $(head -c 2100 /dev/zero | tr '\0' 'b')" "$url/health"
# over --max-connections: 503 with Retry-After, while the others wait
exec 5<>/dev/tcp/127.0.0.1/"${url##*:}" 6<>/dev/tcp/127.0.0.1/"${url##*:}" 7<>/dev/tcp/127.0.0.1/"${url##*:}"
sleep 0.3
want='HTTP/1.1 503
Retry-After: 1
{"error":"overloaded: more than 3 connections open (--max-connections); retry"}'
expect 0 curl -si "$url/health"
exec 5>&- 6>&- 7>&-
sleep 0.3
want='"status":"ok"'
expect 0 curl -s "$url/health"
stop

start readonly -d "$idx" --quiet || exit 1
same '{"error":"writes are off: the server was started without --write-token-file"}
status 403' -X POST -H "$auth" --data-binary '{"id":"x","text":"y"}' "$url/documents"
stop

### bad options and bad token files
want='--listen wants ADDR:PORT'
expect 2 "$JIANSUO" serve -d "$idx" --listen localhost
want='--threads wants a whole number in 1..256'
expect 2 "$JIANSUO" serve -d "$idx" --threads 0
want='--tls-cert and --tls-key go together'
expect 2 "$JIANSUO" serve -d "$idx" --tls-cert x.pem
printf 'short\n' >"$tmp/short"
chmod 600 "$tmp/short"
want='the token is too short; use 16 characters or more'
expect 1 "$JIANSUO" serve -d "$idx" --write-token-file "$tmp/short"
cp "$tmp/token" "$tmp/open-token"
chmod 644 "$tmp/open-token"
want='can be read by others (mode 644); chmod 600 it'
expect 1 "$JIANSUO" serve -d "$idx" --write-token-file "$tmp/open-token"
want='no-such-index'
expect 1 "$JIANSUO" serve -d "$tmp/no-such-index"
start busy -d "$idx" --quiet || exit 1
want='cannot listen on '"${url#http://}"
expect 1 "$JIANSUO" serve -d "$idx" --listen "${url#http://}"
stop

### TLS
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" \
        -out "$tmp/cert.pem" -days 2 -subj /CN=127.0.0.1 >/dev/null 2>&1
    start tls -d "$idx" --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" --quiet || exit 1
    want='^https://'
    expect 0 echo "$url"
    want='"status":"ok"'
    expect 0 curl -sk "$url/health"
    stop
    want='not a PEM file'
    expect 1 "$JIANSUO" serve -d "$idx" --tls-cert "$tmp/token" --tls-key "$tmp/key.pem"
fi

### the Xapian backend: each thread its own handle; writes too
if "$JIANSUO" index --help 2>&1 | grep -q -- '--backend'; then
    xidx=$tmp/xindex
    if "$JIANSUO" index --backend xapian -d "$xidx" "$d" >/dev/null 2>&1; then
        start xapian -d "$xidx" --write-token-file "$tmp/token" --quiet || exit 1
        want='"backend":"xapian"'
        expect 0 curl -s "$url/health"
        want='"total":2,
"source":"[^"]*/school.md"'
        expect 0 http "$url/search?q=%E5%B7%A5%E5%8C%A0%E5%AD%B8%E9%99%A2&partial=0"
        want='"records":1,'
        expect 0 http -X POST -H "$auth" --data-binary '{"id":"x1","text":"雪山下的温泉旅馆"}' "$url/documents"
        want='"total":1,
"id":"x1"'
        expect 0 http "$url/search?q=%E6%B8%A9%E6%B3%89"
        stop
    fi
fi

echo "serve_cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
