#!/usr/bin/env python3
"""bench_update.py — the live index (add, replace, index --update, merge).

In:  the jiansuo binary; chinese-poetry as JSON Lines (records with "id",
     "title", "text"); the files of the manpages-zh and Debian Reference
     trees as installed (copied to a scratch tree, which is then changed);
     a scratch directory.
Out: Markdown tables on stdout (progress on stderr) and the figures as
     JSON, one object a line, in --out (scripts/bench puts them into
     bench-results/update.json).  Measured, median of --runs runs:

  1. add and commit one record (a new id; a replacement of an existing
     id) to the index of the whole corpus: `jiansuo add` wall time, and
     the time from its start until a newly started `jiansuo search` for a
     token only that record has finds it (target <= 20 ms);
  2. 1,000 records in one commit (new ids; replacements of existing ids),
     MB/s of their file against a full build's MB/s of the corpus in the
     same run (target: at least half); and 10,000 new records, which with
     the 1,000 and the one record above splits a commit's time into a
     fixed part and a rate;
  3. `index --update` of the manpages-zh and Debian Reference trees: with
     nothing changed (target <= 0.5 s), and with 1% of the files changed
     (a line appended), against a full rebuild (target <= 10%);
  4. search latency with 10 unmerged segments against the same records
     merged into one (and a fresh build), interleaved: the query set of
     bench_search.py, in-process microseconds (target: p50 and p99 <= 1.5
     times the merged index's);
  5. churn: 30% of the records replaced by id in three commits, `merge`,
     and the index's size against a fresh build of the same live records
     (target: within 2%);
  6. peak RSS (/usr/bin/time) of add (1,000 records), merge and the full
     build, against --memory (merge at --memory 512).

Usage: bench_update.py --jiansuo BIN --work DIR --out FILE [--runs N]
         [--build-runs N] [--queries N] [--poetry FILE.jsonl]...
         [--trees LISTFILE [--trees-label TEXT]]
"""
import argparse
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no scripts/__pycache__ from the import below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import jline, logger, median, table, verdict  # noqa: E402
import bench_search  # noqa: E402  (the query set: load, draw, to_simplified, pct)

SEED = 20261208
ADD_ONE_TARGET = 0.020        # s, add + commit of one record, and until visible
ADD_RATE_TARGET = 0.5         # x the full build's MB/s
UPDATE_NOOP_TARGET = 0.5      # s, index --update with nothing changed
UPDATE_CHANGED_TARGET = 0.10  # x the full rebuild's time, 1% of the files changed
SEGMENTS = 10                 # unmerged segments for the search comparison
SEARCH_TARGET = 1.5           # x the merged index's p50 and p99
CHURN = 0.30                  # share of the records replaced before the merge
CHURN_BATCHES = 3
CHURN_TARGET = 0.02           # |merged size / fresh size - 1|
DEFAULT_MEMORY = 512          # MiB, jiansuo's default --memory

a = None  # the options
entries = []  # JSON objects for --out
verdicts = []  # (measure, figure, target, verdict) for the summary
rss_rows = []  # (what, --memory MiB, peak RSS KiB) for part 6


log, die = logger('update')


def spread(v):
    return {'median': round(median(v), 4), 'min': round(min(v), 4),
            'max': round(max(v), 4), 'runs': len(v)}


def run(args, ok=(0,), rss=False, check_out=None):
    """Runs jiansuo with args; returns (seconds, stdout, peak RSS KiB or None).
    The time is wall clock around the process, start-up included."""
    cmd = [a.jiansuo] + args
    tf = None
    if rss:
        tf = os.path.join(a.work, 'time.out')
        cmd = ['/usr/bin/time', '-f', '%M', '-o', tf] + cmd
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    dt = time.perf_counter() - t0
    if p.returncode not in ok or (check_out and not re.search(check_out, p.stdout)):
        die('jiansuo %s failed (status %d): %s%s' % (
            ' '.join(args[:3]), p.returncode, p.stdout[-400:], p.stderr[-400:]))
    kb = None
    if rss:
        with open(tf) as f:
            kb = int(f.read().split()[-1])
    return dt, p.stdout, kb


def index(d, paths, rss=True, extra=()):
    # exit status 1 only reports the records without text (chinese-poetry
    # has 27) or pages with warnings
    return run(['index', '-d', d] + list(extra) + list(paths), ok=(0, 1),
               rss=rss, check_out=r'^indexed ')


def add(d, paths, rss=False, extra=()):
    return run(['add', '-d', d] + list(extra) + list(paths), rss=rss,
               check_out=r'added')


