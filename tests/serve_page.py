#!/usr/bin/python3
"""serve_page.py — the search page of `jiansuo serve` in headless Chromium.

Usage: /usr/bin/python3 serve_page.py URL
(tests/serve_page.sh builds the index this expects and starts the server.)

Types a Traditional-Chinese query key by key and checks the Simplified
hits and their <mark>s; pages forward and back; opens a partial hit from
the keyboard and checks its long excerpt; shows how the query was read;
checks a bad query's quiet message and a Latin prefix; takes a desktop
and a phone-sized screenshot (serve-page.png, serve-page-phone.png, in
the current directory) and checks that the phone page does not scroll
sideways.  Any JavaScript error fails the test, with the browser's
console log.  Exits 0 on success, 1 on failure, 77 when Selenium or the
browser cannot start.
"""
import re
import signal
import sys
import time
import urllib.parse

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:
    print("serve_page: selenium not importable (%s): skipped" % e)
    sys.exit(77)

WAIT = 10          # seconds, any one wait
DEADLINE = 55      # seconds, the whole test

# The queries, and what the corpus of serve_page.sh makes of them.
PAGED = "數據庫 檢查"          # 30 strict sections (ops.md), Traditional
PAGED_MARKS = ("数据库", "检查")
PARTIAL = "數據庫 備份"        # 3 strict, then partial ones
PARTIAL_MARKS = ("数据库", "备份")
PREFIX = "postg"               # sent as postg*: finds PostgreSQL
BAD = "，。"                   # no searchable terms: 400


class Failed(Exception):
    pass


driver = None
checks = []


def ok(what):
    checks.append(what)
    print("ok %d - %s" % (len(checks), what), flush=True)


def console():
    try:
        return driver.get_log("browser")
    except WebDriverException:
        return []


seen_log = []


def js_errors():
    """The console's new entries that are errors of the page's own: not
    the network log line of an answer the test asked for (the 400 of a
    bad query)."""
    bad = []
    for e in console():
        seen_log.append(e)
        if e.get("level") != "SEVERE":
            continue
        msg = e.get("message", "")
        if "Failed to load resource" in msg and "status of 400" in msg:
            continue
        bad.append(e)
    return bad


def check_js(where):
    bad = js_errors()
    if bad:
        raise Failed("JavaScript errors %s:\n  %s" % (
            where, "\n  ".join("%s %s" % (e.get("level"), e.get("message")) for e in bad)))


def wait(cond, what, timeout=WAIT):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(
            lambda d: cond())
    except TimeoutException:
        raise Failed("timed out (%ds) waiting for %s" % (timeout, what))


def js(script, *args):
    return driver.execute_script(script, *args)


def box():
    return driver.find_element(By.ID, "q")


def type_query(text):
    """Empties the box, then types text one key at a time."""
    q = box()
    q.click()
    q.send_keys(Keys.CONTROL, "a")
    q.send_keys(Keys.BACKSPACE)
    for ch in text:
        q.send_keys(ch)
        time.sleep(0.04)


SETTLED = """
const want = arguments[0], page = arguments[1];
const p = new URLSearchParams(location.search);
if (p.get('q') !== want || (p.get('page') || '1') !== String(page)) return null;
if (document.body.classList.contains('busy')) return null;
const hits = Array.from(document.querySelectorAll('#hits > .hit'));
const err = document.getElementById('error');
const said = document.getElementById('summary').textContent;
if (!hits.length && err.hidden && !said) return null;
if (hits.length && Number(hits[0].dataset.rank) !== (page - 1) * 10 + 1) return null;
return {hits: hits.map(h => ({
  rank: Number(h.dataset.rank), section: h.dataset.section,
  partial: h.classList.contains('partial'),
  path: h.querySelector('.path').textContent,
  snippet: h.querySelector('.snippet').textContent,
  marks: Array.from(h.querySelectorAll('.snippet mark')).map(m => m.textContent),
}))};
"""


def results(query, page=1):
    """Waits until the page shows the answer to query (page), and
    returns its hits."""
    return wait(lambda: js(SETTLED, query, page),
                "the hits of %r, page %d" % (query, page))["hits"]


