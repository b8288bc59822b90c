// The workshop wall screen (issue 16). Live over Server-Sent Events: a snapshot on connect,
// then an update a second with the tiles that changed. Reconnects by itself (the browser's
// EventSource retries a dropped connection; a refused one is looked at here). Read-only:
// nothing on this page sends anything but GETs. Every word comes from i18n/<lang>.json.
'use strict';

(() => {
  const root = document.documentElement;
  const params = new URLSearchParams(location.search);
  const token = params.get('k') || '';
  const tiles = new Map(); // id -> tile from the server
  const elements = new Map(); // id -> <li>
  let strings = {};
  let counts = null;
  let source = null;
  let retryTimer = null;
  // What applying the server's events costs in this browser (constant memory: a kiosk runs for
  // months): read by the e2e test, and by anyone in the browser's console.
  const stats = { events: 0, totalMs: 0, maxMs: 0 };
  window.reviveWallStats = stats;

  function timed(handler) {
    return (e) => {
      const t0 = performance.now();
      handler(e);
      const ms = performance.now() - t0;
      stats.events += 1;
      stats.totalMs += ms;
      stats.maxMs = Math.max(stats.maxMs, ms);
    };
  }

  const $ = (id) => document.getElementById(id);

  function t(key, vars) {
    let s = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split('{' + k + '}').join(String(v));
    return s;
  }

  function bytesPerSecond(rate) {
    const units = ['B', 'kB', 'MB', 'GB'];
    let v = rate;
    let u = 0;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u += 1;
    }
    const n = new Intl.NumberFormat(root.lang, { maximumFractionDigits: v < 10 ? 1 : 0 });
    return t('rate', { value: n.format(v), unit: units[u] });
  }

  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return t('eta.seconds', { s });
    const m = Math.round(s / 60);
    if (m < 60) return t('eta.minutes', { m });
    return t('eta.hours', { h: Math.floor(m / 60), m: m % 60 });
  }

  function reasonOf(tile) {
    const f = tile.failure;
    if (!f) return null;
    const step = f.step ? t('stage.' + f.step) : '';
    return { what: t('failure.' + f.kind, { step }), why: f.detail || '' };
  }

  function sourceOf(tile) {
    const s = tile.source;
    if (!s) return '';
    if (s.kind === 'peer') return t('source.peer', { peer: s.peer });
    if (s.kind === 'queued') return t('source.queued', { place: s.place });
    return t('source.server');
  }

  function fill(el, tile) {
    el.className = 'tile ' + tile.status;
    el.dataset.id = tile.id;
    el.dataset.stage = tile.stage;
    el.querySelector('.model').textContent = tile.model || tile.vendor || t('unknown_model');
    el.querySelector('.label').textContent = tile.label;
    el.querySelector('.grade').textContent = tile.grade ? tile.grade : '';
    el.querySelector('.grade').title = tile.grade ? t('grade') : '';
    el.querySelector('.stage').textContent =
      tile.status === 'failed' ? t('status.failed') : t('stage.' + tile.stage);
    const bar = el.querySelector('.bar');
    const fraction = typeof tile.fraction === 'number' ? tile.fraction : null;
    bar.hidden = fraction === null;
    const percent = fraction === null ? 0 : Math.round(fraction * 100);
    bar.setAttribute('aria-valuenow', String(percent));
    bar.setAttribute('aria-label', t('progress'));
    el.querySelector('.fill').style.width = percent + '%';
    el.querySelector('.rate').textContent =
      typeof tile.rate === 'number' ? bytesPerSecond(tile.rate) : fraction !== null ? percent + '%' : '';
    el.querySelector('.eta').textContent =
      typeof tile.eta_s === 'number' ? t('eta', { time: duration(tile.eta_s) }) : '';
    el.querySelector('.source').textContent = sourceOf(tile);
    const reason = el.querySelector('.reason');
    reason.textContent = '';
    const r = reasonOf(tile);
    if (r) {
      reason.append(r.what);
      if (r.why) {
        const why = document.createElement('span');
        why.className = 'why';
        why.textContent = r.why;
        reason.append(why);
      }
    }
  }

  function place(id) {
    // Tiles stay in the order laptops arrived (by id): a volunteer finds theirs where it was.
    const list = $('tiles');
    const el = elements.get(id);
    let before = null;
    for (const [other, otherEl] of elements) {
      if (other > id && (!before || other < Number(before.dataset.id))) before = otherEl;
    }
    if (el.parentNode !== list || el.nextSibling !== before) list.insertBefore(el, before);
  }

  function showTile(tile) {
    tiles.set(tile.id, tile);
    let el = elements.get(tile.id);
    if (!el) {
      el = $('tile-template').content.firstElementChild.cloneNode(true);
      elements.set(tile.id, el);
    }
    fill(el, tile);
    place(tile.id);
  }

  function removeTile(id) {
    tiles.delete(id);
    const el = elements.get(id);
    if (el) el.remove();
    elements.delete(id);
  }

  function showCounts() {
    for (const el of document.querySelectorAll('[data-count]')) {
      el.textContent = counts ? String(counts[el.dataset.count]) : '–';
    }
    $('today').textContent = counts ? t('counts.done_today', { n: counts.done_today }) : '';
    $('empty').hidden = tiles.size > 0 || root.dataset.access !== 'ok';
  }

  function showConnection(live) {
    const conn = $('conn');
    conn.textContent = live ? t('conn.live') : t('conn.lost');
    conn.classList.toggle('lost', !live);
  }

  function renderAll() {
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
    for (const b of document.querySelectorAll('#langs button'))
      b.setAttribute('aria-pressed', String(b.dataset.lang === root.lang));
    document.title = t('title');
    for (const tile of tiles.values()) fill(elements.get(tile.id), tile);
    showCounts();
    if (root.dataset.access === 'ok') showConnection(source && source.readyState === 1);
  }

  async function useLanguage(lang) {
    const r = await fetch('/wall/assets/' + encodeURIComponent(lang) + '.json');
    if (!r.ok) return;
    strings = await r.json();
    root.lang = lang;
    renderAll();
  }

  function onSnapshot(e) {
    const s = JSON.parse(e.data);
    $('workshop').textContent = s.workshop || 'Revive';
    const seen = new Set(s.tiles.map((tile) => tile.id));
    for (const id of [...tiles.keys()]) if (!seen.has(id)) removeTile(id);
    for (const tile of s.tiles) showTile(tile);
    counts = s.counts;
    showCounts();
    showConnection(true);
  }

  function onUpdate(e) {
    const u = JSON.parse(e.data);
    for (const id of u.gone) removeTile(id);
    for (const tile of u.tiles) showTile(tile);
    counts = u.counts;
    showCounts();
  }

  function refused() {
    root.dataset.access = 'refused';
    $('refused').hidden = false;
    $('conn').textContent = '';
    showCounts();
  }

  // A stream the server refused or ended (revoked link, too many screens, shutting down): the
  // page itself says whether the link still opens the wall.
  async function afterClose() {
    try {
      const r = await fetch(location.pathname + location.search, { cache: 'no-store' });
      if (r.status === 401) return refused();
    } catch (err) {
      // the server is away: try again below
    }
    retryTimer = setTimeout(connect, 5000);
  }

  function connect() {
    clearTimeout(retryTimer);
    // Without a kiosk link, the operator pages' session cookie (same origin) lets it in.
    source = new EventSource(token ? '/wall/events?k=' + encodeURIComponent(token) : '/wall/events');
    source.addEventListener('snapshot', timed(onSnapshot));
    source.addEventListener('update', timed(onUpdate));
    source.onopen = () => showConnection(true);
    source.onerror = () => {
      showConnection(false);
      if (source.readyState === EventSource.CLOSED) afterClose();
    };
  }

  function switchLanguage(lang) {
    params.set('lang', lang);
    history.replaceState(null, '', location.pathname + '?' + params.toString());
    useLanguage(lang);
  }

  document.addEventListener('DOMContentLoaded', async () => {
    for (const b of document.querySelectorAll('#langs button'))
      b.addEventListener('click', () => switchLanguage(b.dataset.lang));
    await useLanguage(root.lang || 'en');
    if (root.dataset.access !== 'ok') return refused();
    connect();
  });
})();
