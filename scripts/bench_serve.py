#!/usr/bin/env python3
"""bench_serve.py — `jiansuo serve` under load, against Groonga's HTTP server.

In:  the jiansuo binary; chinese-poetry as JSON Lines (records with "id",
     "title", "text"); wrk, groonga (Debian wrk, groonga-bin); a scratch
     directory.  Everything runs on 127.0.0.1 and stops by itself: wrk
     runs for --duration, every HTTP call and every process has a timeout,
     and both servers are stopped in `finally`.
Out: Markdown tables on stdout (progress on stderr) and the figures as
     JSON, one object a line, in --out (scripts/bench puts them into
     bench-results/serve.json).  Measured, median of --runs runs:

  1. chinese-poetry indexed by `jiansuo index` (JSON Lines: one section a
     poem, title and text) and served by `jiansuo serve --threads N` (2 by
     default) on a free loopback port;
  2. wrk (its own 2 threads, 32 keep-alive connections, --duration s a
     run) asks GET /search?q=...&n=10&snippet=1 — the top 10 with
     snippets — cycling through the query mix of bench_search.py (issue
     5's kinds: substrings of 1, 2, 3, 4 and 6 characters, two-part
     queries, sentence-like queries; each in the corpus's script and in
     Simplified; drawn with bench_search.draw and the search stage's seed,
     so the same queries as that stage); scripts/bench_serve.lua picks the
     next path per request and prints wrk's summary and latency
     percentiles as JSON.  Requests/s, latency p50/p90/p99/max, status
     >= 400 (wrk's "non-2xx": it counts 4xx and 5xx) and socket errors.
     Targets (the issue's): >= 15,000 searches/s on a 2-core machine and
     p99 <= 5 ms at that load.  wrk runs on the same cores as the server,
     so the figures are those of a server sharing its machine with its
     load generator; the tables show the CPU each used;
  3. the peer: Groonga's own HTTP server (`groonga -s --protocol http`,
     --max-threads the same N) over the same sections: a table Sections
     (TABLE_NO_KEY; title ShortText, text LongText), a lexicon
     TABLE_PAT_KEY with TokenBigram and NormalizerAuto and one index
     column over title,text (WITH_POSITION|WITH_SECTION), the records
     loaded with `load --table Sections` (JSON) before the lexicon and
     index are made (Groonga then builds the index offline, in half the
     time of loading into an indexed table).  The same queries as
     /d/select?table=Sections&match_columns=title*2||text&query=...
     &limit=10&output_columns=_id,_score,title,snippet_html(text)
     &sort_keys=-_score, with the same wrk settings, interleaved with
     jiansuo's runs; ratios jiansuo / groonga of requests/s and p99;
  4. with a writer: while wrk runs against jiansuo, a thread POSTs 100
     records a second to /documents (--writer-batch 100: one request of
     100 records a second, committed before its answer; new poems made of
     two poems of the corpus, with new ids; with ten requests of ten, one
     after another, the writer fell behind when a commit took over 0.1 s
     on the loaded machine) with the token of
     --write-token-file; search throughput as a share of step 2's (target
     >= 80%; also per core the server used, which other work on a shared
     machine disturbs less), the write requests' latency (p50, max) and their errors.
     These runs come after all of steps 2 and 3, so that the records they
     add do not change the index the others search.
  5. where jiansuo's time goes (diagnostics, not against the targets):
     the search's own time inside the server per query kind (the
     answers' "micros", a pass over the mix one query at a time), and one
     wrk run of the same queries without snippets (snippet=0), half as
     long as the others.

Where the two servers' queries differ (to_groonga translates jiansuo's
syntax): a space is AND and "..." a phrase in both; jiansuo's OR binds
tighter than the space, so `a b OR c` becomes `a (b OR c)`; `-x` becomes
`- x`; `title:x` becomes `title:@x`; full-width quotes and parentheses
become ASCII ones.  The mix itself has only runs of characters, two-part
AND queries and sentences.  What the engines then do differs:
  * Groonga's NormalizerAuto folds width and case (NFKC) but not
    Traditional to Simplified, so the Simplified half of the mix finds
    little of the Traditional shi (Tang and Song) in Groonga; jiansuo
    folds both.  Fewer hits are less work for Groonga (fewer snippets);
    the tables show how many queries found something in each;
  * a sentence-like query (a clause and 是哪首诗) matches nothing strictly
    in either; jiansuo then ranks partial matches (sections holding 40%
    of the query's pairs), Groonga (match-escalation-threshold 0) returns
    none — again less work for Groonga;
  * a run of characters is a chain of bigrams in both; a one-character
    query is a prefix search of the bigram lexicon in Groonga and a
    unigram in jiansuo;
  * ranking: BM25F (title and body) in jiansuo, Groonga's default TF
    scorer (title weighted 2) sorted by -_score; snippets: jiansuo one
    around the best cluster, Groonga's snippet_html up to 3 of 200 bytes.
The throughput comparison is still fair in the sense that matters: the
same requests over the same sections on the same cores, each server with
the same number of threads, answered in full (the tables give the bytes
per answer).

wrk (not wrk2) is a closed loop: each connection sends its next request
when the last is answered, so its latencies leave out the waiting a
fixed arrival rate would add when the server stalls (coordinated
omission); requests/s is what the server kept up with at 32 requests in
flight, p99 the spread at that load.  "late" counts the write requests
sent more than one interval behind their schedule (a slow commit holds
up the next: the writer is one thread).

Usage: bench_serve.py --jiansuo BIN --work DIR --out FILE [--runs N]
         [--queries N] [--duration S] [--connections C] [--wrk-threads T]
         [--threads N] [--writer-rate R] [--writer-batch B]
         --poetry FILE.jsonl...
"""
import argparse
import http.client
import json
import os
import random
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no scripts/__pycache__ from the import below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import jline, logger, median, table, verdict  # noqa: E402
import bench_search  # noqa: E402  (the query mix: load, draw, to_simplified, pct)

