// The operator pages for images, batches and donors (issue 16), beside ui.js, whose helpers
// they use (window.reviveUI). An image is uploaded in pieces at the offset the server says it
// has, so a dropped connection or a reloaded page goes on where it stopped (the server keeps
// an unfinished upload for a day); the finished upload is imported like `revivectl image push`,
// with its two options. An import that is refused leaves the upload on the server: choosing
// the same file again with the option the refusal names imports it without sending it again.
// Every text is set with textContent; every word comes from i18n/<lang>.json.
'use strict';

(() => {
  const ui = window.reviveUI;
  const $ = (id) => document.getElementById(id);
  const { t, el, call } = ui;
  const kPieceBytes = 4 * 1024 * 1024; // under the server's 8 MiB a piece
  const kTries = 5; // a piece that fails this often in a row stops the upload
  const kProfileFields = ['hostname', 'locale', 'keyboard', 'timezone', 'welcome_title', 'welcome_text'];
  let images = [];
  let batches = [];
  let editing = null; // the batch whose image and profile are being edited
  let kept = null; // {id, key, name}: the upload a refused import left on the server

  const { errorText } = ui;
  const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

  // ---- images
  function made(img) {
    const at = Date.parse(img.created_at || '');
    return Number.isNaN(at) ? img.error || '' : new Date(at).toLocaleString(document.documentElement.lang);
  }

  function renderImages() {
    const body = $('image-table').tBodies[0];
    body.textContent = '';
    for (const img of images) {
      const tr = el('tr');
      tr.dataset.name = img.name;
      const used = img.batches || [];
      tr.append(el('td', img.name), el('td', ui.bytes(img.logical_size)), el('td', ui.bytes(img.stored_bytes)),
        el('td', used.length ? used.join(', ') : t('ui.images.unused')), el('td', made(img)));
      const cell = el('td');
      const del = el('button', t('ui.images.delete'), 'danger');
      del.type = 'button';
      del.setAttribute('aria-label', t('ui.images.delete_named', { name: img.name }));
      del.addEventListener('click', () => removeImage(img));
      cell.append(del);
      tr.append(cell);
      body.append(tr);
    }
    $('images-empty').hidden = images.length > 0;
  }

  async function loadImages() {
    const r = await call('GET', '/api/v1/catalog/images');
    if (!r.ok) {
      $('images-error').textContent = errorText(r);
      return false;
    }
    images = r.body;
    return true;
  }

  async function showImages() {
    ui.show('images');
    document.title = t('ui.images.title');
    if (await loadImages()) renderImages();
  }

  async function removeImage(img) {
    if (!(await ui.confirmAction(t('ui.images.confirm_delete', { name: img.name })))) return;
    const r = await call('DELETE', '/api/v1/images/' + encodeURIComponent(img.name));
    // In use (409): the page knows by which batches, and says so in the operator's language.
    const used = img.batches || [];
    $('images-error').textContent = r.ok ? ''
      : r.status === 409 && used.length ? t('ui.images.in_use', { name: img.name, batches: used.join(', ') }) : errorText(r);
    $('upload-result').textContent = r.ok ? t('ui.images.deleted', { name: img.name }) : '';
    if (await loadImages()) renderImages();
  }

  function setProgress(done, total) {
    const pct = total > 0 ? Math.floor((100 * done) / total) : 0;
    $('upload-progress').value = pct;
    $('upload-percent').textContent = pct + ' % · ' + ui.bytes(done) + ' / ' + ui.bytes(total);
  }

  // One piece by XMLHttpRequest (fetch reports no upload progress): resolves {status, body}.
  function sendPiece(id, offset, blob, total) {
    return new Promise((resolve) => {
      const x = new XMLHttpRequest();
      x.open('POST', '/api/v1/image-uploads/' + encodeURIComponent(id) + '/pieces?offset=' + offset);
      x.setRequestHeader('Content-Type', 'application/octet-stream');
      x.setRequestHeader('X-CSRF-Token', ui.csrf() || '');
      x.upload.onprogress = (e) => setProgress(offset + e.loaded, total);
      x.onload = () => {
        let body = null;
        try { body = JSON.parse(x.responseText); } catch (err) { body = null; }
        resolve({ status: x.status, ok: x.status >= 200 && x.status < 300, body });
      };
      x.onerror = () => resolve({ status: 0, ok: false, body: null });
      x.send(blob);
    });
  }

  // The upload this file started before (a reloaded page), if the server still has it.
  async function resumeOrBegin(file, name, key) {
    const known = localStorage.getItem(key);
    if (known) {
      const r = await call('GET', '/api/v1/image-uploads/' + encodeURIComponent(known));
      if (r.ok && r.body.size === file.size && r.body.name === name) return r.body;
    }
    const r = await call('POST', '/api/v1/image-uploads', { name, size: file.size });
    if (!r.ok) throw new Error(errorText(r));
    localStorage.setItem(key, r.body.id);
    return r.body;
  }

  // Sends the pieces from where the server is; a failed piece is tried again after asking the
  // server how far it got.
  async function sendFrom(upload, file) {
    let received = upload.received;
    let failures = 0;
    while (received < file.size) {
      const end = Math.min(received + kPieceBytes, file.size);
      const r = await sendPiece(upload.id, received, file.slice(received, end), file.size);
      if (r.ok) {
        received = r.body.received;
        failures = 0;
        continue;
      }
      failures += 1;
      if (failures >= kTries || (r.status >= 400 && r.status < 500 && r.status !== 409)) {
        throw new Error(r.body && r.body.error ? errorText(r) : t('ui.images.connection_lost'));
      }
      $('upload-result').textContent = t('ui.images.retrying');
      await sleep(1000 * failures);
      const s = await call('GET', '/api/v1/image-uploads/' + encodeURIComponent(upload.id));
      if (!s.ok) throw new Error(errorText(s));
      received = s.body.received;
    }
    setProgress(file.size, file.size);
  }

  async function upload(e) {
    e.preventDefault();
    const file = $('upload-file').files[0];
    const name = $('upload-name').value.trim();
    if (!file || !name) return;
    const key = 'revive-upload:' + name + ':' + file.size + ':' + file.lastModified;
    const button = $('upload-form').querySelector('button');
    button.disabled = true;
    $('upload').hidden = false;
    $('upload-label').textContent = t('ui.images.uploading', { name });
    $('upload-result').textContent = '';
    $('images-error').textContent = '';
    showKept(null);
    try {
      const u = await resumeOrBegin(file, name, key);
      setProgress(u.received, file.size);
      await sendFrom(u, file);
      $('upload-label').textContent = t('ui.images.importing', { name });
      const r = await call('POST', '/api/v1/image-uploads/' + encodeURIComponent(u.id) + '/finish',
        { raw: $('upload-raw').checked, space_check: !$('upload-no-space-check').checked });
      if (!r.ok) {
        const stays = await call('GET', '/api/v1/image-uploads/' + encodeURIComponent(u.id));
        if (stays.ok) showKept({ id: u.id, key, name });
        throw new Error(errorText(r) + (stays.ok ? ' ' + t('ui.images.kept') : ''));
      }
      localStorage.removeItem(key);
      $('upload-result').textContent = t('ui.images.uploaded', { name, stored: ui.bytes(r.body.stored_bytes) });
      if (await loadImages()) renderImages();
    } catch (err) {
      $('images-error').textContent = err.message;
    } finally {
      button.disabled = false;
    }
  }

  // The button that drops an upload a refused import left (else it holds one of the server's
  // places for uploads for a day).
  function showKept(upload) {
    kept = upload;
    $('upload-discard').hidden = !upload;
  }

  async function discardKept() {
    if (!kept) return;
    const r = await call('DELETE', '/api/v1/image-uploads/' + encodeURIComponent(kept.id));
    if (!r.ok && r.status !== 404) {
      $('images-error').textContent = errorText(r);
      return;
    }
    localStorage.removeItem(kept.key);
    $('images-error').textContent = '';
    $('upload-result').textContent = t('ui.images.discarded', { name: kept.name });
    showKept(null);
  }

  function suggestName() {
    const file = $('upload-file').files[0];
    if (!file || $('upload-name').value) return;
    $('upload-name').value = file.name.replace(/\.(img|raw|bin)$/i, '').replace(/[^A-Za-z0-9._+-]/g, '-')
      .replace(/^[.-]+/, '').slice(0, 128);
  }

  // ---- batches and donors
  function options(select, names, selected, empty) {
    select.textContent = '';
    const none = el('option', t(empty));
    none.value = '';
    select.append(none);
    for (const n of names) {
      const o = el('option', n);
      o.value = n;
      if (n === selected) o.selected = true;
      select.append(o);
    }
  }

  function gradeText(grades) {
    const parts = [];
    for (const g of ['A', 'B', 'C']) if (grades[g]) parts.push(g + ': ' + grades[g]);
    if (grades.reject) parts.push(t('ui.grade.reject') + ': ' + grades.reject);
    if (grades.none) parts.push(t('ui.grade.none') + ': ' + grades.none);
    return parts.length ? parts.join(' · ') : '—';
  }

  function renderBatches() {
    const body = $('batch-table').tBodies[0];
    body.textContent = '';
    for (const b of batches) {
      const tr = el('tr');
      tr.dataset.name = b.name;
      const grades = el('td', gradeText(b.grades), 'grades');
      const certs = el('td');
      for (const format of ['pdf', 'csv', 'json']) {
        const a = el('a', format.toUpperCase());
        a.href = '/api/v1/batches/' + encodeURIComponent(b.name) + '/certificate?format=' + format;
        a.setAttribute('download', b.name + '-certificate.' + format);
        a.setAttribute('aria-label', t('ui.batches.certificate_as', { name: b.name, format: format.toUpperCase() }));
        certs.append(a, ' ');
      }
      const cell = el('td');
      const edit = el('button', t('ui.batches.edit'));
      edit.type = 'button';
      edit.setAttribute('aria-label', t('ui.batches.edit_named', { name: b.name }));
      edit.addEventListener('click', () => openEdit(b));
      cell.append(edit);
      tr.append(el('td', b.name), el('td', b.donor), el('td', b.image || '—'), el('td', b.devices), grades, certs, cell);
      body.append(tr);
    }
    $('batches-empty').hidden = batches.length > 0;
  }

  async function loadBatches() {
    const [b, i, w] = await Promise.all([call('GET', '/api/v1/catalog/batches'),
      call('GET', '/api/v1/catalog/images'), call('GET', '/api/v1/workflows')]);
    const failed = [b, i, w].find((r) => !r.ok);
    if (failed) {
      $('batches-error').textContent = errorText(failed);
      return false;
    }
    batches = b.body;
    images = i.body;
    options($('batch-image'), images.map((x) => x.name), null, 'ui.batches.no_image');
    options($('batch-workflow'), w.body.map((x) => x.name), null, 'ui.batches.default_workflow');
    return true;
  }

  async function showBatches() {
    ui.show('batches');
    document.title = t('ui.batches.title');
    if (await loadBatches()) renderBatches();
  }

  async function createBatch(e) {
    e.preventDefault();
    const body = { name: $('batch-name').value.trim(), donor: $('batch-donor').value.trim() };
    if ($('batch-image').value) body.image = $('batch-image').value;
    if ($('batch-workflow').value) body.workflow = $('batch-workflow').value;
    const r = await call('POST', '/api/v1/batches', body);
    $('batches-error').textContent = r.ok ? '' : errorText(r);
    if (!r.ok) return;
    $('batch-result').textContent = t('ui.batches.created', { name: body.name });
    $('batch-form').reset();
    if (await loadBatches()) renderBatches();
  }

  // The named recipient profiles (the settings page's) a batch can use instead of its own fields.
  async function profileChoices(b) {
    const r = await call('GET', '/api/v1/recipient-profiles');
    const names = r.ok ? r.body.map((p) => p.name) : [];
    const select = $('edit-profile-name');
    select.textContent = '';
    select.append(new Option(t('ui.batches.own_profile'), ''));
    for (const n of names) select.append(new Option(n, n));
    select.value = b.profile_name || '';
  }

  async function openEdit(b) {
    editing = b;
    await profileChoices(b);
    $('batch-edit').hidden = false;
    $('batch-edit-title').textContent = t('ui.batches.edit_title', { name: b.name });
    $('batch-edit-error').textContent = '';
    options($('edit-image'), images.map((x) => x.name), b.image, 'ui.batches.no_image');
    for (const f of kProfileFields) $('profile-' + f).value = (b.profile && b.profile[f]) || '';
    const user = (b.profile && b.profile.first_user) || {};
    $('profile-first_user-name').value = user.name || '';
    $('profile-first_user-full_name').value = user.full_name || '';
    $('edit-image').focus();
  }

  async function saveEdit(e) {
    e.preventDefault();
    if (!editing) return;
    const profile = {};
    for (const f of kProfileFields) profile[f] = $('profile-' + f).value.trim();
    // An empty name leaves the first user out (the recipient makes the account at first boot).
    profile.first_user = {
      name: $('profile-first_user-name').value.trim(),
      full_name: $('profile-first_user-full_name').value.trim(),
    };
    const r = await call('POST', '/api/v1/batches/' + encodeURIComponent(editing.name),
      { image: $('edit-image').value || null, profile, profile_name: $('edit-profile-name').value || null });
    if (!r.ok) {
      $('batch-edit-error').textContent = errorText(r);
      return;
    }
    $('batch-result').textContent = t('ui.batches.saved', { name: editing.name });
    $('batch-edit-error').textContent = '';
    $('batch-edit').hidden = true;
    editing = null;
    if (await loadBatches()) renderBatches();
  }

  ui.addPage({
    hash: '#/images',
    show: showImages,
    render: () => { if (!$('images').hidden) renderImages(); },
  });
  ui.addPage({
    hash: '#/batches',
    show: showBatches,
    render: () => { if (!$('batches').hidden) renderBatches(); },
  });

  document.addEventListener('DOMContentLoaded', () => {
    $('upload-form').addEventListener('submit', upload);
    $('upload-file').addEventListener('change', suggestName);
    $('upload-discard').addEventListener('click', discardKept);
    $('batch-form').addEventListener('submit', createBatch);
    $('batch-edit').addEventListener('submit', saveEdit);
    $('batch-edit-close').addEventListener('click', () => {
      $('batch-edit').hidden = true;
      editing = null;
    });
  });
})();
