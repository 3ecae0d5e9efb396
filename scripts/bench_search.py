#!/usr/bin/env python3
"""bench_search.py — query latency and quality of `jiansuo search` on a corpus.

In:  JSON Lines corpus files (records with "id", "title", "text"), an index
     built from them, the jiansuo binary.
Out: a query set drawn from the corpus with a fixed seed (substrings of 1,
     2, 3, 4 and 6 characters, two-part queries, sentence-like queries; each
     in the corpus's script and converted to Simplified with OpenCC), run
     with `jiansuo search --queries` in one process; then per query type and
     script: p50 / p95 / p99 latency in microseconds (as measured inside the
     process), queries per second (wall clock), success@10 and MRR@10 (is
     the record the query was drawn from in the top 10) and precision@10
     (do the strict hits among the top 10 really contain the query in the
     title or text, after folding; partial hits are marked as such and
     not counted).  Latency twice: in fresh processes (the first queries
     of a process, which also check the index blocks they read for the
     first time), and after a warm-up of as many other queries drawn with
     the next seed (what a running search service sees).  Prints Markdown
     tables and writes the raw figures as JSON.

Usage: bench_search.py --jiansuo BIN --index DIR --out DIR [--queries N]
                       [--seed S] CORPUS.jsonl...
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import time

CJK = re.compile(r'[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]+')
KINDS = ['1', '2', '3', '4', '6', 'two', 'sentence']


def load(paths):
    recs = []
    for p in paths:
        with open(p, encoding='utf-8') as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if isinstance(r, dict) and isinstance(r.get('text'), str):
                    recs.append((str(r.get('id', '')), r.get('text', ''),
                                 str(r.get('title', ''))))
    return recs


def draw(recs, n, rng):
    """n queries of each kind: (kind, query, source id)."""
    out = []
    for kind in KINDS:
        got = 0
        while got < n:
            rid, text, _ = recs[rng.randrange(len(recs))]
            runs = [m for m in CJK.findall(text) if len(m) >= 7]
            if not runs:
                continue
            run = rng.choice(runs)
            if kind == 'two':
                a = rng.randrange(len(run) - 1)
                b = rng.randrange(len(run) - 1)
                if abs(a - b) < 3:
                    continue
                q = run[a:a + 2] + ' ' + run[b:b + 2]
            elif kind == 'sentence':
                # a clause as a person might paste it, asked as a question
                q = run[:12] + '是哪首诗'
            else:
                k = int(kind)
                a = rng.randrange(len(run) - k + 1)
                q = run[a:a + k]
            out.append((kind, q, rid))
            got += 1
    return out


def to_simplified(lines):
    p = subprocess.run(['opencc', '-c', 't2s.json'], input='\n'.join(lines) + '\n',
                       capture_output=True, text=True, check=True)
    return p.stdout.rstrip('\n').split('\n')


def pct(v, p):
    if not v:
        return 0
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--jiansuo', required=True)
    ap.add_argument('--index', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--queries', type=int, default=200, help='per kind and script')
    ap.add_argument('--seed', type=int, default=20261124)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('corpus', nargs='+')
    a = ap.parse_args()
    rng = random.Random(a.seed)
    recs = load(a.corpus)
    texts = {rid: title + ' ' + text for rid, text, title in recs}
    qs = draw(recs, a.queries, rng)
    hans = to_simplified([q for _, q, _ in qs])
    allq = [(k, q, rid, 'source') for (k, q, rid) in qs] + \
           [(k, h, rid, 'simplified') for (k, _, rid), h in zip(qs, hans)]
    os.makedirs(a.out, exist_ok=True)
    qfile = os.path.join(a.out, 'queries.txt')
    with open(qfile, 'w', encoding='utf-8') as f:
        for _, q, _, _ in allq:
            f.write(q + '\n')

    # the same runs after a warm-up: each process first answers another
    # query set of the same kinds (drawn with another seed, not timed), as
    # a search service would have before these queries came
    wq = draw(recs, a.queries, random.Random(a.seed + 1))
    whans = to_simplified([q for _, q, _ in wq])
    warm = [q for _, q, _ in wq] + whans
    wfile = os.path.join(a.out, 'queries-warm.txt')
    with open(wfile, 'w', encoding='utf-8') as f:
        for q in warm + [q for _, q, _, _ in allq]:
            f.write(q + '\n')
    wmicros = [[] for _ in allq]
    for run in range(a.runs):
        p = subprocess.run([a.jiansuo, 'search', '-d', a.index, '--queries', wfile,
                            '--json', '--no-snippet', '-n', '10'],
                           capture_output=True, text=True)
        for line in p.stdout.splitlines():
            o = json.loads(line)
            i = o.get('line', 0) - 1 - len(warm)
            if o['type'] == 'query' and 0 <= i < len(allq):
                wmicros[i].append(o['micros'])

    # several runs; per query keep the median of its in-process times
    micros = [[] for _ in allq]
    hits = [[] for _ in allq]
    walls = []
    for run in range(a.runs):
        t0 = time.monotonic()
        p = subprocess.run([a.jiansuo, 'search', '-d', a.index, '--queries', qfile,
                            '--json', '--no-snippet', '-n', '10'],
                           capture_output=True, text=True)
        walls.append(time.monotonic() - t0)
        for line in p.stdout.splitlines():
            o = json.loads(line)
            i = o.get('line', 0) - 1
            if not 0 <= i < len(allq):
                continue
            if o['type'] == 'query':
                micros[i].append(o['micros'])
            elif o['type'] == 'hit' and run == 0:
                hits[i].append((o.get('id', ''), o['partial']))

    # precision: fold hit texts and queries to Simplified, then look
    need = sorted({h for hs in hits for h, _ in hs if h in texts})
    folded = dict(zip(need, to_simplified([texts[h].replace('\n', ' ') for h in need])))
    fq = to_simplified([q for _, q, _, _ in allq])

    rows = {}
    for i, (kind, q, rid, script) in enumerate(allq):
        r = rows.setdefault((kind, script), {'us': [], 'succ': 0, 'rr': 0.0,
                                             'prec': [], 'n': 0})
        r['n'] += 1
        if micros[i]:
            r['us'].append(sorted(micros[i])[len(micros[i]) // 2])
        ids = [h for h, _ in hits[i]]
        if rid in ids:
            r['succ'] += 1
            r['rr'] += 1.0 / (ids.index(rid) + 1)
        strict = [h for h, partial in hits[i] if not partial]
        if kind != 'sentence' and strict:
            parts = fq[i].split()
            ok = sum(1 for h in strict
                     if all(part in folded.get(h, '') for part in parts))
            r['prec'].append(ok / len(strict))

    allus = [u for r in rows.values() for u in r['us']]
    wall = sorted(walls)[len(walls) // 2]
    print('| query | script | n | p50 µs | p95 µs | p99 µs | success@10 | MRR@10 | precision@10 |')
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- |')
    result = {'queries': len(allq), 'wall_seconds': wall,
              'qps': len(allq) / wall if wall else 0, 'rows': []}
    for kind in KINDS:
        for script in ('source', 'simplified'):
            r = rows.get((kind, script))
            if not r:
                continue
            prec = sum(r['prec']) / len(r['prec']) if r['prec'] else float('nan')
            row = {'kind': kind, 'script': script, 'n': r['n'],
                   'p50': pct(r['us'], 50), 'p95': pct(r['us'], 95), 'p99': pct(r['us'], 99),
                   'success10': r['succ'] / r['n'], 'mrr10': r['rr'] / r['n'],
                   'precision10': prec}
            result['rows'].append(row)
            print('| %s | %s | %d | %d | %d | %d | %.3f | %.3f | %.3f |' % (
                kind, script, r['n'], row['p50'], row['p95'], row['p99'],
                row['success10'], row['mrr10'], prec))
    result.update({'p50': pct(allus, 50), 'p95': pct(allus, 95), 'p99': pct(allus, 99)})
    # the set the query engine's targets are set on: 1-, 2-, 3-, 4-,
    # 6-character and two-part queries, without the sentences
    setus = [u for (kind, _), r in rows.items() if kind != 'sentence' for u in r['us']]
    result['without_sentences'] = {'n': len(setus), 'p50': pct(setus, 50),
                                   'p95': pct(setus, 95), 'p99': pct(setus, 99)}
    print('| all but sentences | both | %d | %d | %d | %d | | | |' % (
        len(setus), pct(setus, 50), pct(setus, 95), pct(setus, 99)))
    print('| all | both | %d | %d | %d | %d | | | |' % (
        len(allq), result['p50'], result['p95'], result['p99']))
    # after the warm-up
    wus = {k: [] for k in KINDS}
    for i, (kind, _, _, _) in enumerate(allq):
        if wmicros[i]:
            wus[kind].append(sorted(wmicros[i])[len(wmicros[i]) // 2])
    wset = [u for k in KINDS if k != 'sentence' for u in wus[k]]
    wall_ = [u for k in KINDS for u in wus[k]]
    result['after_warmup'] = {
        'warmup_queries': len(warm),
        'without_sentences': {'p50': pct(wset, 50), 'p95': pct(wset, 95), 'p99': pct(wset, 99)},
        'all': {'p50': pct(wall_, 50), 'p95': pct(wall_, 95), 'p99': pct(wall_, 99)},
        'kinds': {k: {'p50': pct(wus[k], 50), 'p99': pct(wus[k], 99)} for k in KINDS}}
    print('\nThe same queries after %d others in the same process (a warm-up, '
          'not timed), median of %d runs:\n' % (len(warm), a.runs))
    print('| query | n | p50 µs | p95 µs | p99 µs |')
    print('| --- | --- | --- | --- | --- |')
    for k in KINDS:
        print('| %s | %d | %d | %d | %d |' % (k, len(wus[k]), pct(wus[k], 50),
                                              pct(wus[k], 95), pct(wus[k], 99)))
    print('| all but sentences | %d | %d | %d | %d |' % (
        len(wset), pct(wset, 50), pct(wset, 95), pct(wset, 99)))
    print('| all | %d | %d | %d | %d |' % (
        len(wall_), pct(wall_, 50), pct(wall_, 95), pct(wall_, 99)))
    print('\n%d queries in %.2f s wall (median of %d runs, one process each, '
          'start-up included): %.0f queries/s' % (len(allq), wall, a.runs, result['qps']))
    with open(os.path.join(a.out, 'search.json'), 'w') as f:
        json.dump(result, f, indent=1)


if __name__ == '__main__':
    sys.exit(main())