def stats(d):
    return json.loads(run(['stats', '-d', d, '--json'])[1])


def summary_count(out, what):
    m = re.search(r'(\d+) %s' % what, out)
    return int(m.group(1)) if m else -1


def copy_index(src, dst):
    if os.path.exists(dst):
        shutil.rmtree(dst)
    shutil.copytree(src, dst)


def fmt_s(x):
    return '%.3f' % x


def ms(x):
    return '%.1f' % (x * 1000)


def letters(n):
    """n as lower-case letters (a token the analyser keeps whole)."""
    s = ''
    n += 26 * 26
    while n:
        s = chr(ord('a') + n % 26) + s
        n //= 26
    return s


def write_jsonl(path, recs):
    with open(path, 'w', encoding='utf-8', newline='\n') as f:
        for r in recs:
            f.write(jline(r))
    return os.path.getsize(path)


# ------------------------------------------------------------ the poems

def load_poetry():
    """Every record, in corpus order, as (file index, dict)."""
    recs = []
    for i, p in enumerate(a.poetry):
        with open(p, encoding='utf-8') as f:
            for line in f:
                recs.append((i, json.loads(line)))
    return recs


def has_text(r):
    return bool(str(r.get('text', '')).strip())


def stage_build(recs):
    """The full build, --build-runs times; the last stays as the base
    (made a live index by a merge of its one segment: a manifest, no
    rewrite)."""
    src = sum(os.path.getsize(p) for p in a.poetry)
    times, rss = [], []
    for r in range(a.build_runs):
        log('full build of chinese-poetry, run %d of %d' % (r + 1, a.build_runs))
        t, _, kb = index(os.path.join(a.work, 'full'), a.poetry)
        times.append(t)
        rss.append(kb)
    run(['merge', '-d', os.path.join(a.work, 'full')])
    st = stats(os.path.join(a.work, 'full'))
    full = {'bytes': src, 'seconds': spread(times),
            'mb_per_s': round(src / 1e6 / median(times), 2),
            'peak_rss_kb': max(rss), 'sections': st['sections'],
            'file_bytes': st['file_bytes']}
    rss_rows.append(('`jiansuo index`, the whole corpus (%.1f MB)' % (src / 1e6),
                     DEFAULT_MEMORY, max(rss)))
    return full


def stage_add_one(recs, base):
    """1: one record, a new id and then a replacement, on a copy of the
    base each run."""
    rng = random.Random(SEED)
    withtext = [r for _, r in recs if has_text(r)]
    res = {'new': {'add': [], 'visible': [], 'search': []},
           'replace': {'add': [], 'visible': [], 'search': []}}
    ix = os.path.join(a.work, 'one')
    for run_no in range(a.runs):
        log('add one record, run %d of %d' % (run_no + 1, a.runs))
        copy_index(base, ix)
        for kind in ('new', 'replace'):
            src = rng.choice(withtext)
            token = 'jsbench' + kind + letters(run_no)
            rec = dict(src)
            if kind == 'new':
                rec['id'] = 'bench-one-%d' % run_no
            rec['text'] = src['text'] + ' ' + token
            f = os.path.join(a.work, 'one-%s.jsonl' % kind)
            write_jsonl(f, [rec])
            t0 = time.perf_counter()
            t_add, out, _ = add(ix, [f])
            t_s, sout, _ = run(['search', '-d', ix, '--json', '--no-snippet', token])
            t_vis = time.perf_counter() - t0
            want = 'replaced' if kind == 'replace' else 'added'
            if summary_count(out, want) != 1:
                die('add of one %s record: %s' % (kind, out.strip()))
            ids = [json.loads(x).get('id') for x in sout.splitlines()
                   if '"type":"hit"' in x]
            if ids != [rec['id']]:
                die('search %s after the add found %s, not %s' % (token, ids, rec['id']))
            res[kind]['add'].append(t_add)
            res[kind]['search'].append(t_s)
            res[kind]['visible'].append(t_vis)
    shutil.rmtree(ix)
    rows = []
    for kind in ('new', 'replace'):
        r = res[kind]
        e = {'measure': 'add_one', 'kind': kind,
             'add_seconds': spread(r['add']), 'search_seconds': spread(r['search']),
             'visible_seconds': spread(r['visible']), 'target_seconds': ADD_ONE_TARGET}
        entries.append(e)
        rows.append([kind, ms(median(r['add'])), ms(min(r['add'])), ms(max(r['add'])),
                     ms(median(r['search'])), ms(median(r['visible'])),
                     verdict(median(r['visible']) <= ADD_ONE_TARGET)])
        verdicts.append(('add + commit one record (%s id), until a new search sees it' % kind,
                         '%s ms (add alone %s ms)' % (ms(median(r['visible'])), ms(median(r['add']))),
                         '<= %d ms' % (ADD_ONE_TARGET * 1000),
                         verdict(median(r['visible']) <= ADD_ONE_TARGET)))
    print('### 1. One record added and committed, on the index of the whole corpus\n')
    print('`jiansuo add` wall time (process start-up included); "visible": from its '
          'start until a new `jiansuo search` process for a token only that record '
          'has returned it. Target <= %d ms. Median of %d runs, ms.\n'
          % (ADD_ONE_TARGET * 1000, a.runs))
    table(['record', 'add', 'min', 'max', 'search', 'visible', 'target'], rows)
    return median(res['new']['add'])


