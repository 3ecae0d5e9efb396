#!/usr/bin/env python3
"""bench_compare.py — jiansuo against outside references on the same corpus.

In:  corpora as NAME=LIST (LIST: a file naming the corpus's files, one a
     line, as `jiansuo index` and `jiansuo sections` read them), the jiansuo
     binary and tests/bench/xapian_ngram, both from the optimised _bench/.
Out: in --out: compare.md (Markdown tables), compare.json (every figure),
     build.png, size.png, latency.png and latency_kind.png (gnuplot), the
     query set (queries.tsv); progress on stderr.

The four systems index the same units: the sections `jiansuo sections
--json` cuts the corpus into.  jiansuo (native and Xapian backend) indexes
the corpus files itself; the references get those sections as
KEY<TAB>TITLE<TAB>BODY lines (the title with the heading path; cutting them
out is timed apart as "export"):
  - xapian-ngram: Xapian's TermGenerator / QueryParser with FLAG_CJK_NGRAM
    (tests/bench/xapian_ngram.cc), AND between parts;
  - fts5-trigram: SQLite FTS5 with tokenize='trigram', each part of a query
    a quoted string, parts ANDed, top 10 by bm25().  Trigrams cannot match a
    part of fewer than 3 characters: such queries find nothing (SQLite
    returns no rows), and that is what is reported.
Queries are scripts/bench_search.py's (fixed seed; 1, 2, 3, 4, 6
characters, two parts, sentence-like), drawn evenly from each corpus's
sections; a query OpenCC t2s changes is "Traditional" and is asked again
converted ("Trad.→Simp."), one it leaves alone is "Simplified".  Quality
as bench_search.py measures it: success@10 and MRR@10 (the section drawn
from in the top 10), precision@10 (the share of strict top-10 hits whose
title and text, folded to Simplified, hold every part of the query;
jiansuo's partial hits are not counted, the references have none).
Latency: in-process microseconds per query, median of --runs runs, one
process per run; queries/s by wall clock, start-up included.

Usage: bench_compare.py run --jiansuo BIN --xapian-ngram BIN --work DIR
                            --out DIR [--queries N] [--runs R]
                            [--build-runs B] [--build-budget S] NAME=LIST...
       bench_compare.py fts5-build DB SECTIONS.tsv
       bench_compare.py fts5-search DB QUERIES
"""
import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_search  # noqa: E402  (draw, to_simplified, pct, KINDS)

SYSTEMS = ['native', 'xapian', 'xapian-ngram', 'fts5-trigram']
LABEL = {'native': 'jiansuo native', 'xapian': 'jiansuo Xapian backend',
         'xapian-ngram': 'Xapian CJK n-gram', 'fts5-trigram': 'SQLite FTS5 trigram'}
SCRIPTS = ['traditional', 'to-simplified', 'simplified']
SCRIPT_LABEL = {'traditional': 'Traditional', 'to-simplified': 'Trad.→Simp.',
                'simplified': 'Simplified'}
KIND_LABEL = {'1': '1 char', '2': '2 chars', '3': '3 chars', '4': '4 chars',
              '6': '6 chars', 'two': 'two parts', 'sentence': 'sentence'}