def main(url):
    global driver
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--window-size=1280,900", "--lang=zh-CN"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                                  options=opts)
    except WebDriverException as e:
        print("serve_page: cannot start headless Chromium: %s: skipped" % e.msg)
        return 77
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)

    driver.get(url)
    wait(lambda: js("return document.activeElement && document.activeElement.id") == "q",
         "the search box to have the focus")
    wait(lambda: "sections" in driver.find_element(By.ID, "stats").text
         or "节" in driver.find_element(By.ID, "stats").text,
         "the footer's section count")
    check_js("on loading the page")
    ok("the page loads, #q has the focus, the footer shows the index's size")

    # 1, 2: a Traditional query typed key by key finds Simplified text
    type_query(PAGED)
    hits = results(PAGED)
    if len(hits) != 10:
        raise Failed("page 1 of %r shows %d hits, not 10" % (PAGED, len(hits)))
    if [h["rank"] for h in hits] != list(range(1, 11)):
        raise Failed("page 1 ranks are %s" % [h["rank"] for h in hits])
    first = hits[0]
    if "数据库运维手册" not in first["path"] or "节点" not in first["path"]:
        raise Failed("hit 1's heading path is %r" % first["path"])
    if "数据库" not in first["snippet"] or "數據庫" in first["snippet"]:
        raise Failed("hit 1's snippet is not the Simplified text: %r" % first["snippet"])
    marks = set(m for h in hits for m in h["marks"])
    for w in PAGED_MARKS:
        if not any(w in m for m in marks):
            raise Failed("no <mark> holds %r on page 1 (marks: %s)" % (w, sorted(marks)))
    for h in hits:
        for w in PAGED_MARKS:
            if not any(w in m for m in h["marks"]):
                raise Failed("hit %d marks %s, not %r" % (h["rank"], h["marks"], w))
    summary = driver.find_element(By.ID, "summary").text
    counted = re.search(r"[0-9][0-9,]*", summary)
    if not counted or int(counted.group(0).replace(",", "")) < 20:
        raise Failed("the summary %r does not count the 30 sections" % summary)
    check_js("while typing %r" % PAGED)
    ok("%r typed key by key: 10 Simplified hits, <mark>s on %s, summary %r"
       % (PAGED, "/".join(PAGED_MARKS), summary))

    # 3: paging forward, and back through the browser's history
    driver.find_element(By.ID, "next").click()
    hits2 = results(PAGED, 2)
    ranks2 = [h["rank"] for h in hits2]
    if ranks2 != list(range(11, 21)):
        raise Failed("page 2 ranks are %s, not 11..20" % ranks2)
    s1 = set(h["section"] for h in hits)
    s2 = set(h["section"] for h in hits2)
    if s1 & s2:
        raise Failed("pages 1 and 2 share sections %s" % sorted(s1 & s2))
    if "page=2" not in driver.current_url:
        raise Failed("the URL %s does not name page 2" % driver.current_url)
    ok("#next shows ranks 11..20, other sections; the URL says page=2")
    driver.back()
    back = results(PAGED, 1)
    if [h["section"] for h in back] != [h["section"] for h in hits]:
        raise Failed("back to page 1 shows other hits")
    driver.refresh()
    wait(lambda: box().get_attribute("value") == PAGED, "the query back in the box on reload")
    again = results(PAGED, 1)
    if [h["section"] for h in again] != [h["section"] for h in hits]:
        raise Failed("reloading page 1 shows other hits")
    check_js("while paging")
    ok("back and reload show page 1 again from the URL")

    # how the query was read
    driver.find_element(By.ID, "explain").click()
    parsed = driver.find_element(By.ID, "parsed")
    wait(lambda: parsed.is_displayed() and parsed.text.strip() != "", "#parsed to show")
    if "AND" not in parsed.text:
        raise Failed("#parsed shows %r, no AND" % parsed.text)
    ok("#explain shows how the query was read: %r" % parsed.text)
    driver.find_element(By.ID, "explain").click()
    wait(lambda: not parsed.is_displayed(), "#parsed to hide again")

    # 4: a partial hit, selected with the arrow keys and opened with Enter
    type_query(PARTIAL)
    hits = results(PARTIAL)
    strict = [h for h in hits if not h["partial"]]
    part = [i for i, h in enumerate(hits) if h["partial"]]
    if not strict or not part:
        raise Failed("%r shows %d strict and %d partial hits on page 1"
                     % (PARTIAL, len(strict), len(part)))
    if part[0] < len(strict):
        raise Failed("a partial hit comes before a strict one")
    lis = driver.find_elements(By.CSS_SELECTOR, "#hits > .hit")
    badge = lis[part[0]].find_element(By.CSS_SELECTOR, ".badge")
    if "部分匹配" not in badge.text:
        raise Failed("the partial hit's badge says %r" % badge.text)
    q = box()
    for _ in range(part[0] + 1):
        q.send_keys(Keys.ARROW_DOWN)
    sel = driver.find_elements(By.CSS_SELECTOR, "#hits > .hit.selected")
    if len(sel) != 1 or sel[0].get_attribute("data-rank") != str(hits[part[0]]["rank"]):
        raise Failed("after %d ↓ the selection is %s, not rank %d"
                     % (part[0] + 1, [s.get_attribute("data-rank") for s in sel],
                        hits[part[0]]["rank"]))
    q.send_keys(Keys.ENTER)
    target = lis[part[0]]
    wait(lambda: target.find_elements(By.CSS_SELECTOR, ".excerpt .excerpt-text mark"),
         "the opened partial hit's excerpt with highlights")
    ex = target.find_element(By.CSS_SELECTOR, ".excerpt .excerpt-text")
    ex_marks = [m.text for m in ex.find_elements(By.TAG_NAME, "mark")]
    if not any("数据库" in m or "备份" in m for m in ex_marks):
        raise Failed("the excerpt's marks are %s" % ex_marks)
    if len(ex.text) < len(hits[part[0]]["snippet"]) - 2:
        raise Failed("the excerpt (%d chars) is shorter than the snippet" % len(ex.text))
    if "page=" in driver.current_url and "page=1" not in driver.current_url:
        raise Failed("Enter on a hit changed the page: %s" % driver.current_url)
    ok("partial hit %d (badge %r) selected with ↓, opened with Enter: excerpt marks %s"
       % (hits[part[0]]["rank"], badge.text.replace("\n", " "), ex_marks))

    # 5: screenshots (the opened partial hit in view), desktop and phone
    js("window.scrollTo(0, 0)")
    driver.save_screenshot("serve-page.png")
    q.send_keys(Keys.ESCAPE)
    wait(lambda: not target.find_elements(By.CSS_SELECTOR, ".excerpt"),
         "Escape to close the excerpt")
    ok("Escape closes the excerpt; serve-page.png saved")

    driver.set_window_size(390, 844)
    driver.get(url + "?" + urllib.parse.urlencode({"q": PARTIAL}))
    hits = results(PARTIAL)
    lis = driver.find_elements(By.CSS_SELECTOR, "#hits > .hit")
    lis[0].find_element(By.CSS_SELECTOR, ".open").click()
    wait(lambda: lis[0].find_elements(By.CSS_SELECTOR, ".excerpt .excerpt-text mark"),
         "the excerpt on the phone")
    sw, iw = js("return [document.documentElement.scrollWidth, window.innerWidth]")
    driver.save_screenshot("serve-page-phone.png")
    if iw > 420:
        raise Failed("the phone window is %d px wide" % iw)
    if sw > iw:
        raise Failed("the phone page scrolls sideways: scrollWidth %d > innerWidth %d" % (sw, iw))
    check_js("on the phone")
    ok("phone (innerWidth %d): scrollWidth %d, no sideways scroll; serve-page-phone.png saved"
       % (iw, sw))
    driver.set_window_size(1280, 900)

    # a query with nothing to search: a quiet message, no hits, no alert
    type_query(BAD)
    err = driver.find_element(By.ID, "error")
    wait(lambda: err.is_displayed() and err.text.strip() != "", "the quiet error of %r" % BAD)
    if driver.find_elements(By.CSS_SELECTOR, "#hits > .hit"):
        raise Failed("hits shown beside the error")
    check_js("on a bad query")
    ok("%r: the server's message shown quietly: %r" % (BAD, err.text))

    # Escape empties the box, the message and the URL
    box().send_keys(Keys.ESCAPE)
    wait(lambda: box().get_attribute("value") == "" and not err.is_displayed()
         and "q=" not in driver.current_url,
         "Escape to clear the box, the message and the URL")
    ok("Escape clears the query")

    # 6: a Latin word's first letters find it (the page sends postg*).
    # EXPECTED TO PASS LATER: this needs the query language's prefix
    # syntax (word*), being added on main.  Until it lands the server
    # reads postg* as the word "postg" (200, nothing found; were it to
    # answer 400 the page asks again without the star) and this check
    # fails on purpose; it is kept enabled so that it passes by itself
    # once the syntax is merged.
    type_query(PREFIX)
    hits = results(PREFIX)
    if not any("PostgreSQL" in h["path"] + h["snippet"] for h in hits):
        raise Failed("%r (sent as %s*) does not find PostgreSQL: needs the server's "
                     "prefix search (word*); hits: %s"
                     % (PREFIX, PREFIX, [h["path"] for h in hits]))
    if not any("PostgreSQL" in m for h in hits for m in h["marks"]):
        raise Failed("PostgreSQL is not highlighted for %r" % PREFIX)
    check_js("at the end")
    ok("%r finds PostgreSQL (a prefix search)" % PREFIX)

    return 0


def on_alarm(sig, frame):
    raise Failed("the test ran longer than %d s" % DEADLINE)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: serve_page.py URL", file=sys.stderr)
        sys.exit(2)
    url = sys.argv[1]
    if not url.endswith("/"):
        url += "/"
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(DEADLINE)
    start = time.time()
    status = 1
    try:
        status = main(url)
    except (Failed, WebDriverException) as e:
        print("not ok - %s" % (e if isinstance(e, Failed) else "WebDriver: %s" % e.msg))
        if driver:
            js_errors()
            print("browser console:")
            for e in seen_log or [{"message": "(empty)"}]:
                print("  %s %s" % (e.get("level", ""), e.get("message")))
            try:
                driver.save_screenshot("serve-page-failed.png")
                print("screenshot: serve-page-failed.png")
            except WebDriverException:
                pass
    finally:
        signal.alarm(0)
        if driver:
            try:
                driver.quit()
            except Exception:
                pass
    print("serve_page: %d checks passed%s in %.1f s" % (
        len(checks), "" if status == 0 else ", then failed" if status == 1 else "",
        time.time() - start))
    sys.exit(status)