def stage_add_many(recs, base, full, t_one):
    """2 and 6 (add): 1,000 records new and replaced, 10,000 new."""
    rng = random.Random(SEED + 1)
    withtext = [r for _, r in recs if has_text(r)]
    k = 1000
    picked = rng.sample(withtext, min(len(withtext), 11 * k))
    sets = {}
    sets['new 1,000'] = [dict(r, id='bench-k-' + r['id']) for r in picked[:k]]
    sets['replace 1,000'] = picked[k:2 * k]
    sets['new 10,000'] = [dict(r, id='bench-10k-' + r['id']) for r in picked[k:11 * k]]
    want = {'new 1,000': 'added', 'replace 1,000': 'replaced', 'new 10,000': 'added'}
    files, size = {}, {}
    for name, rs in sets.items():
        files[name] = os.path.join(a.work, 'many-%s.jsonl' % name.replace(' ', '-').replace(',', ''))
        size[name] = write_jsonl(files[name], rs)
    res = {n: [] for n in sets}
    rss = {n: [] for n in sets}
    fresh = []  # `jiansuo index` of the new 1,000 alone, for comparison
    ix = os.path.join(a.work, 'many')
    for run_no in range(a.runs):
        log('add 1,000 and 10,000 records, run %d of %d' % (run_no + 1, a.runs))
        for name in sets:
            copy_index(base, ix)
            t, out, kb = add(ix, [files[name]], rss=True)
            if summary_count(out, want[name]) != len(sets[name]):
                die('add %s: %s' % (name, out.strip()))
            res[name].append(t)
            rss[name].append(kb)
        shutil.rmtree(ix)
        fresh.append(index(ix, [files['new 1,000']], rss=False)[0])
    # peak RSS at a small budget too (one run)
    copy_index(base, ix)
    _, _, kb64 = add(ix, [files['new 1,000']], rss=True, extra=['--memory', '64'])
    shutil.rmtree(ix)
    for name in sets:
        rss_rows.append(('`jiansuo add`, %s records (%.1f MB)' % (name, size[name] / 1e6),
                         DEFAULT_MEMORY, max(rss[name])))
    rss_rows.append(('`jiansuo add --memory 64`, new 1,000 records', 64, kb64))
    rows = []
    for name in sets:
        t = median(res[name])
        mbs = size[name] / 1e6 / t
        ratio = mbs / full['mb_per_s']
        e = {'measure': 'add_many', 'kind': name, 'records': len(sets[name]),
             'bytes': size[name], 'seconds': spread(res[name]),
             'mb_per_s': round(mbs, 2), 'full_build_mb_per_s': full['mb_per_s'],
             'ratio': round(ratio, 3), 'peak_rss_kb': max(rss[name]),
             'memory_mib': DEFAULT_MEMORY}
        if name != 'new 10,000':
            e['target_ratio'] = ADD_RATE_TARGET
        entries.append(e)
        rows.append([name, '%.2f' % (size[name] / 1e6), fmt_s(t), fmt_s(min(res[name])),
                     fmt_s(max(res[name])), '%.1f' % mbs, '%.2f' % ratio,
                     '%.0f' % (max(rss[name]) / 1024),
                     verdict(ratio >= ADD_RATE_TARGET) if 'target_ratio' in e else '(no target)'])
        if 'target_ratio' in e:
            verdicts.append(('%s records in one commit, MB/s / full build MB/s' % name,
                             '%.1f / %.1f = %.2f' % (mbs, full['mb_per_s'], ratio),
                             '>= %.1f' % ADD_RATE_TARGET, verdict(ratio >= ADD_RATE_TARGET)))
    tf = median(fresh)
    entries.append({'measure': 'index_1000_alone', 'bytes': size['new 1,000'],
                    'seconds': spread(fresh),
                    'mb_per_s': round(size['new 1,000'] / 1e6 / tf, 2)})
    rows.append(['(`jiansuo index` of the new 1,000 alone, into an empty directory)',
                 '%.2f' % (size['new 1,000'] / 1e6), fmt_s(tf), fmt_s(min(fresh)),
                 fmt_s(max(fresh)), '%.1f' % (size['new 1,000'] / 1e6 / tf),
                 '%.2f' % (size['new 1,000'] / 1e6 / tf / full['mb_per_s']), '', ''])
    # fixed part and rate: the 1,000 and 10,000 new records (and one)
    t1k, t10k = median(res['new 1,000']), median(res['new 10,000'])
    db = size['new 10,000'] - size['new 1,000']
    rate = db / 1e6 / (t10k - t1k) if t10k > t1k else float('nan')
    fixed = t1k - size['new 1,000'] / 1e6 / rate if rate == rate else float('nan')
    entries.append({'measure': 'add_cost', 'fixed_seconds': round(fixed, 4),
                    'marginal_mb_per_s': round(rate, 2), 'one_record_seconds': round(t_one, 4),
                    'peak_rss_kb_memory_64': kb64})
    print('### 2. Many records in one commit, against the full build\n')
    print('Full build (`jiansuo index`) of the whole corpus: %.1f MB in %s s, **%.1f MB/s** '
          '(median of %d; peak RSS %.0f MiB). `jiansuo add` of a JSON Lines file of records '
          'drawn from the corpus (new ids, or their own ids: replacements), on a copy '
          'of that index, median of %d runs. Target: at least %.1f x the full build\'s MB/s.\n'
          % (full['bytes'] / 1e6, fmt_s(full['seconds']['median']), full['mb_per_s'],
             full['seconds']['runs'], full['peak_rss_kb'] / 1024, a.runs, ADD_RATE_TARGET))
    table(['records', 'MB', 'seconds', 'min', 'max', 'MB/s', 'x full build', 'peak RSS MiB',
           'target'], rows)
    print('Split of a commit\'s time (from the 1,000 and 10,000 new records): '
          'fixed part %s ms, then %.1f MB/s; one record alone: %s ms.  Peak RSS of the '
          '1,000 records at `--memory 64`: %.0f MiB.\n'
          % (ms(fixed), rate, ms(t_one), kb64 / 1024))


