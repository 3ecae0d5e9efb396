#!/usr/bin/env python3
"""serve_stress.py — `jiansuo serve` under hostile and heavy traffic.

In:  the jiansuo binary (argv[1]) and a scratch directory (argv[2]).
Out: one "ok"/"not ok" line per check, then "serve_stress: N passed,
     M failed"; exit status 0 when all passed.  Everything goes to
     127.0.0.1 and stops by itself (every socket has a timeout, every
     server is killed at the end).

  1. slow clients: hundreds of idle connections and of connections that
     send a request one byte at a time, while searches still answer in
     about their usual time; the watchdog then closes the slow ones
     (--request-timeout) and libmicrohttpd the idle ones
     (--idle-timeout);
  2. searches during writes: every answer a 200, and each write's
     records found by the first search after its answer;
  3. SIGTERM with a request in flight: it is answered, then exit 0;
  4. kill -9 during writes: every write that was answered 200 is in the
     index afterwards (`jiansuo search`), and `jiansuo check` passes.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

JIANSUO, WORK = sys.argv[1], sys.argv[2]
SMALL = os.environ.get("JIANSUO_TEST_SMALL") == "1"
passed = failed = 0


def check(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok", what)
    else:
        failed += 1
        print("not ok", what, detail)


def start(args, name):
    err = open(os.path.join(WORK, name + ".err"), "w+")
    p = subprocess.Popen([JIANSUO, "serve", "--listen", "127.0.0.1:0"] + args,
                         stderr=err, stdout=subprocess.DEVNULL)
    for _ in range(200):
        err.seek(0)
        for line in err.read().splitlines():
            if "listening on http://" in line:
                port = int(line.split("127.0.0.1:")[1].split("/")[0])
                return p, port
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    err.seek(0)
    raise SystemExit("serve did not start: " + err.read())


class Client:
    """One keep-alive connection."""

    def __init__(self, port, token=None):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.token = token

    def get(self, path):
        self.c.request("GET", path)
        r = self.c.getresponse()
        return r.status, r.read()

    def post(self, path, body):
        h = {"Authorization": "Bearer " + self.token} if self.token else {}
        self.c.request("POST", path, body=body.encode(), headers=h)
        r = self.c.getresponse()
        return r.status, r.read()


def search_path(q, **kw):
    kw["q"] = q
    return "/search?" + urllib.parse.urlencode(kw)


# ---------------------------------------------------------------------
# The corpus: records of made-up sentences, each with a Latin token
WORDS = "春夏秋冬山水风云花鸟鱼虫日月星辰江河湖海城乡桥路书画琴棋诗酒茶"


def record(i, prefix="r"):
    text = "".join(WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(24))
    return json.dumps({"id": "%s%d" % (prefix, i), "title": "记录%d" % i,
                       "text": text + " tok%s%d" % (prefix, i)},
                      ensure_ascii=False)


def build_index(path, n):
    src = os.path.join(WORK, "seed.jsonl")
    with open(src, "w") as f:
        for i in range(n):
            f.write(record(i) + "\n")
    subprocess.run([JIANSUO, "index", "-d", path, src], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


QUERIES = ["春夏", "山水", "风云 花鸟", "江河湖海", "诗酒茶", "星辰", "城乡",
           "琴棋 书画", "日月", "鱼虫"]


def timed_searches(port, n):
    c = Client(port)
    times, bad = [], 0
    for i in range(n):
        t0 = time.perf_counter()
        st, _ = c.get(search_path(QUERIES[i % len(QUERIES)], n=10))
        times.append(time.perf_counter() - t0)
        bad += st != 200
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99)], times[-1], bad


def slow_clients(port):
    nidle = nslow = 100 if SMALL else 200
    base50, base99, _, bad = timed_searches(port, 300)
    idle, slow = [], []
    for _ in range(nidle):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        idle.append(s)
    for _ in range(nslow):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        slow.append(s)
    request = b"GET /search?q=%E6%98%A5 HTTP/1.1\r\nHost: x\r\nX-Pad: " + \
        b"a" * 4000 + b"\r\n\r\n"
    stop = threading.Event()
    closed = set()

    def trickle():
        k = 0
        while not stop.is_set() and k < len(request):
            for i, s in enumerate(slow):
                if i in closed:
                    continue
                try:
                    s.send(request[k:k + 1])
                except OSError:
                    closed.add(i)
            k += 1
            time.sleep(0.1)

    t = threading.Thread(target=trickle)
    t.start()
    time.sleep(1.0)
    p50, p99, worst, bad2 = timed_searches(port, 300)
    check(bad + bad2 == 0, "searches answered 200 beside %d idle and %d "
          "byte-at-a-time connections" % (nidle, nslow))
    # the usual time: within 3x (and 2 ms) of the quiet server's median
    check(p50 <= 3 * base50 + 0.002 and worst < 1.0,
          "search latency with slow clients: p50 %.2f ms (quiet %.2f ms), "
          "p99 %.2f ms (quiet %.2f ms), worst %.1f ms" %
          (p50 * 1e3, base50 * 1e3, p99 * 1e3, base99 * 1e3, worst * 1e3))
    # the watchdog: slow clients cut off after --request-timeout (2 s)
    deadline = time.time() + 6
    while time.time() < deadline and len(closed) < nslow:
        time.sleep(0.2)
    stop.set()
    t.join()
    for i, s in enumerate(slow):
        if i in closed:
            continue
        s.settimeout(0.2)
        try:
            if s.recv(1) == b"":
                closed.add(i)
        except socket.timeout:
            pass
        except OSError:
            closed.add(i)
    check(len(closed) == nslow, "the watchdog closed %d of %d byte-at-a-time "
          "connections" % (len(closed), nslow))
    # idle ones: libmicrohttpd's idle timeout (3 s)
    gone = 0
    for s in idle:
        s.settimeout(5)
        try:
            gone += s.recv(1) == b""
        except OSError:
            gone += 1
        s.close()
    check(gone == nidle, "idle connections closed: %d of %d" % (gone, nidle))
    for s in slow:
        s.close()


def writes_while_searching(port, token):
    stop = threading.Event()
    errors = []

    def searcher():
        c = Client(port)
        while not stop.is_set():
            try:
                st, _ = c.get(search_path("春夏", n=10))
                if st != 200:
                    errors.append(st)
            except Exception as e:  # a dropped request
                errors.append(repr(e))
                c = Client(port)

    threads = [threading.Thread(target=searcher) for _ in range(2)]
    for t in threads:
        t.start()
    w = Client(port, token)
    r = Client(port)
    unseen = 0
    nbatch = 10 if SMALL else 30
    for b in range(nbatch):
        recs = "\n".join(record(1000 * (b + 1) + i, "w") for i in range(10))
        st, body = w.post("/documents", recs)
        if st != 200:
            errors.append(body)
            continue
        # read your writes: the first search after the answer sees it
        st, body = r.get(search_path("tokw%d" % (1000 * (b + 1) + 3)))
        if st != 200 or json.loads(body)["query"]["total"] != 1:
            unseen += 1
    stop.set()
    for t in threads:
        t.join()
    check(not errors, "searches during %d write batches: no error" % nbatch,
          str(errors[:5]))
    check(unseen == 0, "every write found by the next search (%d not)" % unseen)


def stop_with_request_in_flight(p, port, token):
    # searches and writes going on when SIGTERM comes (libmicrohttpd's
    # quiesce once aborted here): each gets its answer, a 503 once the
    # server is stopping, or a closed connection; never a crash
    stop = threading.Event()
    bad = []

    def load(write):
        c = Client(port, token)
        k = 0
        while not stop.is_set():
            try:
                if write:
                    st, _ = c.post("/documents", record(50000 + k, "t"))
                else:
                    st, _ = c.get(search_path(QUERIES[k % len(QUERIES)]))
                if st not in (200, 503):
                    bad.append(st)
            except (OSError, http.client.HTTPException):
                try:
                    c = Client(port, token)
                except OSError:
                    break
            k += 1

    loaders = [threading.Thread(target=load, args=(w,)) for w in (0, 0, 1)]
    for t in loaders:
        t.start()
    time.sleep(0.5)
    body = record(9999, "s").encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
              token.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body) +
              body[:10])
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    s.sendall(body[10:])
    resp = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            resp += chunk
            if b"\r\n\r\n" in resp and resp.rstrip().endswith(b"}"):
                break
    except OSError:
        pass
    s.close()
    check(resp.startswith(b"HTTP/1.1 200"), "SIGTERM: the request in flight "
          "answered", resp[:200])
    try:
        rc = p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        with open(os.path.join(WORK, "main.err")) as f:
            rc = "hung; its stderr:\n" + f.read()
    stop.set()
    for t in loaders:
        t.join()
    check(rc == 0, "SIGTERM under searches and writes: exit status %s" % rc)
    check(not bad, "SIGTERM: every answer a 200 or a 503", str(bad[:5]))


def kill_during_writes(index, token_file, token):
    p, port = start(["-d", index, "--write-token-file", token_file,
                     "--quiet"], "kill")
    acked, stop = [], threading.Event()

    def writer(k):
        c = Client(port, token)
        b = 0
        while not stop.is_set():
            ids = [100000 * (k + 1) + 100 * b + i for i in range(5)]
            try:
                st, _ = c.post("/documents",
                               "\n".join(record(i, "k") for i in ids))
            except Exception:
                break
            if st == 200:
                acked.extend(ids)
            b += 1

    ts = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for t in ts:
        t.start()
    time.sleep(1.0 if SMALL else 2.0)
    p.kill()
    stop.set()
    for t in ts:
        t.join()
    p.wait()
    qfile = os.path.join(WORK, "acked.txt")
    with open(qfile, "w") as f:
        for i in acked:
            f.write("tokk%d\n" % i)
    out = subprocess.run([JIANSUO, "search", "-d", index, "--json",
                          "--no-snippet", "-n", "0", "--queries", qfile],
                         capture_output=True, text=True)
    missing = [json.loads(line)["query"] for line in out.stdout.splitlines()
               if '"type":"query"' in line and json.loads(line)["total"] < 1]
    check(acked and not missing, "kill -9 during writes: all %d acknowledged "
          "records found" % len(acked), "missing: %s" % missing[:5])
    chk = subprocess.run([JIANSUO, "check", "-d", index],
                         capture_output=True, text=True)
    check(chk.returncode == 0, "kill -9 during writes: jiansuo check passes",
          chk.stdout + chk.stderr)


def main():
    index = os.path.join(WORK, "index")
    build_index(index, 300)
    token = "stress-token-0123456789abcdef"
    token_file = os.path.join(WORK, "token")
    with open(token_file, "w") as f:
        f.write(token + "\n")
    os.chmod(token_file, 0o600)
    p, port = start(["-d", index, "--write-token-file", token_file, "--quiet",
                     "--request-timeout", "2", "--idle-timeout", "3"], "main")
    try:
        slow_clients(port)
        writes_while_searching(port, token)
        stop_with_request_in_flight(p, port, token)
    finally:
        if p.poll() is None:
            p.kill()
    kill_during_writes(index, token_file, token)
    print("serve_stress: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()
