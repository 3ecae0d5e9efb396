// app.js — the search page of `jiansuo serve`: searches as you type
// through GET /search, shows the hits with their highlights, pages, and
// opens a hit into a long excerpt.  No framework, no outside resources.
'use strict';

(() => {
  const PER_PAGE = 10;
  const SNIPPET_CHARS = 80;
  const OPEN_CHARS = 4000;
  const DEBOUNCE_MS = 150;

  const $ = (id) => document.getElementById(id);
  const box = $('q');
  const form = $('form');
  const list = $('hits');
  const summary = $('summary');
  const explainBtn = $('explain');
  const parsedBox = $('parsed');
  const errorBox = $('error');
  const pager = $('pager');
  const prevBtn = $('prev');
  const nextBtn = $('next');
  const pagesBox = $('pages');
  const help = $('help');

  const state = {
    q: '',          // the query as typed
    sent: '',       // the query as sent (with a prefix star, maybe)
    page: 1,
    result: null,   // the last response shown
    selected: -1,   // index into the shown hits, -1 for none
    explain: false,
  };
  let timer = 0;
  let seq = 0;          // the number of the newest request
  let controller = null;

  const enc = new TextEncoder();
  const dec = new TextDecoder();

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  // The query as sent: a last token that is a Latin word of two or more
  // letters or digits, not followed by white space, gets a '*' (a prefix
  // search), so that "xapi" finds Xapian while it is typed, and
  // "apt-ge" apt-get (the engine reads it as apt and ge*).  Never on a
  // CJK run (its n-grams already match as it grows), inside an open
  // phrase, or on an operator.
  function withPrefix(q) {
    if (q === '' || /\s$/.test(q)) return q;
    if (((q.match(/"/g) || []).length % 2) === 1) return q;
    const m = /(^|[^A-Za-z0-9_*'])([A-Za-z0-9]{2,})$/.exec(q);
    if (!m || m[2] === 'OR' || m[2] === 'AND' || m[2] === 'NOT') return q;
    return q + '*';
  }

  // [start, end) byte offsets into the UTF-8 of text → DOM nodes with
  // <mark>s.  Offsets are sorted, merged and clamped; a bad one is
  // dropped rather than breaking the text.
  function highlighted(text, spans) {
    const frag = document.createDocumentFragment();
    const bytes = enc.encode(text || '');
    const ranges = (Array.isArray(spans) ? spans : [])
      .filter((r) => Array.isArray(r) && r.length >= 2 && r[0] < r[1])
      .map((r) => [Math.max(0, r[0] | 0), Math.min(bytes.length, r[1] | 0)])
      .filter((r) => r[0] < r[1])
      .sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [s0, e] of ranges) {
      const s = Math.max(s0, at);
      if (s >= e) continue;
      if (s > at) frag.append(dec.decode(bytes.subarray(at, s)));
      frag.append(el('mark', null, dec.decode(bytes.subarray(s, e))));
      at = e;
    }
    if (at < bytes.length) frag.append(dec.decode(bytes.subarray(at)));
    return frag;
  }

  // The heading path: the title, then the headings, leaving out a first
  // heading equal to the title.
  function headingPath(hit) {
    const parts = [];
    const title = (hit.title || '').trim();
    if (title) parts.push(title);
    const hs = Array.isArray(hit.headings) ? hit.headings.slice() : [];
    if (hs.length && title && hs[0].trim() === title) hs.shift();
    for (const h of hs) if (h && h.trim()) parts.push(h.trim());
    if (!parts.length) parts.push(baseName(hit.source) || '(无标题 untitled)');
    return parts;
  }

  function baseName(p) {
    if (!p) return '';
    const i = p.lastIndexOf('/');
    return i >= 0 ? p.slice(i + 1) : p;
  }

  function fmtNum(n) {
    return Number(n).toLocaleString('zh-CN');
  }

  function fmtTime(us) {
    if (typeof us !== 'number' || !isFinite(us)) return '';
    if (us < 1000) return us + ' µs';
    if (us < 1e6) return (us / 1000).toFixed(us < 10000 ? 1 : 0) + ' ms';
    return (us / 1e6).toFixed(2) + ' s';
  }

  function searchURL(q, offset, n, chars) {
    const p = new URLSearchParams({
      q, n: String(n), offset: String(offset),
      snippet: '1', partial: '1', chars: String(chars),
    });
    return '/search?' + p.toString();
  }

  async function getJSON(url, signal) {
    const r = await fetch(url, { signal, headers: { Accept: 'application/json' } });
    let body = null;
    try {
      body = await r.json();
    } catch (e) {
      body = null;
    }
    if (!r.ok) {
      const msg = body && typeof body.error === 'string' ? body.error : 'HTTP ' + r.status;
      const err = new Error(msg);
      err.status = r.status;
      throw err;
    }
    if (!body || typeof body !== 'object') throw new Error('不是 JSON 回答 (not JSON)');
    return body;
  }

  // --- the URL: ?q=…&page=… -------------------------------------------

  function urlFor(q, page) {
    if (!q) return location.pathname;
    const p = new URLSearchParams({ q });
    if (page > 1) p.set('page', String(page));
    return location.pathname + '?' + p.toString();
  }

  function remember(push) {
    const url = urlFor(state.q, state.page);
    const st = { q: state.q, page: state.page };
    if (url === location.pathname + location.search) {
      history.replaceState(st, '', url);
    } else if (push) {
      history.pushState(st, '', url);
    } else {
      history.replaceState(st, '', url);
    }
    document.title = state.q ? state.q + ' · 检索' : '检索 · jiansuo';
  }

  // --- searching ----------------------------------------------------------

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(() => run(box.value, 1, false), DEBOUNCE_MS);
  }

  function cancel() {
    clearTimeout(timer);
    if (controller) controller.abort();
    controller = null;
    seq++;
  }

  async function run(q, page, push) {
    clearTimeout(timer);
    if (controller) controller.abort();
    const my = ++seq;
    state.q = q;
    state.page = Math.max(1, page | 0);
    remember(push);
    if (q.trim() === '') {
      controller = null;
      clearResults();
      return;
    }
    controller = new AbortController();
    const signal = controller.signal;
    const offset = (state.page - 1) * PER_PAGE;
    let sent = withPrefix(q);
    document.body.classList.add('busy');
    try {
      let body;
      try {
        body = await getJSON(searchURL(sent, offset, PER_PAGE, SNIPPET_CHARS), signal);
      } catch (e) {
        // A server without prefix search refuses the star: ask again
        // as typed.
        if (e.status !== 400 || sent === q || signal.aborted) throw e;
        sent = q;
        body = await getJSON(searchURL(sent, offset, PER_PAGE, SNIPPET_CHARS), signal);
      }
      if (my !== seq) return;
      state.sent = sent;
      show(body);
    } catch (e) {
      if (my !== seq || e.name === 'AbortError') return;
      showError(e);
    } finally {
      if (my === seq) {
        document.body.classList.remove('busy');
        controller = null;
      }
    }
  }

  function clearResults() {
    state.result = null;
    state.selected = -1;
    list.replaceChildren();
    summary.textContent = '';
    errorBox.hidden = true;
    explainBtn.hidden = true;
    parsedBox.hidden = true;
    pager.hidden = true;
    help.hidden = false;
    document.body.classList.remove('busy', 'has-results');
  }

  function showError(e) {
    state.result = null;
    state.selected = -1;
    list.replaceChildren();
    pager.hidden = true;
    explainBtn.hidden = true;
    parsedBox.hidden = true;
    summary.textContent = '';
    errorBox.textContent = (e.status === 400 ? '查询有误 · '
      : e.status ? '服务出错 (' + e.status + ') · ' : '连不上服务 · ') + e.message;
    errorBox.hidden = false;
    help.hidden = false;
    document.body.classList.remove('has-results');
  }

  function show(body) {
    const query = body.query || {};
    const hits = Array.isArray(body.hits) ? body.hits : [];
    state.result = { query, hits };
    state.selected = -1;
    errorBox.hidden = true;
    help.hidden = hits.length > 0 || state.page > 1;
    document.body.classList.add('has-results');

    // summary: count, time
    summary.replaceChildren();
    const total = typeof query.total === 'number' ? query.total : null;
    const exact = query.total_exact !== false;
    const partials = hits.filter((h) => h.partial).length;
    if (total !== null && total > 0) {
      summary.append(el('strong', null, (exact ? '' : '约 ') + fmtNum(total)));
      summary.append(' 节完全匹配' + (exact ? '' : ' (about)'));
    } else if (hits.length) {
      summary.append('没有完全匹配的节，以下为部分匹配 · no full match, partial ones below');
    } else {
      summary.append(state.page > 1 ? '没有更多结果 · no more results' : '没有找到 · nothing found');
    }
    if (total && partials) summary.append(el('span', 'muted', ' · 另有部分匹配 partial matches follow'));
    if (state.page > 1) summary.append(el('span', 'muted', ' · 第 ' + state.page + ' 页'));
    const t = fmtTime(query.micros);
    if (t) summary.append(el('span', 'muted time', ' · ' + t));

    // how it was read
    parsedBox.textContent = query.parsed || '';
    explainBtn.hidden = !query.parsed;
    parsedBox.hidden = !(state.explain && query.parsed);
    explainBtn.setAttribute('aria-expanded', String(state.explain && !!query.parsed));

    list.replaceChildren(...hits.map(hitItem));
    list.start = hits.length && hits[0].rank ? hits[0].rank : (state.page - 1) * PER_PAGE + 1;

    showPager(total, hits.length);
  }

  function hitItem(hit, i) {
    const li = el('li', 'hit' + (hit.partial ? ' partial' : ''));
    li.dataset.rank = String(hit.rank);
    li.dataset.index = String(i);
    if (hit.section !== undefined) li.dataset.section = String(hit.section);

    const head = el('div', 'hit-head');
    head.append(el('span', 'rank', String(hit.rank)));
    const path = el('a', 'path');
    path.href = '#';
    path.setAttribute('role', 'button');
    path.setAttribute('aria-expanded', 'false');
    headingPath(hit).forEach((p, k) => {
      if (k) path.append(el('span', 'crumb-sep', '›'));
      path.append(el('span', k ? 'crumb' : 'crumb doc', p));
    });
    head.append(path);
    if (hit.partial) {
      const b = el('span', 'badge', '部分匹配');
      b.append(el('span', 'en', 'partial'));
      b.title = '这一节只含查询的一部分 · holds only some of the query\'s terms';
      head.append(b);
    }
    if (typeof hit.score === 'number') {
      const s = el('span', 'score', hit.score.toFixed(hit.score < 0.1 ? 3 : 2));
      s.title = '得分 score';
      head.append(s);
    }
    li.append(head);

    const snip = el('p', 'snippet');
    snip.append(highlighted(hit.snippet || '', hit.highlights));
    li.append(snip);

    const meta = el('div', 'meta');
    meta.append(el('span', 'source', hit.source || ''));
    if (hit.id !== undefined && hit.id !== null) meta.append(el('span', 'id', '#' + hit.id));
    if (typeof hit.section === 'number') meta.append(el('span', 'sec', '节 ' + hit.section));
    const open = el('button', 'open', '展开');
    open.type = 'button';
    open.append(el('span', 'en', 'open'));
    meta.append(open);
    li.append(meta);

    path.addEventListener('click', (ev) => {
      ev.preventDefault();
      select(i, false);
      toggleOpen(li, hit);
    });
    open.addEventListener('click', () => {
      select(i, false);
      toggleOpen(li, hit);
    });
    return li;
  }

  function showPager(total, shown) {
    const page = state.page;
    const known = total ? Math.ceil(total / PER_PAGE) : 0;
    const more = shown === PER_PAGE;
    pager.hidden = page === 1 && !more;
    prevBtn.disabled = page <= 1;
    nextBtn.disabled = !more;
    pagesBox.replaceChildren();
    const last = Math.max(known, page + (more ? 1 : 0));
    const from = Math.max(1, page - 3);
    const to = Math.min(last, page + 3);
    if (from > 1) pagesBox.append(pageLink(1), el('span', 'gap', '…'));
    for (let p = from; p <= to; p++) pagesBox.append(pageLink(p));
    if (to < last) pagesBox.append(el('span', 'gap', '…'));
  }

  function pageLink(p) {
    if (p === state.page) {
      const cur = el('span', 'page current', String(p));
      cur.setAttribute('aria-current', 'page');
      return cur;
    }
    const a = el('a', 'page', String(p));
    a.href = urlFor(state.q, p);
    a.addEventListener('click', (ev) => {
      ev.preventDefault();
      go(p);
    });
    return a;
  }

  function go(page) {
    run(state.q, page, true);
    window.scrollTo(0, 0);
  }

  // --- opening a hit --------------------------------------------------------

  async function toggleOpen(li, hit) {
    const old = li.querySelector('.excerpt');
    const path = li.querySelector('.path');
    const btn = li.querySelector('.open');
    if (old) {
      old.remove();
      li.classList.remove('opened');
      path.setAttribute('aria-expanded', 'false');
      btn.firstChild.textContent = '展开';
      btn.lastChild.textContent = 'open';
      return;
    }
    const pane = el('div', 'excerpt loading', '载入中… loading');
    li.querySelector('.snippet').after(pane);
    li.classList.add('opened');
    path.setAttribute('aria-expanded', 'true');
    btn.firstChild.textContent = '收起';
    btn.lastChild.textContent = 'close';
    const sent = state.sent || withPrefix(state.q);
    try {
      const body = await getJSON(searchURL(sent, hit.rank - 1, 1, OPEN_CHARS));
      const h = Array.isArray(body.hits) && body.hits[0];
      if (!pane.isConnected) return;
      pane.classList.remove('loading');
      pane.replaceChildren();
      if (!h) {
        pane.append(el('p', 'muted', '这一条已经不在了（索引变了？） · gone (the index changed?)'));
        return;
      }
      if (h.section !== hit.section || h.source !== hit.source) {
        pane.append(el('p', 'muted note', '索引已更新，这里是现在排第 ' + h.rank + ' 的一节 · the index changed'));
      }
      const text = el('div', 'excerpt-text');
      text.append(highlighted(h.snippet || '', h.highlights));
      pane.append(text);
      const info = [];
      if (h.format) info.push(h.format);
      if (h.encoding) info.push(h.encoding);
      if (typeof h.start === 'number' && typeof h.end === 'number') info.push('字节 ' + h.start + '–' + h.end);
      if (h.metadata && typeof h.metadata === 'object' && Object.keys(h.metadata).length) {
        info.push(JSON.stringify(h.metadata));
      }
      if (info.length) pane.append(el('p', 'excerpt-meta', info.join(' · ')));
    } catch (e) {
      if (!pane.isConnected) return;
      pane.classList.remove('loading');
      pane.replaceChildren(el('p', 'error', '打不开 · ' + e.message));
    }
  }

  // --- keyboard selection ---------------------------------------------------

  function hitItems() {
    return Array.from(list.querySelectorAll(':scope > .hit'));
  }

  function select(i, scroll) {
    const items = hitItems();
    items.forEach((li) => li.classList.remove('selected'));
    if (i < 0 || i >= items.length) {
      state.selected = -1;
      return;
    }
    state.selected = i;
    items[i].classList.add('selected');
    if (scroll) items[i].scrollIntoView({ block: 'nearest' });
  }

  function selectedPair() {
    const items = hitItems();
    if (state.selected < 0 || state.selected >= items.length || !state.result) return null;
    return [items[state.selected], state.result.hits[state.selected]];
  }

  document.addEventListener('keydown', (ev) => {
    if (ev.isComposing || ev.keyCode === 229) return; // an IME is composing
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const inBox = ev.target === box;
    const n = hitItems().length;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (!n || (!inBox && ev.target !== document.body && ev.target.closest('input,textarea'))) return;
      ev.preventDefault();
      let i = state.selected;
      if (ev.key === 'ArrowDown') i = i < 0 ? 0 : Math.min(n - 1, i + 1);
      else i = i <= 0 ? -1 : i - 1;
      select(i, true);
      if (i < 0) window.scrollTo(0, 0);
    } else if (ev.key === 'Enter') {
      const pair = selectedPair();
      if (pair && (inBox || ev.target === document.body)) {
        ev.preventDefault();
        toggleOpen(pair[0], pair[1]);
      }
    } else if (ev.key === 'Escape') {
      const pair = selectedPair();
      const opened = pair ? pair[0].querySelector('.excerpt') : list.querySelector('.excerpt');
      ev.preventDefault();
      if (opened) {
        const li = opened.closest('.hit');
        const idx = Number(li.dataset.index);
        toggleOpen(li, state.result.hits[idx]);
      } else if (state.selected >= 0) {
        select(-1, false);
      } else if (box.value !== '') {
        box.value = '';
        cancel();
        run('', 1, false);
      }
      box.focus();
    } else if (ev.key === '/' && !inBox && !ev.target.closest('input,textarea')) {
      ev.preventDefault();
      box.focus();
      box.select();
    }
  });

  // Enter in the box (the form's submit): search now, unless a hit is
  // selected (the keydown above opened it).
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (state.selected >= 0) return;
    run(box.value, 1, true);
  });

  // While an input method composes (pinyin being typed), wait for the
  // characters it commits.
  box.addEventListener('input', (ev) => {
    if (ev.isComposing) return;
    select(-1, false);
    schedule();
  });
  box.addEventListener('compositionend', () => {
    select(-1, false);
    schedule();
  });

  explainBtn.addEventListener('click', () => {
    state.explain = !state.explain;
    parsedBox.hidden = !state.explain || !parsedBox.textContent;
    explainBtn.setAttribute('aria-expanded', String(state.explain));
  });

  prevBtn.addEventListener('click', () => {
    if (state.page > 1) go(state.page - 1);
  });
  nextBtn.addEventListener('click', () => go(state.page + 1));

  window.addEventListener('popstate', () => fromURL());

  function fromURL() {
    const p = new URLSearchParams(location.search);
    const q = p.get('q') || '';
    const page = Math.max(1, parseInt(p.get('page') || '1', 10) || 1);
    box.value = q;
    run(q, page, false);
  }

  // --- the footer: the index's size ---------------------------------------

  async function loadStats() {
    const out = $('stats');
    try {
      const s = await getJSON('/stats');
      const parts = [];
      if (typeof s.documents === 'number') parts.push(fmtNum(s.documents) + ' 篇文档 documents');
      if (typeof s.sections === 'number') parts.push(fmtNum(s.sections) + ' 节 sections');
      out.textContent = parts.length ? '索引 · ' + parts.join(' · ') : '索引已就绪 · index ready';
    } catch (e) {
      out.textContent = '索引状态未知 · stats unavailable';
    }
  }

  fromURL();
  loadStats();
})();
