// The workshop wall screen (issue 16). Live over Server-Sent Events: a snapshot on connect,
// then an update a second with the tiles that changed. Reconnects by itself (the browser's
// EventSource retries a dropped connection; a refused one is looked at here). Read-only:
// nothing on this page sends anything but GETs. Every word comes from i18n/<lang>.json.
// Cheap with 200 laptops on the floor (bench/wall_load.sh measures it): events are applied
// once per animation frame (none while the screen is hidden), a tile writes only what changed,
// and the progress bars move by transform, which needs no layout.
'use strict';

(() => {
  const root = document.documentElement;
  const params = new URLSearchParams(location.search);
  const token = params.get('k') || '';
  const tiles = new Map(); // id -> tile from the server
  const elements = new Map(); // id -> { li, and its parts by class name }
  const pending = { tiles: new Map(), gone: new Set(), counts: undefined, frame: 0 };
  const formats = new Map(); // "lang digits" -> Intl.NumberFormat (slow to make)
  let strings = {};
  let counts = null;
  let source = null;
  let retryTimer = null;
  // What applying the server's events costs in this browser (constant memory: a kiosk runs for
  // months): read by the e2e test, and by anyone in the browser's console. `events` counts the
  // events received, the times are those of reading them and of the frames applying them.
  const stats = { events: 0, totalMs: 0, maxMs: 0 };
  window.reviveWallStats = stats;

  function timed(handler, isEvent) {
    return (e) => {
      const t0 = performance.now();
      handler(e);
      const ms = performance.now() - t0;
      if (isEvent) stats.events += 1;
      stats.totalMs += ms;
      stats.maxMs = Math.max(stats.maxMs, ms);
    };
  }

  const $ = (id) => document.getElementById(id);

  function t(key, vars) {
    let s = Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key;
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.split('{' + k + '}').join(String(v));
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
    const digits = v < 10 ? 1 : 0;
    const key = root.lang + ' ' + digits;
    if (!formats.has(key)) formats.set(key, new Intl.NumberFormat(root.lang, { maximumFractionDigits: digits }));
    return t('rate', { value: formats.get(key).format(v), unit: units[u] });
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

  // Writes only what changed: an unchanged text or attribute left alone costs no style or
  // layout work in the frame.
  function setText(el, text) {
    if (el.textContent !== text) el.textContent = text;
  }

  function setAttr(el, name, value) {
    if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  }

  function fill(parts, tile) {
    const { li } = parts;
    const className = 'tile ' + tile.status;
    if (li.className !== className) li.className = className;
    setAttr(li, 'data-id', String(tile.id));
    setAttr(li, 'data-stage', tile.stage);
    setText(parts.model, tile.model || tile.vendor || t('unknown_model'));
    setText(parts.label, tile.label);
    setText(parts.grade, tile.grade ? tile.grade : '');
    setAttr(parts.grade, 'title', tile.grade ? t('grade') : '');
    setText(parts.stage, tile.status === 'failed' ? t('status.failed') : t('stage.' + tile.stage));
    const fraction = typeof tile.fraction === 'number' ? tile.fraction : null;
    if (parts.bar.hidden !== (fraction === null)) parts.bar.hidden = fraction === null;
    const percent = fraction === null ? 0 : Math.round(fraction * 100);
    setAttr(parts.bar, 'aria-valuenow', String(percent));
    setAttr(parts.bar, 'aria-label', t('progress'));
    const scale = 'scaleX(' + Math.min(1, Math.max(0, fraction || 0)).toFixed(3) + ')';
    if (parts.fill.style.transform !== scale) parts.fill.style.transform = scale;
    setText(parts.rate,
      typeof tile.rate === 'number' ? bytesPerSecond(tile.rate) : fraction !== null ? percent + '%' : '');
    setText(parts.eta, typeof tile.eta_s === 'number' ? t('eta', { time: duration(tile.eta_s) }) : '');
    setText(parts.source, sourceOf(tile));
    showReason(parts, reasonOf(tile));
  }

  function showReason(parts, r) {
    const key = r ? r.what + '\n' + r.why : '';
    if (parts.reasonKey === key) return;
    parts.reasonKey = key;
    const el = parts.reason;
    el.textContent = '';
    if (!r) return;
    el.append(r.what);
    if (r.why) {
      const why = document.createElement('span');
      why.className = 'why';
      why.textContent = r.why;
      el.append(why);
    }
  }

  function newTile(id) {
    const li = $('tile-template').content.firstElementChild.cloneNode(true);
    const parts = { li, reasonKey: '' };
    for (const name of ['model', 'label', 'grade', 'stage', 'bar', 'fill', 'rate', 'eta', 'source', 'reason'])
      parts[name] = li.querySelector('.' + name);
    // Tiles stay in the order laptops arrived (by id): a volunteer finds theirs where it was.
    // Only a new tile needs placing; the others keep their places.
    let before = null;
    let beforeId = Infinity;
    for (const [other, p] of elements) {
      if (other > id && other < beforeId) [before, beforeId] = [p.li, other];
    }
    elements.set(id, parts);
    $('tiles').insertBefore(li, before);
    return parts;
  }

  // A tile out of sight (a TV shows a dozen of 200) is filled when it comes into sight: the
  // work an update costs follows what is on the screen, not what is on the floor.
  const inSight = new Set(); // ids of the tiles on (or just off) the screen
  const stale = new Set(); // ids of tiles that changed while out of sight
  const sight = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const id = Number(e.target.dataset.id);
      if (!e.isIntersecting) {
        inSight.delete(id);
      } else {
        inSight.add(id);
        if (stale.delete(id)) fill(elements.get(id), tiles.get(id));
      }
    }
  }, { rootMargin: '200px' });

  function refill(id) {
    if (inSight.has(id)) fill(elements.get(id), tiles.get(id));
    else stale.add(id);
  }

  function showTile(tile) {
    tiles.set(tile.id, tile);
    if (elements.has(tile.id)) return refill(tile.id);
    const parts = newTile(tile.id);
    fill(parts, tile);
    sight.observe(parts.li);
  }

  function removeTile(id) {
    tiles.delete(id);
    stale.delete(id);
    inSight.delete(id);
    const parts = elements.get(id);
    if (parts) {
      sight.unobserve(parts.li);
      parts.li.remove();
    }
    elements.delete(id);
  }

  function showCounts() {
    for (const el of document.querySelectorAll('[data-count]')) {
      setText(el, counts ? String(counts[el.dataset.count]) : '–');
    }
    setText($('today'), counts ? t('counts.done_today', { n: counts.done_today }) : '');
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
    for (const id of tiles.keys()) refill(id);
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

  // An event is kept until the next animation frame applies it, as the latest tile of each
  // laptop: a burst costs one frame's work, and a hidden screen (no frames) holds at most one
  // tile per laptop and catches up at once when shown.
  function schedule() {
    if (!pending.frame) pending.frame = requestAnimationFrame(timed(applyPending));
  }

  function applyPending() {
    pending.frame = 0;
    for (const id of pending.gone) removeTile(id);
    for (const tile of pending.tiles.values()) showTile(tile);
    pending.gone.clear();
    pending.tiles.clear();
    if (pending.counts !== undefined) {
      counts = pending.counts;
      pending.counts = undefined;
      showCounts();
    }
  }

  function onSnapshot(e) {
    const s = JSON.parse(e.data);
    $('workshop').textContent = s.workshop || 'Revive';
    // The snapshot replaces whatever was shown or waiting to be.
    pending.tiles.clear();
    pending.gone = new Set(tiles.keys());
    for (const tile of s.tiles) {
      pending.gone.delete(tile.id);
      pending.tiles.set(tile.id, tile);
    }
    pending.counts = s.counts;
    schedule();
    showConnection(true);
  }

  function onUpdate(e) {
    const u = JSON.parse(e.data);
    for (const id of u.gone) {
      pending.tiles.delete(id);
      pending.gone.add(id);
    }
    for (const tile of u.tiles) {
      pending.gone.delete(tile.id);
      pending.tiles.set(tile.id, tile);
    }
    pending.counts = u.counts;
    schedule();
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
    source.addEventListener('snapshot', timed(onSnapshot, true));
    source.addEventListener('update', timed(onUpdate, true));
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