SEED = 20261124                # bench_search.py's: the same queries as the search stage
WRITER_SEED = 20261208
RPS_TARGET = 15000             # searches/s, 2 cores (the issue's)
P99_TARGET_MS = 5.0            # at that load
WRITER_TARGET = 0.80           # search req/s with the writer / without
HTTP_TIMEOUT = 10              # s, every HTTP call of this script
START_TIMEOUT = 120            # s, until a server answers
WARMUP = 2                     # s of wrk against each server before its runs
PCTS = ('50', '90', '99')

a = None
entries = []
verdicts = []


log, die = logger('serve')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of process pid (all its threads), in seconds."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
    except (OSError, IndexError, ValueError):
        return float('nan')


def get(url, timeout=HTTP_TIMEOUT):
    """GET url; returns (status, body bytes)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# ------------------------------------------------------------ queries

def to_groonga(q):
    """jiansuo's query syntax as Groonga's (see the docstring)."""
    quotes = {'"': '"', '\u201c': '\u201d', '\u300c': '\u300d'}
    toks, i = [], 0
    while i < len(q):
        c = q[i]
        if c.isspace():
            i += 1
        elif c in quotes:
            j = q.find(quotes[c], i + 1)
            j = len(q) if j < 0 else j
            toks.append(('phrase', q[i + 1:j]))
            i = j + 1
        elif c in '(\uff08':
            toks.append(('(', c))
            i += 1
        elif c in ')\uff09':
            toks.append((')', c))
            i += 1
        else:
            j = i
            while j < len(q) and not q[j].isspace() and q[j] not in '()\uff08\uff09"\u201c\u300c':
                j += 1
            toks.append(('word', q[i:j]))
            i = j

    def quote(s):
        return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'

    def term(kind, s):
        if kind == 'phrase':
            return quote(s)
        col = ''
        for p in ('title:', '\u6807\u9898:'):
            if s.startswith(p) and len(s) > len(p):
                col, s = 'title:@', s[len(p):]
        plain = re.fullmatch(r'[\w\u3400-\u9fff\U00020000-\U0002ffff]+', s) and s != 'OR'
        return col + (s if plain else quote(s))

    # parse: seq := item+ ; item := ['-'] atom (OR atom)* ; atom := term | ( seq )
    pos = 0

    def seq(close):
        nonlocal pos
        out = []
        while pos < len(toks) and not (close and toks[pos][0] == ')'):
            if toks[pos][0] == ')':  # a stray ')': ignored
                pos += 1
                continue
            neg = False
            if toks[pos][0] == 'word' and toks[pos][1].startswith('-'):
                if toks[pos][1] == '-':
                    pos += 1
                    continue
                neg = True
                toks[pos] = ('word', toks[pos][1][1:])
            alts = [atom()]
            while (pos + 1 < len(toks) and toks[pos] == ('word', 'OR')):
                pos += 1
                alts.append(atom())
            x = alts[0] if len(alts) == 1 else '(' + ' OR '.join(alts) + ')'
            out.append(('- ' if neg else '') + x)
        # Groonga: "a - b" is a AND NOT b; a leading exclusion cannot stand
        out.sort(key=lambda x: x.startswith('- '))
        return ' '.join(out)

    def atom():
        nonlocal pos
        kind, s = toks[pos]
        pos += 1
        if kind == '(':
            inner = seq(True)
            pos += 1  # the ')', or the end
            return '(' + inner + ')'
        return term(kind, s)

    return seq(False)


def query_mix():
    """The mix: [(kind, script, query)], bench_search.py's draw."""
    recs = bench_search.load(a.poetry)
    qs = bench_search.draw(recs, a.queries, random.Random(SEED))
    hans = bench_search.to_simplified([q for _, q, _ in qs])
    return [(k, 'source', q) for k, q, _ in qs] + \
           [(k, 'simplified', h) for (k, _, _), h in zip(qs, hans)]