def stage_segments(recs):
    """4 (and 6: merge): 10 unmerged segments against one."""
    withtext = [r for _, r in recs if has_text(r)]
    n = len(withtext)
    # a first segment of a higher size tier (decimal order of its
    # sections) than the nine that follow, all of one tier: ten segments
    # the writer does not merge by itself (it merges 10 of one tier)
    chunk = first = 0
    k = len(str(n)) - 2
    while k >= 0:
        hi = 10 ** (k + 1)
        c = min(hi - 1, (n - hi * 102 // 100) // (SEGMENTS - 1))
        if c >= 10 ** k:
            chunk, first = c, n - (SEGMENTS - 1) * c
            break
        k -= 1
    if not chunk:
        die('%d records are too few for %d segments' % (n, SEGMENTS))
    parts = [withtext[:first]] + [withtext[first + i * chunk:first + (i + 1) * chunk]
                                  for i in range(SEGMENTS - 1)]
    files = []
    for i, p in enumerate(parts):
        files.append(os.path.join(a.work, 'part-%02d.jsonl' % i))
        write_jsonl(files[-1], p)
    ix10 = os.path.join(a.work, 'seg10')
    ix1 = os.path.join(a.work, 'seg1')
    fresh = os.path.join(a.work, 'fresh10')
    log('search: building %d segments (%d records, then %d x %d)' % (SEGMENTS, first, SEGMENTS - 1, chunk))
    index(ix10, files[:1], extra=['--format', 'jsonl'])
    for f in files[1:]:
        add(ix10, [f])
    st10 = stats(ix10)
    if len(st10['segments']) != SEGMENTS:
        die('expected %d segments, the index has %d' % (SEGMENTS, len(st10['segments'])))
    copy_index(ix10, ix1)
    log('search: merging a copy into one segment')
    t_merge, _, kb_merge = run(['merge', '--memory', '512', '-d', ix1], rss=True)
    st1 = stats(ix1)
    rss_rows.append(('`jiansuo merge`, %d segments into one' % SEGMENTS, None, kb_merge))
    if len(st1['segments']) != 1:
        die('merge left %d segments' % len(st1['segments']))
    log('search: a fresh build of the same records')
    index(fresh, files, extra=['--format', 'jsonl'])
    # the query set of bench_search.py, from the same records
    qrecs = bench_search.load(files)
    qs = bench_search.draw(qrecs, a.queries, random.Random(20261124))
    hans = bench_search.to_simplified([q for _, q, _ in qs])
    allq = [(kd, q) for kd, q, _ in qs] + [(kd, h) for (kd, _, _), h in zip(qs, hans)]
    qfile = os.path.join(a.work, 'queries.txt')
    with open(qfile, 'w', encoding='utf-8') as f:
        for _, q in allq:
            f.write(q + '\n')
    names = ['10 segments', 'merged', 'fresh build']
    dirs = {'10 segments': ix10, 'merged': ix1, 'fresh build': fresh}
    micros = {nm: [[] for _ in allq] for nm in names}
    hits = {nm: [[] for _ in allq] for nm in names}
    walls = {nm: [] for nm in names}
    for run_no in range(a.runs):
        log('search: %d queries, run %d of %d (the three indexes interleaved)'
            % (len(allq), run_no + 1, a.runs))
        order = names[run_no % 3:] + names[:run_no % 3]
        for nm in order:
            t, out, _ = run(['search', '-d', dirs[nm], '--queries', qfile, '--json',
                             '--no-snippet', '-n', '10'])
            walls[nm].append(t)
            for line in out.splitlines():
                o = json.loads(line)
                i = o.get('line', 0) - 1
                if not 0 <= i < len(allq):
                    continue
                if o['type'] == 'query':
                    micros[nm][i].append(o['micros'])
                elif o['type'] == 'hit' and run_no == 0:
                    hits[nm][i].append(o.get('id', ''))
    pct = bench_search.pct
    res = {}
    for nm in names:
        us = [median(m) for m in micros[nm] if m]
        nos = [median(m) for (kd, _), m in zip(allq, micros[nm]) if m and kd != 'sentence']
        res[nm] = {'p50': pct(us, 50), 'p95': pct(us, 95), 'p99': pct(us, 99),
                   'without_sentences': {'p50': pct(nos, 50), 'p95': pct(nos, 95),
                                         'p99': pct(nos, 99)},
                   'wall_seconds': round(median(walls[nm]), 3),
                   'kinds': {kd: pct([median(m) for (k2, _), m in zip(allq, micros[nm])
                                      if m and k2 == kd], 50) for kd in bench_search.KINDS}}
    same = sum(1 for i in range(len(allq)) if hits['10 segments'][i] == hits['merged'][i])
    same_set = sum(1 for i in range(len(allq))
                   if sorted(hits['10 segments'][i]) == sorted(hits['merged'][i]))
    r50 = res['10 segments']['p50'] / res['merged']['p50']
    r99 = res['10 segments']['p99'] / res['merged']['p99']
    ok = r50 <= SEARCH_TARGET and r99 <= SEARCH_TARGET
    entries.append({'measure': 'search_segments', 'queries': len(allq),
                    'segments': [s['sections'] for s in st10['segments']],
                    'results': res, 'ratio_p50': round(r50, 3), 'ratio_p99': round(r99, 3),
                    'same_top10_order': same, 'same_top10_set': same_set,
                    'target_ratio': SEARCH_TARGET,
                    'merge_seconds': round(t_merge, 3), 'merge_peak_rss_kb': kb_merge,
                    'file_bytes': {'10 segments': st10['file_bytes'],
                                   'merged': st1['file_bytes'],
                                   'fresh build': stats(fresh)['file_bytes']}})
    verdicts.append(('search with %d segments / merged, p50 and p99' % SEGMENTS,
                     '%.2f x and %.2f x' % (r50, r99), '<= %.1f x' % SEARCH_TARGET, verdict(ok)))
    print('### 4. Search with %d unmerged segments against one\n' % SEGMENTS)
    print('chinese-poetry (%d records with text) as one `jiansuo index` of %d records '
          'and %d `jiansuo add` of %d, which the writer leaves unmerged (the first '
          'segment is of a higher size tier); a copy merged by `jiansuo merge` '
          '(%s s, peak RSS %.0f MiB); and a fresh build of the same files.  The query '
          'set of bench_search.py (%d queries: %d of each kind in both scripts), '
          '`search --queries --json --no-snippet -n 10`, in-process microseconds, the '
          'median of %d runs per query, the three indexes interleaved.  Target: 10 '
          'segments <= %.1f x the merged index at p50 and p99.\n'
          % (n, first, SEGMENTS - 1, chunk, fmt_s(t_merge), kb_merge / 1024, len(allq),
             a.queries, a.runs, SEARCH_TARGET))
    rows = []
    for nm in names:
        r = res[nm]
        rows.append([nm, '%.1f' % (stats_bytes(nm, st10, st1, fresh) / 1e6),
                     r['p50'], r['p95'], r['p99'],
                     '%d / %d' % (r['without_sentences']['p50'], r['without_sentences']['p99']),
                     '%.2f' % r['wall_seconds']])
    table(['index', 'MB', 'p50 µs', 'p95 µs', 'p99 µs', 'w/o sentences p50 / p99',
           'wall s (start-up, preload)'], rows)
    table(['kind'] + names, [[kd] + [res[nm]['kinds'][kd] for nm in names]
                             for kd in bench_search.KINDS])
    print('10 segments / merged: p50 %.2f x, p99 %.2f x (%s).  The same top 10 in the same '
          'order for %d of %d queries, as a set for %d.\n'
          % (r50, r99, verdict(ok), same, len(allq), same_set))
    for d in (ix10, ix1, fresh):
        shutil.rmtree(d)


def stats_bytes(nm, st10, st1, fresh):
    if nm == '10 segments':
        return st10['file_bytes']
    if nm == 'merged':
        return st1['file_bytes']
    return stats(fresh)['file_bytes']


def stage_churn(recs, base):
    """5 (and 6: merge): 30% replaced in three commits, merge, size."""
    rng = random.Random(SEED + 2)
    idx = [i for i, (_, r) in enumerate(recs) if has_text(r)]
    chosen = sorted(rng.sample(idx, int(len(idx) * CHURN)))
    rng.shuffle(chosen)
    batches = [chosen[i::CHURN_BATCHES] for i in range(CHURN_BATCHES)]
    cset = set(chosen)
    ix = os.path.join(a.work, 'churn')
    copy_index(base, ix)
    bfiles, adds = [], []
    for b, bi in enumerate(batches):
        f = os.path.join(a.work, 'churn-%d.jsonl' % b)
        write_jsonl(f, [recs[i][1] for i in sorted(bi)])
        bfiles.append(f)
        log('churn: replacing %d records (commit %d of %d)' % (len(bi), b + 1, CHURN_BATCHES))
        t, out, kb = add(ix, [f], rss=True)
        if summary_count(out, 'replaced') != len(bi):
            die('churn add %d: %s' % (b, out.strip()))
        adds.append((t, kb, os.path.getsize(f)))
    before = stats(ix)
    log('churn: merge')
    t_merge, _, kb_merge = run(['merge', '--memory', '512', '-d', ix], rss=True)
    after = stats(ix)
    rss_rows.append(('`jiansuo add`, churn, %d records a commit (largest)' % len(batches[0]),
                     DEFAULT_MEMORY, max(kb for _, kb, _ in adds)))
    rss_rows.append(('`jiansuo merge`, after the churn (%d segments, %s deleted sections)'
                     % (len(before['segments']), before.get('deleted_sections')),
                     None, kb_merge))
    # a fresh build of the same live records, in the merged index's order:
    # each corpus file without the replaced records, then the batches
    kept = []
    for i, p in enumerate(a.poetry):
        f = os.path.join(a.work, 'kept-%d.jsonl' % i)
        write_jsonl(f, [r for j, (fi, r) in enumerate(recs) if fi == i and j not in cset])
        kept.append(f)
    fresh = os.path.join(a.work, 'churn-fresh')
    log('churn: a fresh build of the same live records')
    index(fresh, kept + bfiles, extra=['--format', 'jsonl'])
    fst = stats(fresh)
    diff = after['file_bytes'] / fst['file_bytes'] - 1
    ok = abs(diff) <= CHURN_TARGET
    entries.append({'measure': 'churn_merge', 'replaced': len(chosen),
                    'adds': [{'seconds': round(t, 3), 'peak_rss_kb': kb, 'bytes': by}
                             for t, kb, by in adds],
                    'before_merge': {'file_bytes': before['file_bytes'],
                                     'segments': len(before['segments']),
                                     'deleted_sections': before.get('deleted_sections')},
                    'merge_seconds': round(t_merge, 3), 'merge_peak_rss_kb': kb_merge,
                    'merged': {'file_bytes': after['file_bytes'], 'sections': after['sections'],
                               'part_bytes': after.get('part_bytes')},
                    'fresh': {'file_bytes': fst['file_bytes'], 'sections': fst['sections'],
                              'part_bytes': fst.get('part_bytes')},
                    'size_diff': round(diff, 4), 'target': CHURN_TARGET})
    verdicts.append(('30% replaced, merged: size / a fresh build of the same records',
                     '%+.2f%%' % (diff * 100), 'within %d%%' % (CHURN_TARGET * 100), verdict(ok)))
    print('### 5. Churn, then a full merge\n')
    print('%d records (%d%% of those with text) replaced by id in %d commits of %d '
          '(%s s each, median), then `jiansuo merge` (%s s, peak RSS %.0f MiB); the '
          'merged index against a fresh `jiansuo index` of the same live records in '
          'the same order.  Target: within %d%%.\n'
          % (len(chosen), CHURN * 100, CHURN_BATCHES, len(batches[0]),
             fmt_s(median([t for t, _, _ in adds])), fmt_s(t_merge), kb_merge / 1024,
             CHURN_TARGET * 100))
    rows = [['before the merge (%d segments, %s deleted sections)'
             % (len(before['segments']), before.get('deleted_sections')),
             '%.2f' % (before['file_bytes'] / 1e6), before['sections'], ''],
            ['merged', '%.2f' % (after['file_bytes'] / 1e6), after['sections'],
             '%+.2f%% (%s)' % (diff * 100, verdict(ok))],
            ['fresh build', '%.2f' % (fst['file_bytes'] / 1e6), fst['sections'], '']]
    table(['index', 'MB', 'sections', 'against fresh'], rows)
    pm, pf = after.get('part_bytes') or {}, fst.get('part_bytes') or {}
    diffs = [[k, pm.get(k, 0), pf.get(k, 0), pm.get(k, 0) - pf.get(k, 0)]
             for k in sorted(set(pm) | set(pf)) if pm.get(k, 0) != pf.get(k, 0)]
    if diffs:
        print('By part, where they differ (bytes):\n')
        table(['part', 'merged', 'fresh', 'difference'], diffs)
    shutil.rmtree(ix)
    shutil.rmtree(fresh)
    return t_merge, kb_merge


# ------------------------------------------------------------ the trees

def stage_trees():
    """3: index --update of the manpages-zh and Debian Reference trees."""
    with open(a.trees, encoding='utf-8') as f:
        srcs = [l.rstrip('\n') for l in f if l.strip()]
    root = os.path.commonpath(srcs)
    tree = os.path.join(a.work, 'trees')
    if os.path.exists(tree):
        shutil.rmtree(tree)
    for s in srcs:
        d = os.path.join(tree, os.path.relpath(s, root))
        os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(s, d)
    files = sorted(os.path.join(dp, fn) for dp, _, fns in os.walk(tree) for fn in fns)
    src_bytes = sum(os.path.getsize(f) for f in files)
    ix = os.path.join(a.work, 'trees-ix')
    full = []
    for r in range(a.build_runs):
        log('trees: full build, run %d of %d' % (r + 1, a.build_runs))
        full.append(index(ix, [tree])[0])
    st = stats(ix)
    noop = []
    for r in range(a.runs):
        t, out, _ = run(['index', '--update', '-d', ix, tree])
        if summary_count(out, 'unchanged') != st['documents']:
            die('index --update with nothing changed: %s' % out.strip())
        noop.append(t)
    n = max(1, round(len(files) / 100))
    rng = random.Random(SEED + 3)
    pick = rng.sample(files, min(len(files), n * a.runs))
    changed = []
    for r in range(a.runs):
        log('trees: %d files changed, run %d of %d' % (n, r + 1, a.runs))
        for f in pick[r * n:(r + 1) * n]:
            line = 'jiansuo bench update %d\n' % r
            if f.endswith('.gz'):
                with gzip.open(f, 'rb') as g:
                    body = g.read()
                with gzip.open(f, 'wb') as g:
                    g.write(body + b'\n' + line.encode())
            elif f.endswith('.html'):
                with open(f, 'a', encoding='utf-8') as g:
                    g.write('<p>%s</p>\n' % line.strip())
            else:
                with open(f, 'a', encoding='utf-8') as g:
                    g.write(line)
            os.utime(f)
        t, out, _ = run(['index', '--update', '-d', ix, tree])
        if summary_count(out, 'replaced') != len(pick[r * n:(r + 1) * n]):
            die('index --update after %d changed files: %s' % (n, out.strip()))
        changed.append(t)
    st2 = stats(ix)
    tf, tn, tc = median(full), median(noop), median(changed)
    e = {'measure': 'update_trees', 'files': len(files), 'documents': st['documents'],
         'sections': st['sections'], 'source_bytes': src_bytes,
         'full_seconds': spread(full), 'unchanged_seconds': spread(noop),
         'changed_files': n, 'changed_seconds': spread(changed),
         'ratio': round(tc / tf, 4), 'segments_after': len(st2['segments']),
         'target_unchanged_seconds': UPDATE_NOOP_TARGET,
         'target_ratio': UPDATE_CHANGED_TARGET}
    entries.append(e)
    verdicts.append(('index --update of %s, nothing changed' % a.trees_label,
                     '%s s' % fmt_s(tn), '<= %.1f s' % UPDATE_NOOP_TARGET,
                     verdict(tn <= UPDATE_NOOP_TARGET)))
    verdicts.append(('index --update, 1% of the files changed / full rebuild',
                     '%s / %s s = %.1f%%' % (fmt_s(tc), fmt_s(tf), tc / tf * 100),
                     '<= %d%%' % (UPDATE_CHANGED_TARGET * 100),
                     verdict(tc / tf <= UPDATE_CHANGED_TARGET)))
    print('### 3. `index --update` of the trees of %s\n' % a.trees_label)
    print('A copy of the trees as installed (%d files, %.1f MB; %d documents, %d sections), '
          'indexed by `jiansuo index`; then `jiansuo index --update` with nothing changed, '
          'and after a line was appended to %d files (1%%, other files each run: man pages '
          'gunzipped and gzipped again), the segments accumulating (%d at the end).  '
          'Median of %d runs (the full build: %d).\n'
          % (len(files), src_bytes / 1e6, st['documents'], st['sections'], n,
             len(st2['segments']), a.runs, a.build_runs))
    table(['run', 'seconds', 'min', 'max', 'x full build', 'target'],
          [['full build (`jiansuo index`)', fmt_s(tf), fmt_s(min(full)), fmt_s(max(full)), '1', ''],
           ['--update, nothing changed', fmt_s(tn), fmt_s(min(noop)), fmt_s(max(noop)),
            '%.3f' % (tn / tf), '<= %.1f s: %s' % (UPDATE_NOOP_TARGET, verdict(tn <= UPDATE_NOOP_TARGET))],
           ['--update, %d files changed' % n, fmt_s(tc), fmt_s(min(changed)), fmt_s(max(changed)),
            '%.3f' % (tc / tf), '<= %.2f: %s' % (UPDATE_CHANGED_TARGET,
                                                 verdict(tc / tf <= UPDATE_CHANGED_TARGET))]])
    shutil.rmtree(ix)
    shutil.rmtree(tree)


# ------------------------------------------------------------ main

def main():
    global a
    ap = argparse.ArgumentParser()
    ap.add_argument('--jiansuo', required=True)
    ap.add_argument('--work', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--build-runs', type=int, default=3)
    ap.add_argument('--queries', type=int, default=200, help='per kind and script')
    ap.add_argument('--poetry', action='append', default=[])
    ap.add_argument('--trees', help='a file listing the files of the trees, one a line')
    ap.add_argument('--trees-label', default='manpages-zh and Debian Reference',
                    help='what the trees are, for the tables')
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    if a.poetry:
        recs = load_poetry()
        log('chinese-poetry: %d records' % len(recs))
        full = stage_build(recs)
        entries.append(dict(measure='full_build', **full))
        base = os.path.join(a.work, 'full')
        t_one = stage_add_one(recs, base)
        stage_add_many(recs, base, full, t_one)
    if a.trees:
        stage_trees()
    if a.poetry:
        stage_segments(recs)
        stage_churn(recs, base)
        shutil.rmtree(base)
    if rss_rows:
        print('### 6. Peak RSS\n')
        print('/usr/bin/time, the highest of the runs; `merge` runs at '
              '--memory %d.\n' % DEFAULT_MEMORY)
        rows = []
        for what, mem, kb in rss_rows:
            budget = mem if mem is not None else DEFAULT_MEMORY
            rows.append([what, mem if mem is not None else '(none; %d)' % DEFAULT_MEMORY,
                         '%.0f' % (kb / 1024), '%.2f' % (kb / 1024 / budget),
                         verdict(kb / 1024 <= budget)])
            entries.append({'measure': 'peak_rss', 'what': what, 'memory_mib': mem,
                            'peak_rss_kb': kb})
        table(['process', '--memory MiB', 'peak RSS MiB', 'x budget', 'within'], rows)
        worst = max(rows, key=lambda r: float(r[3]))
        verdicts.append(('peak RSS of add and merge within the memory budget',
                         'highest %s x (%s)' % (worst[3], worst[0]), '<= 1 x',
                         verdict(all(r[4] == 'ok' for r in rows))))
    print('### Against the targets\n')
    table(['measure', 'figure', 'target', ''], verdicts)
    with open(a.out, 'w') as f:
        for e in entries:
            f.write(json.dumps(e, separators=(',', ':')) + '\n')


if __name__ == '__main__':
    sys.exit(main())