def log(msg):
    print('bench_compare: ' + msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------ FTS5 helpers

def fts5_build(db, tsv):
    if os.path.exists(db):
        os.remove(db)
    c = sqlite3.connect(db)
    c.execute('PRAGMA synchronous=OFF')
    c.execute("CREATE VIRTUAL TABLE s USING fts5(key UNINDEXED, title, body, "
              "tokenize='trigram')")

    def rows():
        with open(tsv, encoding='utf-8') as f:
            for line in f:
                yield line.rstrip('\n').split('\t', 2)
    with c:
        c.executemany('INSERT INTO s(key, title, body) VALUES (?, ?, ?)', rows())
    with c:  # merge the segments, as a deployed index would be
        c.execute("INSERT INTO s(s) VALUES ('optimize')")
    c.close()


def fts5_query(q):
    """Each part a quoted string (no FTS5 syntax), parts ANDed."""
    return ' AND '.join('"%s"' % p.replace('"', '""') for p in q.split())


def fts5_search(db, qfile):
    c = sqlite3.connect('file:%s?mode=ro' % db, uri=True)
    sql = 'SELECT key FROM s WHERE s MATCH ? ORDER BY bm25(s) LIMIT 10'
    out = sys.stdout
    with open(qfile, encoding='utf-8') as f:
        for line in f:
            q = line.rstrip('\n')
            t0 = time.perf_counter()
            try:
                keys = [k for (k,) in c.execute(sql, (fts5_query(q),))] if q.split() else []
            except sqlite3.Error:
                keys = []
            us = (time.perf_counter() - t0) * 1e6
            out.write('%.0f\t%s\n' % (us, ' '.join(keys)))


# ------------------------------------------------------------ export

def export(jiansuo, corpora, work):
    """Runs `jiansuo sections --json` over each corpus; writes
    work/sections.tsv; returns the sections as a list of dicts and the
    seconds it took."""
    secs = []
    tsv = os.path.join(work, 'sections.tsv')
    t0 = time.monotonic()
    with open(tsv, 'w', encoding='utf-8') as out:
        for name, files in corpora:
            p = subprocess.Popen([jiansuo, 'sections', '--json'] + files,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True, encoding='utf-8')
            for line in p.stdout:
                o = json.loads(line)
                title = ' '.join([o.get('title') or ''] + list(o.get('path') or []))
                body = o.get('body') or ''
                key = len(secs)
                secs.append({'corpus': name, 'title': title, 'body': body,
                             'id': (o['source'], o.get('id'), o['ordinal'])})
                out.write('%d\t%s\t%s\n' % (key, ' '.join(title.split()),
                                            body.replace('\t', ' ').replace('\n', ' ')))
            p.wait()
    return secs, tsv, time.monotonic() - t0


# ------------------------------------------------------------ builds

def timed(cmd, logf):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS in kB)."""
    tf = logf + '.time'
    with open(logf, 'w') as lf:
        rc = subprocess.call(['/usr/bin/time', '-o', tf, '-f', '%e %M'] + cmd,
                             stdout=lf, stderr=lf)
    with open(tf) as f:
        e, m = f.read().split()[-2:]
    return rc, float(e), int(m)


def dir_bytes(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f))
               for d, _, fs in os.walk(path) for f in fs)


def build_all(a, corpora, tsv, work):
    files = [f for _, fs in corpora for f in fs]
    cmds = {
        'native': lambda d: [a.jiansuo, 'index', '-d', d] + files,
        'xapian': lambda d: [a.jiansuo, 'index', '-d', d, '--backend', 'xapian'] + files,
        'xapian-ngram': lambda d: [a.xapian_ngram, 'build', d, tsv],
        'fts5-trigram': lambda d: [sys.executable, os.path.abspath(__file__),
                                   'fts5-build', d, tsv],
    }
    res = {}
    for s in SYSTEMS:
        d = os.path.join(work, s + ('.db' if s == 'fts5-trigram' else ''))
        times, rss, spent = [], 0, 0.0
        # repeat while another build fits in the budget
        while len(times) < a.build_runs and (not times or spent + times[-1] <= a.build_budget):
            if os.path.isdir(d):
                shutil.rmtree(d)
            log('building %s (%d)' % (s, len(times) + 1))
            rc, secs, kb = timed(cmds[s](d), os.path.join(work, s + '.log'))
            # jiansuo index: status 1 with an index published reports the
            # records without text the poetry has; the others must succeed
            with open(os.path.join(work, s + '.log'), errors='replace') as f:
                text = f.read()
            if rc != 0 and not (s in ('native', 'xapian') and rc == 1 and
                                'indexed' in text):
                sys.exit('bench_compare: building %s failed:\n%s' % (s, text[-2000:]))
            times.append(secs)
            rss = max(rss, kb)
            spent += secs
        res[s] = {'dir': d, 'seconds': sorted(times)[len(times) // 2],
                  'builds': len(times), 'all_seconds': times,
                  'peak_rss_kb': rss, 'index_bytes': dir_bytes(d)}
    return res


# ------------------------------------------------------------ queries

def make_queries(secs, names, n, seed):
    rng = random.Random(seed)
    drawn = []  # (kind, query, key, corpus)
    per = {name: n // len(names) + (1 if i < n % len(names) else 0)
           for i, name in enumerate(names)}
    for name in names:
        recs = [(k, s['body'], s['title']) for k, s in enumerate(secs)
                if s['corpus'] == name]
        recs = [r for r in recs if any(len(m) >= 7 for m in bench_search.CJK.findall(r[1]))]
        if not recs or not per[name]:
            log('%s: no section with a run of 7 CJK characters: no queries' % name)
            continue
        drawn += [(kind, q, key, name) for kind, q, key in bench_search.draw(recs, per[name], rng)]
    simp = bench_search.to_simplified([q for _, q, _, _ in drawn])
    allq = []
    for (kind, q, key, name), s in zip(drawn, simp):
        if s != q:
            allq.append({'kind': kind, 'q': q, 'key': key, 'corpus': name, 'script': 'traditional'})
            allq.append({'kind': kind, 'q': s, 'key': key, 'corpus': name, 'script': 'to-simplified'})
        else:
            allq.append({'kind': kind, 'q': q, 'key': key, 'corpus': name, 'script': 'simplified'})
    return allq


def run_system(a, s, index, qfile, nq, keyof, work):
    """Runs the query file --runs times; returns per-query median micros,
    the hits of the first run [(key, partial)], the median wall seconds and
    the peak RSS of the search processes."""
    if s in ('native', 'xapian'):
        cmd = [a.jiansuo, 'search', '-d', index, '--queries', qfile, '--json',
               '--no-snippet', '-n', '10'] + (['--backend', 'xapian'] if s == 'xapian' else [])
    elif s == 'xapian-ngram':
        cmd = [a.xapian_ngram, 'search', index, qfile]
    else:
        cmd = [sys.executable, os.path.abspath(__file__), 'fts5-search', index, qfile]
    micros = [[] for _ in range(nq)]
    hits = [[] for _ in range(nq)]
    walls, rss = [], 0
    out = os.path.join(work, 'out.' + s)
    tf = out + '.time'
    for run in range(a.runs):
        log('querying %s (run %d of %d)' % (s, run + 1, a.runs))
        t0 = time.monotonic()
        with open(out, 'w') as f:
            subprocess.call(['/usr/bin/time', '-o', tf, '-f', '%M'] + cmd,
                            stdout=f, stderr=subprocess.DEVNULL)
        walls.append(time.monotonic() - t0)
        with open(tf) as f:
            rss = max(rss, int(f.read().split()[-1]))
        with open(out, encoding='utf-8') as f:
            if s in ('native', 'xapian'):
                for line in f:
                    o = json.loads(line)
                    i = o.get('line', 0) - 1
                    if not 0 <= i < nq:
                        continue
                    if o['type'] == 'query':
                        micros[i].append(o['micros'])
                    elif o['type'] == 'hit' and run == 0:
                        k = keyof.get((o.get('source'), o.get('id'), o.get('ordinal')), -1)
                        hits[i].append((k, o['partial']))
            else:
                for i, line in enumerate(f):
                    if i >= nq:
                        break
                    us, _, keys = line.rstrip('\n').partition('\t')
                    micros[i].append(float(us))
                    if run == 0:
                        hits[i] = [(int(k), False) for k in keys.split()]
    med = [sorted(m)[len(m) // 2] if m else None for m in micros]
    return med, hits, sorted(walls)[len(walls) // 2], rss


def ref_text(s):
    return s['title'] + ' ' + s['body']


def score(allq, per, folded, fq, pick):
    """Quality and latency over the queries i with pick(i)."""
    us, succ, rr, prec, n, answered = [], 0, 0.0, [], 0, 0
    med, hits = per['micros'], per['hits']
    for i, q in enumerate(allq):
        if not pick(i):
            continue
        n += 1
        if med[i] is not None:
            us.append(med[i])
        ids = [k for k, _ in hits[i]]
        if ids:
            answered += 1
        if q['key'] in ids:
            succ += 1
            rr += 1.0 / (ids.index(q['key']) + 1)
        strict = [k for k, partial in hits[i] if not partial]
        if q['kind'] != 'sentence' and strict:
            parts = fq[i].split()
            ok = sum(1 for k in strict if all(p in folded.get(k, '') for p in parts))
            prec.append(ok / len(strict))
    if not n:
        return None
    return {'n': n, 'p50': bench_search.pct(us, 50), 'p95': bench_search.pct(us, 95),
            'p99': bench_search.pct(us, 99), 'success10': succ / n, 'mrr10': rr / n,
            'precision10': sum(prec) / len(prec) if prec else None,
            'answered': answered / n}


# ------------------------------------------------------------ report

def fnum(x, nd=0):
    if x is None:
        return '—'
    return format(x, ',.%df' % nd)


def fq3(x):
    return '—' if x is None else '%.2f' % x


def cellfmt(v, m, f):
    """A table cell: measure m of row v; latency of a row where nothing
    was found is marked ∅."""
    if m in ('p50', 'p95', 'p99') and v['answered'] == 0:
        return fnum(v[m]) + ' ∅'
    return f(v[m])


def write_md(path, r):
    L = []
    w = L.append
    c = r['corpus']
    w('Corpus: %s — %s sections, %.1f MB of section text (UTF-8 bodies; '
      'MB = 10^6 bytes), %.1f MB of source files.' % (
          ', '.join('%s (%s files, %s sections, %.1f MB)' % (
              x['name'], fnum(x['files']), fnum(x['sections']), x['text_bytes'] / 1e6)
              for x in c['parts']),
          fnum(c['sections']), c['text_bytes'] / 1e6, c['source_bytes'] / 1e6))
    w('Queries: %s (%d per kind drawn, seed %d; Traditional ones asked in both scripts); '
      'latency: median of %d runs per query, in-process.' % (
          fnum(r['queries']), r['drawn_per_kind'], r['seed'], r['runs']))
    w('')
    w('### Summary')
    w('')
    w('| system | build s | MB/s | build peak RSS MB | index MB | bytes / text byte '
      '| p50 µs | p95 µs | p99 µs | QPS | with hits | success@10 | MRR@10 | precision@10 |')
    w('| --- | ' + ' | '.join(['---:'] * 13) + ' |')
    for s in SYSTEMS:
        b, a = r['build'][s], r['systems'][s]['all']
        w('| %s | %s%s | %s | %s | %s | %.2f | %s | %s | %s | %s | %.2f | %.3f | %.3f | %s |' % (
            LABEL[s], fnum(b['seconds'], 1),
            '' if b['builds'] == 1 else ' (%d)' % b['builds'],
            fnum(c['text_bytes'] / 1e6 / b['seconds'], 2) if b['seconds'] else '—',
            fnum(b['peak_rss_kb'] / 1024.0), fnum(b['index_bytes'] / 1e6, 1),
            b['index_bytes'] / c['text_bytes'], fnum(a['p50']), fnum(a['p95']),
            fnum(a['p99']), fnum(r['systems'][s]['qps']), a['answered'], a['success10'], a['mrr10'],
            fq3(a['precision10'])))
    w('')
    w('Build: seconds of the build (the median, and in brackets the number of builds '
      'if more than one: a system is built again while one more build fits in %d s); '
      'MB/s of section text.  jiansuo reads the '
      'corpus files (JSON Lines, gzip man pages, HTML) and cuts them itself; the '
      'references read the sections already cut, which took %.1f s (`jiansuo sections '
      '--json`, not counted in their build).  jiansuo builds with its defaults '
      '(native: an ingest thread and two workers, 512 MiB; Xapian backend: one '
      'shard); the references in one thread.  Every index keeps the section text '
      '(jiansuo its store, Xapian n-gram the document data, FTS5 its content table).  '
      'Search processes peaked at %s MB RSS.' % (
          r['build_budget'], r['export_seconds'],
          ', '.join('%s %s' % (LABEL[s], fnum(r['systems'][s]['search_rss_kb'] / 1024.0))
                    for s in SYSTEMS)))
    w('')
    w('Queries: p50 / p95 / p99 over every query, QPS by wall clock (one process '
      'per run, start-up included); "with hits": the share of queries that found '
      'anything.  FTS5 trigram cannot match a part shorter than 3 characters '
      '(1- and 2-character queries, and two-part queries, whose parts are 2): '
      'it returns no rows at once, which is counted as it is — no hit, and the '
      'time it took (marked ∅ below) — not replaced by a LIKE scan.  Xapian '
      'n-gram and FTS5 do not fold Traditional and Simplified: the Trad.→Simp. '
      'rows show what that costs.  Sentence-like queries (a clause and 是哪首诗) '
      'are in no section whole: jiansuo answers them with partial matches, '
      'the references, which need every n-gram or the whole string, mostly '
      'find nothing.')
    w('')
    w('### Each system against jiansuo native (its figure ÷ native\'s; above 1: native is faster or smaller)')
    w('')
    w('| measure | ' + ' | '.join(LABEL[s] for s in SYSTEMS[1:]) + ' |')
    w('| --- | ' + ' | '.join(['---:'] * (len(SYSTEMS) - 1)) + ' |')

    def ratio(x, y):
        return '%.2f' % (x / y) if x and y else '—'
    for name, get in (('build seconds', lambda s: r['build'][s]['seconds']),
                      ('build peak RSS', lambda s: r['build'][s]['peak_rss_kb']),
                      ('index bytes', lambda s: r['build'][s]['index_bytes']),
                      ('query p50', lambda s: r['systems'][s]['all']['p50']),
                      ('query p95', lambda s: r['systems'][s]['all']['p95']),
                      ('query p99', lambda s: r['systems'][s]['all']['p99']),
                      ('queries/s (native\'s ÷ its)', lambda s: 1.0 / r['systems'][s]['qps'])):
        w('| %s | %s |' % (name, ' | '.join(ratio(get(s), get('native')) for s in SYSTEMS[1:])))
    w('')
    measures = [('p50', 'Latency p50, µs', fnum), ('p95', 'Latency p95, µs', fnum),
                ('p99', 'Latency p99, µs', fnum),
                ('success10', 'success@10 (the section the query was drawn from is in the top 10)', fq3),
                ('mrr10', 'MRR@10', fq3),
                ('precision10', 'precision@10 (strict top-10 hits that hold every part of '
                 'the query; — where no query had a hit, and for sentences, which no '
                 'section holds whole)', fq3),
                ('answered', 'Queries with at least one hit', fq3)]
    for m, title, f in measures:
        w('### %s' % title)
        w('')
        w('| query | script | n | ' + ' | '.join(LABEL[s] for s in SYSTEMS) + ' |')
        w('| --- | --- | ---: | ' + ' | '.join(['---:'] * len(SYSTEMS)) + ' |')
        for row in r['rows']:
            w('| %s | %s | %d | %s |' % (
                KIND_LABEL.get(row['kind'], row['kind']),
                SCRIPT_LABEL.get(row['script'], row['script']), row['n'],
                ' | '.join(cellfmt(r['systems'][s]['rows'][row['id']], m, f) for s in SYSTEMS)))
        w('')
    w('### By corpus (all queries drawn from it)')
    w('')
    w('| corpus | n | ' + ' | '.join('%s p50 µs / success@10' % LABEL[s] for s in SYSTEMS) + ' |')
    w('| --- | ---: | ' + ' | '.join(['---:'] * len(SYSTEMS)) + ' |')
    for x in c['parts']:
        cell = [r['systems'][s]['corpus'].get(x['name']) for s in SYSTEMS]
        if not cell[0]:
            continue
        w('| %s | %d | %s |' % (x['name'], cell[0]['n'], ' | '.join(
            '%s / %.2f' % (fnum(v['p50']), v['success10']) for v in cell)))
    w('')
    w('Charts: ![build throughput](build.png) ![index size](size.png) '
      '![latency distribution](latency.png) ![p50 by query](latency_kind.png)')
    with open(path, 'w', encoding='utf-8') as f:
        f.write('\n'.join(L) + '\n')


def charts(out, r):
    if not shutil.which('gnuplot'):
        log('gnuplot not found: no charts (apt-get install gnuplot-nox)')
        return
    dat = os.path.join(out, 'chart')
    os.makedirs(dat, exist_ok=True)
    tb = r['corpus']['text_bytes']
    with open(os.path.join(dat, 'systems.dat'), 'w') as f:
        for s in SYSTEMS:
            b = r['build'][s]
            f.write('"%s" %.3f %.3f %.1f\n' % (LABEL[s], tb / 1e6 / b['seconds'],
                                               b['index_bytes'] / tb, b['index_bytes'] / 1e6))
    for s in SYSTEMS:
        us = sorted(u for u in r['systems'][s]['micros'] if u is not None)
        with open(os.path.join(dat, 'cdf.%s.dat' % s), 'w') as f:
            for i, u in enumerate(us):
                f.write('%g %g\n' % (max(u, 1), (i + 1) / len(us)))
    with open(os.path.join(dat, 'kind.dat'), 'w') as f:
        for k in bench_search.KINDS:
            vals = []
            for s in SYSTEMS:
                v = r['systems'][s]['kind'].get(k)
                # no bar where the system found nothing: its time is not
                # that of answering
                vals.append('%g' % max(v['p50'], 1) if v and v['answered'] else '?')
            f.write('"%s" %s\n' % (KIND_LABEL[k], ' '.join(vals)))
    machine = r.get('machine', '')
    colors = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a']
    gp = ['set terminal pngcairo size 900,520 font "Sans,11"',
          'set datafile separator whitespace',
          'set style fill solid 0.85 border -1',
          'set grid ytics lc rgb "#dddddd"',
          'set key off',
          'set boxwidth 0.6',
          'set xtics nomirror',
          'set ytics nomirror',
          # build throughput
          'set output "%s"' % os.path.join(out, 'build.png'),
          'set title "Build throughput, MB of section text per second (higher is better)\\n{/*0.8 %s}"' % machine,
          'set logscale y', 'set yrange [0.1:*]', 'set ylabel "MB/s (log scale)"',
          'plot "%s/systems.dat" using 0:2:(0.6):($0+1):xtic(1) with boxes lc variable, '
          '"" using 0:2:(sprintf("%%.2f", $2)) with labels offset 0,0.8' % dat,
          'unset logscale y',
          # index size
          'set output "%s"' % os.path.join(out, 'size.png'),
          'set title "Index size, bytes per byte of section text (lower is better)\\n{/*0.8 %s}"' % machine,
          'set yrange [0:*]', 'set ylabel "bytes / text byte"',
          'plot "%s/systems.dat" using 0:3:(0.6):($0+1):xtic(1) with boxes lc variable, '
          '"" using 0:3:(sprintf("%%.2f (%%.0f MB)", $3, $4)) with labels offset 0,0.8' % dat,
          # latency CDF
          'set output "%s"' % os.path.join(out, 'latency.png'),
          'set title "Query latency, all queries: share answered within x (up and left is better)\\n'
          '{/*0.8 %s; FTS5\'s step near 10 µs: the queries it cannot match, returning nothing}"' % machine,
          'set logscale x', 'set xrange [*:*]', 'set yrange [0:1]', 'set key bottom right',
          'set xtics ("1 µs" 1, "10 µs" 10, "100 µs" 100, "1 ms" 1000, "10 ms" 10000, '
          '"100 ms" 100000, "1 s" 1000000)',
          'set xlabel "microseconds per query, in-process, top 10 (log scale)"',
          'set ylabel "share of queries"', 'set grid xtics ytics lc rgb "#dddddd"',
          'plot ' + ', '.join('"%s/cdf.%s.dat" using 1:2 with lines lw 2.5 lc rgb "%s" title "%s"'
                              % (dat, s, colors[i], LABEL[s]) for i, s in enumerate(SYSTEMS)),
          'unset logscale x', 'unset xlabel', 'set xrange [*:*]', 'set xtics auto',
          # p50 by kind
          'set output "%s"' % os.path.join(out, 'latency_kind.png'),
          'set title "Median latency by query kind, µs (log scale; lower is better)\\n'
          '{/*0.8 %s; no bar: the system found nothing for any such query}"' % machine,
          'set style data histogram', 'set style histogram clustered gap 1',
          'set logscale y', 'set yrange [1:*]', 'set ylabel "µs"', 'set key top left',
          'set boxwidth 0.9',
          'plot ' + ', '.join('"%s/kind.dat" using %d:xtic(1) lc rgb "%s" title "%s"'
                              % (dat, i + 2, colors[i], LABEL[s]) for i, s in enumerate(SYSTEMS))]
    # the bar charts colour each system as the lines do
    gp.insert(1, '; '.join('set linetype %d lc rgb "%s"' % (i + 1, c) for i, c in enumerate(colors)))
    script = os.path.join(dat, 'charts.gp')
    with open(script, 'w') as f:
        f.write('\n'.join(gp) + '\n')
    p = subprocess.run(['gnuplot', script], capture_output=True, text=True)
    if p.returncode:
        log('gnuplot failed: ' + p.stderr[-1000:])


def run(a):
    t_start = time.monotonic()
    corpora = []
    for spec in a.corpus:
        name, _, lst = spec.partition('=')
        with open(lst) as f:
            files = [x for x in f.read().split('\n') if x]
        corpora.append((name, files))
    os.makedirs(a.work, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    log('cutting the corpus into sections (jiansuo sections --json)')
    secs, tsv, export_secs = export(a.jiansuo, corpora, a.work)
    keyof = {s['id']: k for k, s in enumerate(secs)}
    if len(keyof) != len(secs):
        log('warning: %d sections share a (source, id, ordinal)' % (len(secs) - len(keyof)))
    parts = []
    for name, files in corpora:
        mine = [s for s in secs if s['corpus'] == name]
        parts.append({'name': name, 'files': len(files), 'sections': len(mine),
                      'text_bytes': sum(len(s['body'].encode()) for s in mine),
                      'source_bytes': sum(os.path.getsize(x) for x in files)})
    corpus = {'parts': parts, 'sections': len(secs),
              'text_bytes': sum(p['text_bytes'] for p in parts),
              'source_bytes': sum(p['source_bytes'] for p in parts)}

    allq = make_queries(secs, [n for n, _ in corpora], a.queries, a.seed)
    qfile = os.path.join(a.out, 'queries.txt')
    with open(qfile, 'w', encoding='utf-8') as f:
        for q in allq:
            f.write(q['q'] + '\n')
    with open(os.path.join(a.out, 'queries.tsv'), 'w', encoding='utf-8') as f:
        for q in allq:
            f.write('%s\t%s\t%s\t%d\t%s\n' % (q['kind'], q['script'], q['corpus'], q['key'], q['q']))

    build = build_all(a, corpora, tsv, a.work)
    per = {}
    for s in SYSTEMS:
        med, hits, wall, rss = run_system(a, s, build[s]['dir'], qfile, len(allq), keyof, a.work)
        per[s] = {'micros': med, 'hits': hits, 'wall': wall, 'rss': rss}
        misses = sum(1 for hs in hits for k, _ in hs if k < 0)
        if misses:
            log('warning: %s: %d hits not among the exported sections' % (s, misses))
    for s in ('native', 'xapian'):  # both index what `jiansuo sections` cuts
        st = subprocess.run([a.jiansuo, 'stats', '--json', '-d', build[s]['dir']] +
                            (['--backend', 'xapian'] if s == 'xapian' else []),
                            capture_output=True, text=True)
        try:
            n = json.loads(st.stdout).get('sections')
        except ValueError:
            n = None
        if n is not None and n != len(secs):
            log('warning: %s indexed %s sections, jiansuo sections cut %d' % (s, n, len(secs)))

    log('folding hit texts to Simplified for precision@10')
    need = sorted({k for s in SYSTEMS for hs in per[s]['hits'] for k, _ in hs if k >= 0})
    folded = dict(zip(need, bench_search.to_simplified(
        [ref_text(secs[k]).replace('\n', ' ') for k in need])))
    fq = bench_search.to_simplified([q['q'] for q in allq])

    rows = []
    for kind in bench_search.KINDS:
        for script in SCRIPTS:
            if any(q['kind'] == kind and q['script'] == script for q in allq):
                rows.append({'id': '%s/%s' % (kind, script), 'kind': kind, 'script': script})
    systems = {}
    for s in SYSTEMS:
        d = per[s]
        sysr = {'qps': len(allq) / d['wall'] if d['wall'] else 0, 'wall_seconds': d['wall'],
                'search_rss_kb': d['rss'], 'micros': d['micros'], 'rows': {}, 'kind': {},
                'corpus': {}}
        sysr['all'] = score(allq, d, folded, fq, lambda i: True)
        for row in rows:
            sysr['rows'][row['id']] = score(
                allq, d, folded, fq,
                lambda i, row=row: allq[i]['kind'] == row['kind'] and allq[i]['script'] == row['script'])
        for k in bench_search.KINDS:
            sysr['kind'][k] = score(allq, d, folded, fq, lambda i, k=k: allq[i]['kind'] == k)
        for name, _ in corpora:
            sysr['corpus'][name] = score(allq, d, folded, fq,
                                         lambda i, name=name: allq[i]['corpus'] == name)
        systems[s] = sysr
    for row in rows:
        row['n'] = systems['native']['rows'][row['id']]['n']
    r = {'corpus': corpus, 'queries': len(allq), 'drawn_per_kind': a.queries, 'seed': a.seed,
         'runs': a.runs, 'build_budget': a.build_budget, 'export_seconds': export_secs,
         'build': {s: {k: v for k, v in b.items() if k != 'dir'} for s, b in build.items()},
         'rows': rows, 'systems': systems, 'machine': a.machine,
         'seconds': time.monotonic() - t_start}
    write_md(os.path.join(a.out, 'compare.md'), r)
    charts(a.out, r)
    with open(os.path.join(a.out, 'compare.json'), 'w') as f:
        json.dump(r, f, indent=1, ensure_ascii=False)
    log('wrote %s/compare.md, compare.json and charts' % a.out)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == 'fts5-build':
        return fts5_build(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == 'fts5-search':
        return fts5_search(sys.argv[2], sys.argv[3])
    ap = argparse.ArgumentParser()
    ap.add_argument('command', choices=['run'])
    ap.add_argument('--jiansuo', required=True)
    ap.add_argument('--xapian-ngram', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--queries', type=int, default=150, help='drawn per kind, over all corpora')
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--build-runs', type=int, default=3)
    ap.add_argument('--build-budget', type=int, default=60,
                    help='no further build of a system once its builds took this many seconds')
    ap.add_argument('--seed', type=int, default=20261124)
    ap.add_argument('--machine', default='')
    ap.add_argument('corpus', nargs='+', metavar='NAME=LIST')
    run(ap.parse_args())


if __name__ == '__main__':
    sys.exit(main())