def jiansuo_path(q, snippet=1):
    return '/search?' + urllib.parse.urlencode({'q': q, 'n': 10, 'snippet': snippet})


def groonga_path(q):
    return '/d/select?' + urllib.parse.urlencode({
        'table': 'Sections', 'match_columns': 'title*2||text', 'query': to_groonga(q),
        'limit': 10, 'output_columns': '_id,_score,title,snippet_html(text)',
        'sort_keys': '-_score'})


# ------------------------------------------------------------ servers

class Server:
    """A server process, its stderr in a file; stopped by stop()."""

    def __init__(self, name, cmd, log_path):
        self.name, self.log_path = name, log_path
        self.err = open(log_path, 'wb')
        self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.err,
                                  stderr=self.err)
        self.port = None

    def alive(self):
        return self.p.poll() is None

    def tail(self):
        try:
            with open(self.log_path, 'rb') as f:
                return f.read()[-600:].decode('utf-8', 'replace')
        except OSError:
            return ''

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s; returns the exit status."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                log('%s did not stop within 10 s of SIGTERM: killed' % self.name)
                self.p.kill()
                self.p.wait(10)
        self.err.close()
        return self.p.returncode


def start_jiansuo(ix, token_file):
    s = Server('jiansuo serve',
               [a.jiansuo, 'serve', '-d', ix, '--listen', '127.0.0.1:0',
                '--threads', str(a.threads), '--write-token-file', token_file,
                '--log', os.path.join(a.work, 'jiansuo-serve.log')],
               os.path.join(a.work, 'jiansuo-serve.err'))
    t0 = time.monotonic()
    rx = re.compile(r'listening on http://127\.0\.0\.1:(\d+)/')
    while time.monotonic() - t0 < START_TIMEOUT:
        m = rx.search(s.tail())
        if m:
            s.port = int(m.group(1))
            break
        if not s.alive():
            break
        time.sleep(0.05)
    if s.port is None:
        s.stop()
        die('jiansuo serve did not start: %s' % s.tail())
    st, body = get('http://127.0.0.1:%d/health' % s.port)
    if st != 200 or json.loads(body).get('status') != 'ok':
        s.stop()
        die('jiansuo serve: GET /health: %d %s' % (st, body[:300]))
    log('jiansuo serve listening on port %d (%.1f s to start)' % (s.port, time.monotonic() - t0))
    return s


def start_groonga(db):
    port = free_port()
    s = Server('groonga -s',
               [a.groonga, '-s', '--protocol', 'http', '--bind-address', '127.0.0.1',
                '--port', str(port), '--max-threads', str(a.threads),
                '--log-path', os.path.join(a.work, 'groonga.log'),
                '--query-log-path', os.devnull, db],
               os.path.join(a.work, 'groonga.err'))
    s.port = port
    t0 = time.monotonic()
    while time.monotonic() - t0 < START_TIMEOUT:
        if not s.alive():
            break
        try:
            if get('http://127.0.0.1:%d/d/status' % port, timeout=2)[0] == 200:
                log('groonga -s listening on port %d' % port)
                return s
        except OSError:
            pass
        time.sleep(0.1)
    s.stop()
    die('groonga -s did not start on port %d: %s' % (port, s.tail()))


# ------------------------------------------------------------ builds

def build_jiansuo(ix):
    t0 = time.monotonic()
    p = subprocess.run([a.jiansuo, 'index', '-d', ix, '--format', 'jsonl'] + a.poetry,
                       capture_output=True, text=True, timeout=1200)
    # exit status 1 only reports the records without text (chinese-poetry has 27)
    if p.returncode not in (0, 1) or not re.search(r'^indexed ', p.stdout, re.M):
        die('jiansuo index failed (status %d): %s%s' % (p.returncode, p.stdout[-400:],
                                                        p.stderr[-400:]))
    dt = time.monotonic() - t0
    st = json.loads(subprocess.run([a.jiansuo, 'stats', '-d', ix, '--json'], capture_output=True,
                                   text=True, check=True, timeout=60).stdout)
    return dt, st


