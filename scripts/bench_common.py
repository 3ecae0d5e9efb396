"""bench_common.py — what the stage drivers of scripts/bench share.

In:  nothing.  Out: the messages on stderr ("bench: STAGE: ..."), the
Markdown tables on stdout, and the JSON lines of --out, written the same
way by every driver.
"""
import json
import sys


def logger(stage):
    """(log, die) for a stage: messages on stderr; die exits 1."""
    def log(msg):
        print('bench: %s: %s' % (stage, msg), file=sys.stderr, flush=True)

    def die(msg):
        log(msg)
        sys.exit(1)
    return log, die


def median(v):
    v = sorted(v)
    return v[len(v) // 2] if v else float('nan')


def verdict(ok):
    return 'ok' if ok else 'MISSED'


def table(head, rows):
    print('| ' + ' | '.join(head) + ' |')
    print('|' + ' --- |' * len(head))
    for r in rows:
        print('| ' + ' | '.join(str(x) for x in r) + ' |')
    print()


def jline(rec):
    return json.dumps(rec, ensure_ascii=False, separators=(',', ':')) + '\n'
