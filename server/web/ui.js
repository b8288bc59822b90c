// The operator pages (issue 16): log in, the laptop list with its filters, one page per laptop
// with its actions. The session is an HttpOnly cookie this script never sees; every request
// that changes something carries the session's CSRF token (from /ui/session) in X-CSRF-Token.
// Every text is set with textContent (no HTML from data); every word comes from
// i18n/<lang>.json, as on the wall.
'use strict';

(() => {
  const root = document.documentElement;
  const params = new URLSearchParams(location.search);
  const $ = (id) => document.getElementById(id);
  let strings = {};
  let csrf = null;
  let operator = null;
  let current = null; // the laptop page shown: its data from the server
  let refreshTimer = null;
  let events = null; // the operators' event stream while a laptop's page is open
  // A laptop's page follows its run from the event stream (a reload at most this often), and
  // reloads this often regardless, should the stream be down.
  const kReloadAfterEventMs = 1000;
  const kRefreshMs = 30000;

  function has(key) {
    return Object.prototype.hasOwnProperty.call(strings, key);
  }

  function t(key, vars) {
    let s = has(key) ? strings[key] : key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split('{' + k + '}').join(String(v));
    return s;
  }

  // The values a wording is filled from: strings and numbers only (they come from an agent).
  function wordingVars(values) {
    const vars = Object.create(null);
    if (!values || typeof values !== 'object') return vars;
    for (const [k, v] of Object.entries(values))
      if (typeof v === 'string' || typeof v === 'number') vars[k] = v;
    return vars;
  }

  // A grading's reasons in the page's language: each from its code (ui.reason.<code>, filled
  // from its values) where the agent sent one this page words, else the agent's English sentence
  // (agents before reason codes, a code newer than this page). A check's own reason inside it
  // ("not checked: speakers (...)") likewise, from ui.check_reason.<why_code>.
  function reasonText(sentence, coded) {
    if (!coded || typeof coded.code !== 'string' || !has('ui.reason.' + coded.code)) return String(sentence);
    const vars = wordingVars(coded.vars);
    if (typeof vars.part === 'string' && has('ui.part.' + vars.part)) vars.part = t('ui.part.' + vars.part);
    if (typeof vars.why_code === 'string' && has('ui.check_reason.' + vars.why_code))
      vars.why = t('ui.check_reason.' + vars.why_code, wordingVars(coded.vars.why_vars));
    const why = t('ui.reason.' + coded.code, vars);
    if (coded.at_most === 'reject') return t('ui.reason.reject', { why });
    return typeof coded.at_most === 'string' ? t('ui.reason.at_most', { grade: coded.at_most, why }) : why;
  }

  function reasonTexts(sentences, codes) {
    const coded = Array.isArray(codes) ? codes : [];
    return (Array.isArray(sentences) ? sentences : []).map((s, i) => reasonText(s, coded[i]));
  }

  // "Suitable for" from the grade and the Windows 11 verdict; the agent's English otherwise.
  function suitableText(test) {
    if (!has('ui.suitable.' + test.grade) || !test.windows11) return test.suitable_for;
    return t(test.windows11.ready ? 'ui.suitable.windows11' : 'ui.suitable.linux', { use: t('ui.suitable.' + test.grade) });
  }

  function windows11Text(w) {
    if (w.ready) return t('ui.yes');
    const why = reasonTexts(w.reasons, w.reason_codes);
    return why.length ? t('ui.test.windows11_not', { reasons: why.join('; ') }) : t('ui.no');
  }

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function when(seconds) {
    if (typeof seconds !== 'number') return '';
    return new Date(seconds * 1000).toLocaleString(root.lang);
  }

  function bytes(n) {
    if (typeof n !== 'number') return '';
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let v = n;
    let u = 0;
    while (v >= 1000 && u < units.length - 1) {
      v /= 1000;
      u += 1;
    }
    return new Intl.NumberFormat(root.lang, { maximumFractionDigits: v < 10 ? 1 : 0 }).format(v) + ' ' + units[u];
  }

  // "HP Stream 11", not "HP HP Stream 11": many models name their vendor already.
  function modelOf(l) {
    const model = l.model || '';
    const vendor = l.vendor || '';
    if (!model) return vendor || t('unknown_model');
    return !vendor || model.toLowerCase().startsWith(vendor.toLowerCase()) ? model : vendor + ' ' + model;
  }

  // The refusals whose server detail carries data the sentence by code cannot: the field, key
  // or thing concerned ("grading_policy: memory.c_below_mib must be a number"). The server words
  // its details in English; for the other codes the sentence says all an operator can act on,
  // so a Dutch or French page leaves the English out (an English page shows it).
  const detailNamesSomething = new Set(['invalid_input', 'not_found', 'conflict', 'already_exists',
    'unsupported', 'too_large', 'corrupt', 'bad_signature']);

  // A refusal in the operator's language: the sentence for its kind (the server's stable "code")
  // from the strings, led by the page's own words when given (a key with {kind}), then, where it
  // names something (above), the server's detail, marked as the server's.
  function errorText(r, key) {
    const b = r.body || {};
    const kind = t('ui.error.' + (b.code || 'status'), { status: r.status });
    const lead = key ? t(key, { kind }) : kind.charAt(0).toUpperCase() + kind.slice(1);
    const detail = b.error && (root.lang === 'en' || !b.code || detailNamesSomething.has(b.code));
    return detail ? lead + ' ' + t('ui.error.detail', { detail: b.error }) : lead;
  }

  // A request to the server; a 401 shows the login. Returns {ok, status, body}.
  async function call(method, path, body) {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
    const r = await fetch(path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try {
      data = await r.json();
    } catch (err) {
      data = null;
    }
    if (r.status === 401 && path !== '/ui/login') showLogin();
    return { ok: r.ok, status: r.status, body: data };
  }

  function show(section) {
    for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== section;
    $('nav').hidden = section === 'login';
    $('logout').hidden = section === 'login';
    $('who').textContent = section === 'login' || !operator ? '' : t('ui.logged_in_as', { name: operator });
    if (section !== 'laptop') {
      clearTimeout(refreshTimer);
      if (events) events.close();
      events = null;
      current = null;
    }
  }

  function showLogin() {
    csrf = null;
    operator = null;
    show('login');
    document.title = t('ui.login.title');
    $('login-name').focus();
  }

  // ---- the list
  function filterQuery() {
    const q = new URLSearchParams();
    for (const [key, id] of [['q', 'f-q'], ['state', 'f-state'], ['batch', 'f-batch'], ['grade', 'f-grade']]) {
      const v = $(id).value.trim();
      if (v) q.set(key, v);
    }
    return q;
  }

  async function showList() {
    show('list');
    document.title = t('ui.laptops.title');
    const r = await call('GET', '/api/v1/laptops?' + filterQuery().toString());
    if (!r.ok) {
      $('list-error').textContent = errorText(r);
      return;
    }
    $('list-error').textContent = '';
    const body = $('laptops').tBodies[0];
    body.textContent = '';
    for (const l of r.body) {
      const tr = el('tr', null, l.state);
      tr.dataset.id = l.id;
      tr.append(el('td', l.id));
      const model = el('td');
      const a = el('a', modelOf(l));
      a.href = '#/laptops/' + l.id;
      model.append(a);
      tr.append(model, el('td', l.serial), el('td', l.batch || ''),
        el('td', t('ui.state.' + l.state) + (l.stage && l.state === 'running' ? ' · ' + t('stage.' + l.stage) : '')),
        el('td', l.grade || ''));
      body.append(tr);
    }
    $('list-empty').hidden = r.body.length > 0;
  }

  // ---- one laptop
  function definitions(dl, pairs) {
    dl.textContent = '';
    for (const [key, value] of pairs) {
      if (value === null || value === undefined || value === '') continue;
      dl.append(el('dt', t(key)), el('dd', value));
    }
  }

  function failedStep(summary) {
    return (summary.steps || []).find((s) => s.state === 'failed' || s.state === 'cancelled') || null;
  }

  function renderLaptop() {
    const p = current;
    const s = p.summary;
    document.title = t('ui.laptop.title', { id: s.id });
    $('laptop-title').textContent = modelOf(s) + ' · ' + (s.serial || '#' + s.id);
    const stateEl = $('laptop-state');
    stateEl.className = 'state ' + s.state;
    const step = failedStep(s);
    stateEl.textContent = t('ui.state.' + s.state)
      + (s.current && s.state === 'running' ? ' · ' + t('stage.' + s.current.kind) : '')
      + (step && step.error ? ' · ' + t('stage.' + step.kind) + ': ' + step.error : '');
    const running = s.state === 'running';
    const cur = s.current;
    const button = (a) => document.querySelector('#actions [data-action="' + a + '"]');
    button('retry').disabled = !step;
    button('skip').disabled = !cur || !['pending', 'running', 'failed'].includes(cur.state);
    button('cancel').disabled = !(running || s.state === 'failed');
    button('restart').disabled = running;

    const inv = p.inventory || {};
    const cpu = inv.cpu || {};
    const battery = (inv.batteries || [])[0];
    definitions($('inventory'), [
      ['ui.inv.cpu', cpu.model ? cpu.model + (cpu.cores ? ' (' + cpu.cores + '/' + cpu.threads + ')' : '') : null],
      ['ui.inv.memory', typeof inv.memory_mib === 'number' ? bytes(inv.memory_mib * 1048576) : null],
      ['ui.inv.disks', (inv.disks || []).map((d) => [d.model, bytes(d.size_bytes), d.transport].filter(Boolean).join(' ')).join('; ')],
      ['ui.inv.battery', battery && typeof battery.health_pct === 'number' ? battery.health_pct + ' %' : null],
      ['ui.inv.firmware', inv.firmware ? inv.firmware.mode + (inv.firmware.secure_boot ? ', Secure Boot' : '') : null],
      ['ui.batch', s.batch],
      ['ui.workflow', s.workflow],
    ]);

    const test = p.test;
    $('grade').textContent = test && test.grade ? t('ui.grade', { grade: test.grade }) : t('ui.none_yet');
    const reasons = $('reasons');
    reasons.textContent = '';
    for (const r of test ? reasonTexts(test.reasons, test.reason_codes) : []) reasons.append(el('li', r));
    const tests = (test && test.tests) || {};
    definitions($('figures'), [
      ['ui.test.status', test ? t('ui.status.' + test.status) + (test.error ? ': ' + test.error : '') : null],
      ['ui.test.cpu', tests.cpu && typeof tests.cpu.multi_score === 'number'
        ? t('ui.test.cpu_score', { single: Math.round(tests.cpu.single_score), multi: Math.round(tests.cpu.multi_score) }) : null],
      ['ui.test.memory', tests.memory && typeof tests.memory.bandwidth_mb_s === 'number'
        ? Math.round(tests.memory.bandwidth_mb_s) + ' MB/s' + (tests.memory.errors ? ' · ' + t('ui.test.errors', { n: tests.memory.errors }) : '') : null],
      ['ui.test.disk', tests.disk_read && typeof tests.disk_read.mb_s === 'number' ? Math.round(tests.disk_read.mb_s) + ' MB/s' : null],
      ['ui.test.windows11', test && test.windows11 ? windows11Text(test.windows11) : null],
      ['ui.test.suitable', test ? suitableText(test) : null],
    ]);

    const wipe = $('wipe');
    wipe.textContent = '';
    if (!p.wipe) wipe.append(el('li', t('ui.none_yet')));
    else for (const d of p.wipe.drives) {
      wipe.append(el('li', [d.model || d.name, d.serial, d.method, d.nist_level, d.verification,
        t('ui.result.' + d.result)].filter(Boolean).join(' · ')));
    }
    const certs = $('certificates');
    certs.textContent = '';
    if (p.certificates.length === 0) certs.append(el('li', t('ui.none_yet')));
    for (const c of p.certificates) {
      const li = el('li', t('ui.cert.' + c.kind) + ' · ' + t('ui.result.' + c.result) + ' · ' + when(c.created_at) + ' ');
      for (const [label, suffix] of [['JSON', ''], ['PDF', '/pdf']]) {
        const a = el('a', label);
        a.href = '/api/v1/certificates/' + encodeURIComponent(c.id) + suffix;
        a.setAttribute('download', c.id + (suffix ? '.pdf' : '.json'));
        li.append(' ', a);
      }
      certs.append(li);
    }

    const d = p.deploy;
    definitions($('deploy'), d ? [
      ['ui.test.status', t('ui.status.' + d.status) + (d.error ? ': ' + d.error : '')],
      ['ui.deploy.image', d.image],
      ['ui.deploy.written', bytes(d.bytes_written)],
      ['ui.deploy.when', when(d.recorded_at)],
    ] : [['ui.test.status', t('ui.none_yet')]]);

    const steps = $('steps');
    steps.textContent = '';
    for (const st of s.steps || []) {
      const li = el('li', t('stage.' + st.kind) + ' · ' + t('ui.step.' + st.state)
        + (st.attempt > 1 ? ' · ' + t('ui.attempt', { n: st.attempt }) : ''));
      li.dataset.state = st.state;
      if (st.state === 'failed') li.className = 'failed-text';
      steps.append(li);
    }
    const timeline = $('timeline');
    timeline.textContent = '';
    for (const e of p.timeline.slice().reverse()) {
      const li = el('li');
      const data = e.data || {};
      // What the event was about: the step's kind, who did it, what went wrong.
      const details = [data.kind ? t('stage.' + data.kind) : null, data.operator, data.error]
        .filter((x) => typeof x === 'string' && x !== '');
      li.append(el('time', when(e.at)), t('ui.event.' + e.kind) + (details.length ? ' (' + details.join(' · ') + ')' : ''));
      if (e.kind === 'step-failed' || e.kind === 'step-timed-out') li.className = 'failed-text';
      timeline.append(li);
    }
    renderWhereabouts(p.whereabouts || {});
  }

  async function loadLaptop(id) {
    clearTimeout(refreshTimer);
    const r = await call('GET', '/api/v1/laptops/' + encodeURIComponent(id));
    if (!r.ok) {
      $('action-result').textContent = errorText(r);
      return;
    }
    if (location.hash !== '#/laptops/' + id) return; // the operator went elsewhere meanwhile
    current = r.body;
    renderLaptop();
    refreshTimer = setTimeout(() => loadLaptop(id), kRefreshMs);
  }

  // Reloads the page shown when an event is about its laptop (same origin: the session cookie
  // goes with the stream), at most once per kReloadAfterEventMs.
  function follow(id) {
    if (events) events.close();
    events = new EventSource('/api/v1/events/stream');
    let pending = false;
    const onEvent = (e) => {
      let about = null;
      try {
        const d = JSON.parse(e.data);
        about = d.device !== undefined ? d.device : d.id;
      } catch (err) {
        return;
      }
      if (String(about) !== String(id) || pending) return;
      pending = true;
      setTimeout(() => {
        pending = false;
        if (location.hash === '#/laptops/' + id) loadLaptop(id);
      }, kReloadAfterEventMs);
    };
    events.addEventListener('device', onEvent);
    events.addEventListener('progress', onEvent);
  }

  function showLaptop(id) {
    show('laptop');
    $('action-result').textContent = '';
    follow(id);
    loadLaptop(id);
  }

  // Asks before an action that destroys or stops something; resolves true to go on.
  function confirmAction(text) {
    const dialog = $('confirm');
    $('confirm-text').textContent = text;
    return new Promise((resolve) => {
      const done = (yes) => {
        $('confirm-yes').onclick = null;
        $('confirm-no').onclick = null;
        dialog.close();
        resolve(yes);
      };
      $('confirm-yes').onclick = () => done(true);
      $('confirm-no').onclick = () => done(false);
      dialog.oncancel = () => done(false);
      dialog.showModal();
      $('confirm-no').focus();
    });
  }

  const kDestructiveSteps = ['wipe', 'deploy'];

  async function act(action) {
    if (!current) return;
    const s = current.summary;
    const step = action === 'retry' ? failedStep(s) : s.current;
    // Restart, cancel and skip always ask; a retry asks when the step writes over the disks.
    const asks = action !== 'retry' || (step && kDestructiveSteps.includes(step.kind));
    if (asks) {
      const what = step ? t('stage.' + step.kind) : '';
      if (!(await confirmAction(t('ui.confirm.' + action, { step: what, id: s.id })))) return;
    }
    const path = action === 'retry' || action === 'skip'
      ? '/api/v1/steps/' + step.id + '/' + action
      : '/api/v1/devices/' + s.id + '/' + action;
    const r = await call('POST', path);
    $('action-result').textContent = r.ok ? t('ui.done.' + action)
      : errorText(r);
    loadLaptop(s.id);
  }

  // ---- partner organisations, hand-over and loans (issue 16)
  function errorOf(r) {
    return errorText(r);
  }

  let editing = null; // the organisation the form edits (null: a new one)

  function editOrganisation(o) {
    editing = o;
    $('org-form-title').textContent = o ? t('ui.org.editing', { name: o.name }) : t('ui.org.new');
    $('org-name').value = o ? o.name : '';
    $('org-contact').value = o ? o.contact : '';
    $('org-kind').value = o ? o.kind : 'library';
    $('org-cancel').hidden = !o;
    $('org-error').textContent = '';
    if (o) $('org-name').focus();
  }

  async function showPartners() {
    show('partners');
    document.title = t('ui.partners.title');
    const r = await call('GET', '/api/v1/organisations');
    if (!r.ok) {
      $('org-error').textContent = errorOf(r);
      return;
    }
    const body = $('organisations').tBodies[0];
    body.textContent = '';
    for (const o of r.body) {
      const tr = el('tr');
      tr.dataset.id = o.id;
      const edit = el('button', t('ui.org.edit'));
      edit.type = 'button';
      edit.addEventListener('click', () => editOrganisation(o));
      const actions = el('td');
      actions.append(edit);
      tr.append(el('td', o.name), el('td', t('ui.kind.' + o.kind)), el('td', o.contact), actions);
      body.append(tr);
    }
    $('partners-empty').hidden = r.body.length > 0;
  }

  async function saveOrganisation(e) {
    e.preventDefault();
    const body = { name: $('org-name').value.trim(), contact: $('org-contact').value.trim(), kind: $('org-kind').value };
    const r = editing
      ? await call('POST', '/api/v1/organisations/' + editing.id, body)
      : await call('POST', '/api/v1/organisations', body);
    if (!r.ok) {
      $('org-error').textContent = errorOf(r);
      return;
    }
    editOrganisation(null);
    $('org-error').textContent = t('ui.org.saved');
    showPartners();
  }

  function listLinks(id) {
    const td = el('td');
    for (const format of ['pdf', 'csv']) {
      const a = el('a', format.toUpperCase());
      a.href = '/api/v1/handovers/' + id + '/list?format=' + format;
      a.setAttribute('download', 'handover-' + id + '.' + format);
      td.append(a, ' ');
    }
    return td;
  }

  async function showHandover() {
    show('handover');
    document.title = t('ui.handover.title');
    const [orgs, ready, done] = await Promise.all([call('GET', '/api/v1/organisations'),
      call('GET', '/api/v1/handovers/candidates'), call('GET', '/api/v1/handovers')]);
    if (!orgs.ok || !ready.ok || !done.ok) {
      $('handover-result').textContent = errorOf([orgs, ready, done].find((r) => !r.ok));
      return;
    }
    const select = $('handover-org');
    const chosen = select.value;
    while (select.options.length > 1) select.remove(1);
    for (const o of orgs.body) {
      const opt = el('option', o.name + ' (' + t('ui.kind.' + o.kind) + ')');
      opt.value = o.id;
      select.append(opt);
    }
    select.value = chosen;
    const rows = $('candidates').tBodies[0];
    rows.textContent = '';
    for (const l of ready.body) {
      const tr = el('tr');
      const box = el('input');
      box.type = 'checkbox';
      box.value = l.id;
      box.setAttribute('aria-label', modelOf(l) + ' ' + (l.serial || l.id));
      const pick = el('td');
      pick.append(box);
      tr.append(pick, el('td', l.id), el('td', modelOf(l)), el('td', l.serial), el('td', l.batch || ''), el('td', l.grade || ''));
      rows.append(tr);
    }
    $('candidates-all').checked = false;
    $('candidates-empty').hidden = ready.body.length > 0;
    const list = $('handovers').tBodies[0];
    list.textContent = '';
    for (const h of done.body) {
      const tr = el('tr');
      tr.dataset.id = h.id;
      tr.append(el('td', h.id), el('td', when(h.at)), el('td', h.organisation.name), el('td', h.operator),
        el('td', h.laptops), listLinks(h.id));
      list.append(tr);
    }
    $('handovers-empty').hidden = done.body.length > 0;
  }

  async function handOver(e) {
    e.preventDefault();
    const select = $('handover-org');
    const laptops = [...document.querySelectorAll('#candidates tbody input:checked')].map((b) => Number(b.value));
    if (!select.value || laptops.length === 0) {
      $('handover-result').textContent = t('ui.handover.pick');
      return;
    }
    const org = select.options[select.selectedIndex].textContent;
    if (!(await confirmAction(t('ui.handover.confirm', { n: laptops.length, org })))) return;
    const r = await call('POST', '/api/v1/handovers', { organisation: Number(select.value), laptops });
    $('handover-result').textContent = r.ok ? t('ui.handover.done', { id: r.body.id }) : errorOf(r);
    if (r.ok) showHandover();
  }

  function renderWhereabouts(w) {
    const h = w.handover;
    definitions($('went'), h ? [
      ['ui.went.to', h.organisation.name + ' (' + t('ui.kind.' + h.organisation.kind) + ')'],
      ['ui.went.when', when(h.at)],
      ['ui.went.by', h.operator],
    ] : []);
    // Beside the list, not in it: a <dd> without its <dt> is no definition (axe: serious).
    $('went-note').textContent = !h ? t('ui.went.not_yet') : !w.current ? t('ui.went.back') : '';
    const loans = $('loans');
    loans.textContent = '';
    const loanList = w.loans || [];
    for (const l of loanList) {
      const text = l.returned_at ? t('ui.loan.back', { from: when(l.lent_at), to: when(l.returned_at) })
        : t('ui.loan.out', { date: when(l.lent_at) });
      const ref = l.reference_erased ? t('ui.loan.erased') : l.reference;
      loans.append(el('li', text + (ref ? ' · ' + ref : '')));
    }
    const open = loanList.some((l) => !l.returned_at);
    $('lend-form').hidden = !w.current || open;
    $('loan-return').hidden = !open;
  }

  async function lend(e) {
    e.preventDefault();
    if (!current) return;
    const r = await call('POST', '/api/v1/devices/' + current.summary.id + '/loan', { reference: $('lend-reference').value.trim() });
    $('loan-result').textContent = r.ok ? '' : errorOf(r);
    if (r.ok) $('lend-reference').value = '';
    loadLaptop(current.summary.id);
  }

  async function giveBack() {
    if (!current) return;
    const r = await call('POST', '/api/v1/devices/' + current.summary.id + '/loan/return');
    $('loan-result').textContent = r.ok ? '' : errorOf(r);
    loadLaptop(current.summary.id);
  }

  // ---- session, language, routing
  async function route() {
    if (!csrf) {
      const r = await call('GET', '/ui/session');
      if (!r.ok) return;
      csrf = r.body.csrf;
      operator = r.body.operator;
    }
    const page = pages.find((p) => p.hash === location.hash);
    const m = location.hash.match(/^#\/laptops\/(\d+)$/);
    if (page) page.show();
    else if (m) showLaptop(m[1]);
    else if (location.hash === '#/partners') showPartners();
    else if (location.hash === '#/handover') showHandover();
    else showList();
  }

  async function login(e) {
    e.preventDefault();
    const r = await call('POST', '/ui/login', { name: $('login-name').value, password: $('login-password').value });
    $('login-password').value = '';
    if (!r.ok) {
      $('login-error').textContent = r.status === 401 ? t('ui.login.wrong') : errorText(r);
      return;
    }
    $('login-error').textContent = '';
    csrf = r.body.csrf;
    operator = r.body.operator;
    route();
  }

  async function logout() {
    await call('POST', '/ui/logout');
    showLogin();
  }

  function renderAll() {
    for (const e of document.querySelectorAll('[data-i18n]')) e.textContent = t(e.dataset.i18n);
    for (const e of document.querySelectorAll('[data-i18n-label]')) e.setAttribute('aria-label', t(e.dataset.i18nLabel));
    for (const b of document.querySelectorAll('#langs button'))
      b.setAttribute('aria-pressed', String(b.dataset.lang === root.lang));
    if (current) renderLaptop();
    if (!$('partners').hidden) showPartners();
    if (!$('handover').hidden) showHandover();
    for (const p of pages) if (p.render) p.render();
  }

  async function useLanguage(lang) {
    const r = await fetch('/ui/assets/' + encodeURIComponent(lang) + '.json');
    if (!r.ok) return;
    strings = await r.json();
    root.lang = lang;
    renderAll();
  }

  function switchLanguage(lang) {
    params.set('lang', lang);
    history.replaceState(null, '', location.pathname + '?' + params.toString() + location.hash);
    useLanguage(lang).then(() => { if (!$('list').hidden) showList(); });
  }

  // The other pages (ui_catalog.js: images, batches) register here and share these helpers.
  const pages = [];
  window.reviveUI = {
    call, t, el, bytes, when, show, confirmAction, errorText, reasonTexts,
    csrf: () => csrf,
    addPage: (p) => pages.push(p),
  };

  document.addEventListener('DOMContentLoaded', async () => {
    for (const b of document.querySelectorAll('#langs button'))
      b.addEventListener('click', () => switchLanguage(b.dataset.lang));
    for (const b of document.querySelectorAll('#actions button'))
      b.addEventListener('click', () => act(b.dataset.action));
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', logout);
    $('filters').addEventListener('input', () => showList());
    $('filters').addEventListener('submit', (e) => e.preventDefault());
    $('org-form').addEventListener('submit', saveOrganisation);
    $('org-cancel').addEventListener('click', () => editOrganisation(null));
    $('handover-form').addEventListener('submit', handOver);
    $('candidates-all').addEventListener('change', (e) => {
      for (const b of document.querySelectorAll('#candidates tbody input')) b.checked = e.target.checked;
    });
    $('lend-form').addEventListener('submit', lend);
    $('loan-return').addEventListener('click', giveBack);
    window.addEventListener('hashchange', route);
    await useLanguage(root.lang || 'en');
    route();
  });
})();