def groonga_cmd(db, text, create=False, timeout=1200):
    """Runs Groonga commands (text) on db; returns the outputs, one a line."""
    cmd = [a.groonga] + (['-n'] if create else []) + ['--log-path', os.path.join(a.work, 'groonga.log'), db]
    p = subprocess.run(cmd, input=text.encode('utf-8'), capture_output=True, timeout=timeout)
    out = p.stdout.decode('utf-8', 'replace').splitlines()
    bad = [o for o in out if not o.startswith('[[0,')]
    if p.returncode != 0 or bad or not out:
        die('groonga failed (status %d): %s %s' % (p.returncode, bad[:2] or out[-1:],
                                                   p.stderr[-300:]))
    return out


def build_groonga(db, recs):
    os.makedirs(os.path.dirname(db), exist_ok=True)
    groonga_cmd(db, 'table_create Sections TABLE_NO_KEY\n'
                    'column_create Sections title COLUMN_SCALAR ShortText\n'
                    'column_create Sections text COLUMN_SCALAR LongText\n', create=True)
    t0 = time.monotonic()
    data = 'load --table Sections\n[\n' + ',\n'.join(
        json.dumps({'title': r['title'], 'text': r['text']}, ensure_ascii=False)
        for r in recs) + '\n]\n'
    out = groonga_cmd(db, data)
    n = json.loads(out[-1])[1]
    t_load = time.monotonic() - t0
    if n != len(recs):
        die('groonga loaded %s records of %d' % (n, len(recs)))
    t0 = time.monotonic()
    groonga_cmd(db, 'table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer TokenBigram '
                    '--normalizer NormalizerAuto\n'
                    'column_create Terms sections_index COLUMN_INDEX|WITH_POSITION|WITH_SECTION '
                    'Sections title,text\n')
    t_index = time.monotonic() - t0
    size = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(os.path.dirname(db))
               for f in fs)
    return t_load, t_index, size


# ------------------------------------------------------------ checks

def validate(name, port, paths, total_of, micros=None):
    """Every path once, in order: status 200 and a result; returns a
    summary (and the first failure dies).  micros: a list to append
    jiansuo's "micros" of each query to."""
    t0 = time.monotonic()
    with_hits = nbytes = 0
    for path in paths:
        st, body = get('http://127.0.0.1:%d%s' % (port, path))
        if st != 200:
            die('%s: GET %s: status %d: %s' % (name, path, st, body[:300]))
        nbytes += len(body)
        try:
            o = json.loads(body)
            total = total_of(o)
            if micros is not None:
                micros.append(int(o['query']['micros']))
        except (ValueError, LookupError, TypeError) as e:
            die('%s: GET %s: unexpected answer (%s): %s' % (name, path, e, body[:300]))
        with_hits += total > 0
    return {'queries': len(paths), 'with_hits': with_hits,
            'mean_bytes': round(nbytes / len(paths)), 'seconds': round(time.monotonic() - t0, 2)}


def jiansuo_total(o):
    if not isinstance(o.get('hits'), list):
        raise ValueError('no hits')
    return int(o['query']['total'])


def groonga_total(o):
    if o[0][0] != 0:
        raise ValueError('status %s' % o[0][:4])
    return int(o[1][0][0][0])


# ------------------------------------------------------------ wrk

def wrk(port, paths_file, duration, server_pid):
    """One wrk run; returns its figures (with the CPU the server and wrk
    used, in cores)."""
    cmd = [a.wrk, '-t', str(a.wrk_threads), '-c', str(a.connections), '-d', '%ds' % duration,
           '--timeout', '5s', '-s', a.lua, 'http://127.0.0.1:%d' % port, '--', paths_file]
    load = os.getloadavg()[0]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    c0, t0 = cpu_seconds(server_pid), time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    dt = time.monotonic() - t0
    c1 = cpu_seconds(server_pid)
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = re.search(r'^bench_serve: (\{.*\})$', p.stdout, re.M)
    if p.returncode != 0 or not m:
        die('wrk failed (status %d): %s %s' % (p.returncode, p.stdout[-500:], p.stderr[-500:]))
    o = json.loads(m.group(1))
    secs = o['duration_us'] / 1e6
    e = o['errors']
    return {'requests': o['requests'], 'seconds': round(secs, 3),
            'rps': round(o['requests'] / secs, 1),
            'ms': {p_: round(o['latency_us']['percentiles'][p_] / 1000, 3) for p_ in PCTS},
            'max_ms': round(o['latency_us']['max'] / 1000, 3),
            'mean_ms': round(o['latency_us']['mean'] / 1000, 3),
            'bytes_per_request': round(o['bytes'] / max(1, o['requests'])),
            'status_errors': e['status'],
            'socket_errors': e['connect'] + e['read'] + e['write'] + e['timeout'],
            'errors': e, 'server_cores': round((c1 - c0) / dt, 2),
            'wrk_cores': round((ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) / dt, 2),
            'loadavg_before': round(load, 2)}


# ------------------------------------------------------------ the writer

class Writer(threading.Thread):
    """POSTs --writer-batch records every --writer-batch/--writer-rate s
    until stopped; one keep-alive connection (opened again after an error)."""

    def __init__(self, port, token, batches):
        super().__init__(daemon=True)
        self.port, self.token, self.batches = port, token, batches
        self.stop_ev = threading.Event()
        self.lat, self.errors, self.records, self.behind, self.sent = [], [], 0, 0, 0

    def post(self, conn, body):
        conn.request('POST', '/documents', body=body.encode('utf-8'), headers={
            'Authorization': 'Bearer ' + self.token,
            'Content-Type': 'application/x-ndjson'})
        r = conn.getresponse()
        data = r.read()
        return r.status, data

    def run(self):
        every = a.writer_batch / a.writer_rate
        conn = None
        t0 = time.monotonic()
        for i, body in enumerate(self.batches):
            wait = t0 + (i + 0.5) * every - time.monotonic()  # mid-interval
            if wait > 0:
                if self.stop_ev.wait(wait):
                    break
            elif wait < -every:
                self.behind += 1
            if self.stop_ev.is_set():
                break
            if conn is None:
                conn = http.client.HTTPConnection('127.0.0.1', self.port, timeout=HTTP_TIMEOUT)
            s = time.monotonic()
            self.sent += 1
            try:
                st, data = self.post(conn, body)
            except (OSError, http.client.HTTPException) as e:
                self.errors.append('%s' % e)
                conn.close()
                conn = None
                continue
            self.lat.append(time.monotonic() - s)
            if st != 200:
                self.errors.append('status %d: %s' % (st, data[:200]))
            else:
                self.records += a.writer_batch
        if conn is not None:
            conn.close()


def writer_batches(recs, run_no, n):
    """n bodies of --writer-batch new poems each: the first half of one
    poem's text and the second half of another's, under new ids."""
    rng = random.Random(WRITER_SEED + run_no)
    out = []
    for b in range(n):
        lines = []
        for k in range(a.writer_batch):
            r1, r2 = rng.choice(recs), rng.choice(recs)
            text = r1['text'][:len(r1['text']) // 2] + r2['text'][len(r2['text']) // 2:]
            lines.append(jline({'id': 'bench-serve-%d-%d-%d' % (run_no, b, k),
                                'title': r1['title'], 'text': text}))
        out.append(''.join(lines))
    return out


# ------------------------------------------------------------ main

def summarize(runs):
    """The medians of a list of wrk() results."""
    return {'runs': len(runs), 'rps': median([r['rps'] for r in runs]),
            'rps_min': min(r['rps'] for r in runs), 'rps_max': max(r['rps'] for r in runs),
            'ms': {p: median([r['ms'][p] for r in runs]) for p in PCTS},
            'max_ms': max(r['max_ms'] for r in runs),
            'bytes_per_request': median([r['bytes_per_request'] for r in runs]),
            'status_errors': sum(r['status_errors'] for r in runs),
            'socket_errors': sum(r['socket_errors'] for r in runs),
            'requests': sum(r['requests'] for r in runs),
            'server_cores': median([r['server_cores'] for r in runs]),
            'rps_per_server_core': median([r['rps'] / r['server_cores'] for r in runs
                                           if r['server_cores'] > 0] or [float('nan')]),
            'wrk_cores': median([r['wrk_cores'] for r in runs])}


def main():
    global a
    ap = argparse.ArgumentParser()
    ap.add_argument('--jiansuo', required=True)
    ap.add_argument('--groonga', default='groonga')
    ap.add_argument('--wrk', default='wrk')
    ap.add_argument('--lua', default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  'bench_serve.lua'))
    ap.add_argument('--work', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--queries', type=int, default=200, help='per kind and script')
    ap.add_argument('--duration', type=int, default=10, help='seconds a wrk run')
    ap.add_argument('--connections', type=int, default=32)
    ap.add_argument('--wrk-threads', type=int, default=2)
    ap.add_argument('--threads', type=int, default=2, help="the servers' threads")
    ap.add_argument('--writer-rate', type=int, default=100, help='records a second')
    ap.add_argument('--writer-batch', type=int, default=100, help='records a request')
    ap.add_argument('--poetry', action='append', default=[], required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    t_start = time.monotonic()

    recs = []
    for p in a.poetry:
        with open(p, encoding='utf-8') as f:
            for line in f:
                r = json.loads(line)
                if str(r.get('text', '')).strip():
                    recs.append(r)
    log('chinese-poetry: %d records with text' % len(recs))

    ix = os.path.join(a.work, 'ix')
    log('jiansuo index')
    t_ix, st = build_jiansuo(ix)
    db = os.path.join(a.work, 'groonga', 'db')
    log('groonga: load and index %d records' % len(recs))
    t_gload, t_gindex, gsize = build_groonga(db, recs)

    mix = query_mix()
    jfile = os.path.join(a.work, 'paths-jiansuo.txt')
    gfile = os.path.join(a.work, 'paths-groonga.txt')
    nfile = os.path.join(a.work, 'paths-jiansuo-nosnippet.txt')
    jpaths = [jiansuo_path(q) for _, _, q in mix]
    gpaths = [groonga_path(q) for _, _, q in mix]
    npaths = [jiansuo_path(q, snippet=0) for _, _, q in mix]
    for fn, ps in ((jfile, jpaths), (gfile, gpaths), (nfile, npaths)):
        with open(fn, 'w', encoding='ascii') as f:
            f.write('\n'.join(ps) + '\n')
    entries.append({'measure': 'setup', 'records': len(recs), 'sections': st['sections'],
                    'jiansuo_index_seconds': round(t_ix, 2),
                    'jiansuo_index_bytes': st['file_bytes'],
                    'groonga_load_seconds': round(t_gload, 2),
                    'groonga_index_seconds': round(t_gindex, 2), 'groonga_db_bytes': gsize,
                    'queries': len(mix), 'kinds': bench_search.KINDS,
                    'threads': a.threads, 'connections': a.connections,
                    'wrk_threads': a.wrk_threads, 'duration_seconds': a.duration,
                    'writer_rate': a.writer_rate, 'writer_batch': a.writer_batch})

    token_file = os.path.join(a.work, 'token')
    with open(os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w') as f:
        f.write(secrets.token_hex(16) + '\n')
    js = gs = None
    res = {'jiansuo': [], 'groonga': [], 'jiansuo + writer': [],
           'jiansuo, no snippets': []}
    wres = []
    try:
        js = start_jiansuo(ix, token_file)
        gs = start_groonga(db)
        with open(token_file) as f:
            token = f.read().rstrip('\n')  # as the server left it
        servers = {'jiansuo': (js, jfile), 'groonga': (gs, gfile)}
        for nm, (s, fn) in servers.items():
            log('%s: warm-up, %d s' % (nm, WARMUP))
            wrk(s.port, fn, WARMUP, s.p.pid)
        # every query once, one at a time: the answers are checked, and
        # jiansuo's give the search's own time inside the server per kind
        micros = []
        checks = {'jiansuo': validate('jiansuo', js.port, jpaths, jiansuo_total, micros),
                  'groonga': validate('groonga', gs.port, gpaths, groonga_total)}
        kind_us = {}
        for (kd, _, _), us in zip(mix, micros):
            kind_us.setdefault(kd, []).append(us)
        for nm, c in checks.items():
            log('%s: every query once: %d of %d with hits, %d bytes an answer, %.1f s'
                % (nm, c['with_hits'], c['queries'], c['mean_bytes'], c['seconds']))
            entries.append(dict(measure='check', system=nm, **c))
        for r in range(a.runs):
            order = ['jiansuo', 'groonga'] if r % 2 == 0 else ['groonga', 'jiansuo']
            for nm in order:
                s, fn = servers[nm]
                log('%s: wrk %d s, run %d of %d' % (nm, a.duration, r + 1, a.runs))
                res[nm].append(wrk(s.port, fn, a.duration, s.p.pid))
                if not s.alive():
                    die('%s died: %s' % (nm, s.tail()))
        # where the time goes: the same queries without snippets, one run
        log('jiansuo without snippets (a diagnostic): wrk %d s, one run' % max(2, a.duration // 2))
        res['jiansuo, no snippets'].append(wrk(js.port, nfile, max(2, a.duration // 2), js.p.pid))
        nb = int(a.duration * a.writer_rate / a.writer_batch) + 10
        for r in range(a.runs):
            log('jiansuo + writer (%d records/s in requests of %d): wrk %d s, run %d of %d'
                % (a.writer_rate, a.writer_batch, a.duration, r + 1, a.runs))
            w = Writer(js.port, token, writer_batches(recs, r, nb))
            w.start()
            try:
                res['jiansuo + writer'].append(wrk(js.port, jfile, a.duration, js.p.pid))
            finally:
                w.stop_ev.set()
                w.join(HTTP_TIMEOUT + 5)
            wres.append(w)
            if not js.alive():
                die('jiansuo serve died: %s' % js.tail())
            if w.errors:
                log('writer errors: %s' % w.errors[:3])
        hst, body = get("http://127.0.0.1:%d/health" % js.port)
        health = json.loads(body) if hst == 200 else {"status": hst}
    finally:
        rc_j = js.stop() if js else None
        rc_g = gs.stop() if gs else None
    if rc_j != 0:
        die('jiansuo serve exited with status %s after SIGTERM: %s' % (rc_j, js.tail()))

    # ---------------------------------------------------------- report
    sm = {nm: summarize(v) for nm, v in res.items()}
    for nm, v in res.items():
        entries.append({'measure': 'wrk', 'system': nm, 'summary': sm[nm], 'runs': v})
    wl = sorted(x for w in wres for x in w.lat)
    werr = [e for w in wres for e in w.errors]
    wsum = {'requests': sum(w.sent for w in wres),
            'records': sum(w.records for w in wres),
            'seconds': a.duration * len(wres),
            'latency_ms': {'p50': round(bench_search.pct(wl, 50) * 1000, 1),
                           'p90': round(bench_search.pct(wl, 90) * 1000, 1),
                           'max': round(max(wl) * 1000, 1) if wl else None},
            'errors': len(werr), 'first_errors': werr[:5],
            'late': sum(w.behind for w in wres)}
    share = sm['jiansuo + writer']['rps'] / sm['jiansuo']['rps']
    # the same per core the server used: less sensitive to other work on
    # the machine taking cores away from one run and not another
    share_core = sm['jiansuo + writer']['rps_per_server_core'] / sm['jiansuo']['rps_per_server_core']
    r_rps = sm['jiansuo']['rps'] / sm['groonga']['rps']
    r_p99 = sm['jiansuo']['ms']['99'] / sm['groonga']['ms']['99']
    entries.append({'measure': 'writer', **wsum, 'rate': a.writer_rate, 'batch': a.writer_batch,
                    'search_share': round(share, 3), 'target_share': WRITER_TARGET,
                    'search_share_per_server_core': round(share_core, 3),
                    'health_after': health})
    entries.append({'measure': 'ratios', 'rps': round(r_rps, 3), 'p99': round(r_p99, 3)})
    entries.append({'measure': 'exit', 'jiansuo_serve_sigterm_status': rc_j,
                    'groonga_sigterm_status': rc_g,
                    'stage_seconds': round(time.monotonic() - t_start, 1)})

    j = sm['jiansuo']
    ok_rps = j['rps'] >= RPS_TARGET
    ok_p99 = j['ms']['99'] <= P99_TARGET_MS
    ok_w = share >= WRITER_TARGET
    ok_err = all(sm[nm]['status_errors'] == 0 and sm[nm]['socket_errors'] == 0
                 for nm in ('jiansuo', 'jiansuo + writer')) and not werr
    verdicts.append(('searches/s, %d connections' % a.connections, '%.0f' % j['rps'],
                     '>= %d' % RPS_TARGET, verdict(ok_rps)))
    verdicts.append(('p99 latency at that load', '%.2f ms' % j['ms']['99'],
                     '<= %.0f ms' % P99_TARGET_MS, verdict(ok_p99)))
    verdicts.append(('searches/s with %d records/s written / without' % a.writer_rate,
                     '%.0f / %.0f = %.0f%% (per server core: %.0f%%)'
                     % (sm['jiansuo + writer']['rps'], j['rps'], share * 100, share_core * 100),
                     '>= %d%%' % (WRITER_TARGET * 100), verdict(ok_w)))
    verdicts.append(('errors (status >= 400, socket errors, writer)',
                     '%d, %d, %d' % (j['status_errors'] + sm['jiansuo + writer']['status_errors'],
                                     j['socket_errors'] + sm['jiansuo + writer']['socket_errors'],
                                     len(werr)), 'none', verdict(ok_err)))

    print('### 1. Searches over HTTP: `jiansuo serve` and Groonga\'s HTTP server\n')
    print('chinese-poetry, %d sections (one a poem: title and text), indexed by `jiansuo index` '
          '(%.1f s) and by Groonga (load %.1f s, then the index offline %.1f s).  Each server '
          'with %d threads on 127.0.0.1; wrk with %d threads and %d keep-alive connections, '
          '%d s a run, cycling through %d queries (bench_search.py\'s mix: %s characters, '
          'two-part and sentence-like, in the corpus\'s script and in Simplified), top 10 '
          'with snippets.  Median of %d runs, the two servers interleaved.  wrk runs on the '
          'same %d cores: "cores" are the CPU each used (server, wrk), out of %d.\n'
          % (st['sections'], t_ix, t_gload, t_gindex, a.threads, a.wrk_threads,
             a.connections, a.duration, len(mix), ', '.join(bench_search.KINDS[:5]),
             a.runs, os.cpu_count(), os.cpu_count()))
    rows = []
    for nm in ('jiansuo', 'groonga', 'jiansuo + writer', 'jiansuo, no snippets'):
        x = sm[nm]
        rows.append([nm + (' (one run)' if x['runs'] == 1 and a.runs > 1 else ''), '%.0f' % x['rps'], '%.0f-%.0f' % (x['rps_min'], x['rps_max'])]
                    + ['%.2f' % x['ms'][p] for p in PCTS]
                    + ['%.1f' % x['max_ms'], x['bytes_per_request'], x['status_errors'],
                       x['socket_errors'], '%.2f / %.2f' % (x['server_cores'], x['wrk_cores']),
                       '%.0f' % x['rps_per_server_core']])
    table(['server', 'req/s', 'range', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'bytes/answer',
           'status >= 400', 'socket errors', 'cores (server / wrk)', 'req/s per server core'],
          rows)
    print('Every query once before the runs, to check the answers: jiansuo found something for '
          '%d of %d, Groonga for %d (it does not fold Traditional and Simplified, and gives '
          'no partial matches for the sentences).\n'
          % (checks['jiansuo']['with_hits'], len(mix), checks['groonga']['with_hits']))
    print('jiansuo / Groonga: **%.2f x** the requests/s, **%.2f x** the p99 latency.  '
          'The row "no snippets" (a diagnostic, after the others, half as long, not against '
          'the targets) asks the same queries with snippet=0: what the server does without '
          'making snippets.  "req/s per server core": requests/s over the cores the server '
          'used (its CPU time / the run\'s time), less sensitive to other work on the '
          'machine.\n' % (r_rps, r_p99))
    print('The search\'s own time inside `jiansuo serve` (the answer\'s "micros": '
          '`js_search` with the top 10\'s snippets, not the HTTP and JSON around it), '
          'per kind, one query at a time (a pass over the mix after a %d s warm-up, before '
          'the wrk runs), µs:\n' % WARMUP)
    krows = []
    for kd in bench_search.KINDS + ['all']:
        v = micros if kd == 'all' else kind_us.get(kd, [])
        if v:
            krows.append([kd, len(v), bench_search.pct(v, 50), bench_search.pct(v, 90),
                          bench_search.pct(v, 99), round(sum(v) / len(v))])
    table(['kind', 'queries', 'p50', 'p90', 'p99', 'mean'], krows)
    entries.append({'measure': 'search_micros', 'kinds': {
        r[0]: {'n': r[1], 'p50': r[2], 'p90': r[3], 'p99': r[4], 'mean': r[5]} for r in krows}})
    print('### 2. Searches while a writer adds %d records a second\n' % a.writer_rate)
    print('A thread POSTs %d new records (poems made of two of the corpus, new ids) to '
          '/documents every %.2f s while wrk runs (row "jiansuo + writer" above); each request '
          'answers once its records are committed.  %d runs after those above.\n'
          % (a.writer_batch, a.writer_batch / a.writer_rate, a.runs))
    table(['write requests', 'records', 'records/s', 'p50 ms', 'p90 ms', 'max ms', 'errors',
           'late', 'searches/s / without writer', 'the same per server core'],
          [[wsum['requests'], wsum['records'], '%.0f' % (wsum['records'] / wsum['seconds']),
            wsum['latency_ms']['p50'],
            wsum['latency_ms']['p90'], wsum['latency_ms']['max'], wsum['errors'], wsum['late'],
            '%.0f%%' % (share * 100), '%.0f%%' % (share_core * 100)]])
    print('### Against the targets\n')
    table(['measure', 'figure', 'target', ''], verdicts)
    print('`jiansuo serve` exited with status %s on SIGTERM.  Stage: %.0f s.\n'
          % (rc_j, time.monotonic() - t_start))
    with open(a.out, 'w') as f:
        for e in entries:
            f.write(json.dumps(e, ensure_ascii=False, separators=(',', ':')) + '\n')


if __name__ == '__main__':
    sys.exit(main())
