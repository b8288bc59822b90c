// The settings page (issue 16), beside ui.js, whose helpers it uses (window.reviveUI): the
// workshop's name, default workflow and the laptops' screen language; the intake new laptops
// join through; named recipient profiles a batch can use; the grading policy, checked by the
// server, with a preview of how the laptops on file would grade under the edited text before
// it is saved. Every text is set with textContent; every word comes from i18n/<lang>.json.
'use strict';

(() => {
  const ui = window.reviveUI;
  const $ = (id) => document.getElementById(id);
  const { t, el, call } = ui;
  const refusal = ui.errorText;
  const kProfileFields = ['hostname', 'locale', 'keyboard', 'timezone', 'welcome_title', 'welcome_text'];
  const kGrades = ['A', 'B', 'C', 'reject'];
  let settings = null;
  let profiles = [];
  let editing = null; // the profile the form edits (null: a new one)
  let preview = null; // the last preview shown, redrawn on a language switch

  function options(select, values, chosen, emptyKey) {
    select.textContent = '';
    if (emptyKey) select.append(new Option(t(emptyKey), ''));
    for (const v of values) select.append(new Option(v, v, false, v === chosen));
    select.value = chosen || '';
  }

  // ---- workshop
  function renderSettings() {
    if (!settings) return;
    $('set-workshop').value = settings.workshop_name || '';
    options($('set-workflow'), settings.workflows, settings.default_workflow);
    $('set-language').value = settings.screen_language || 'en';
    $('policy-source').textContent = t(settings.grading_policy_is_default ? 'ui.policy.is_default' : 'ui.policy.is_custom');
  }

  async function saveSettings(e) {
    e.preventDefault();
    const r = await call('POST', '/api/v1/settings', {
      workshop_name: $('set-workshop').value.trim(),
      default_workflow: $('set-workflow').value,
      screen_language: $('set-language').value,
    });
    $('settings-error').textContent = r.ok ? '' : refusal(r, 'ui.settings.refused');
    $('settings-result').textContent = r.ok ? t('ui.settings.saved') : '';
    if (r.ok) await loadSettings();
  }

  // ---- intake
  async function renderIntake() {
    const [status, batches] = await Promise.all([call('GET', '/api/v1/intake'), call('GET', '/api/v1/batches')]);
    if (!status.ok || !batches.ok) {
      $('intake-error').textContent = refusal(status.ok ? batches : status);
      return;
    }
    const intake = status.body || {};
    $('intake-status').textContent = intake.open
      ? t('ui.intake.is_open', { batch: intake.batch, until: ui.when(intake.until) })
      : t('ui.intake.is_closed');
    $('intake-close').disabled = !intake.open;
    options($('intake-batch'), batches.body.map((b) => b.name), intake.open ? intake.batch : '');
  }

  async function openIntake(e) {
    e.preventDefault();
    const hours = Number($('intake-hours').value);
    const r = await call('POST', '/api/v1/intake', { batch: $('intake-batch').value, for_s: Math.round(hours * 3600) });
    $('intake-error').textContent = r.ok ? '' : refusal(r, 'ui.intake.refused');
    renderIntake();
  }

  async function closeIntake() {
    const r = await call('POST', '/api/v1/intake/close', {});
    $('intake-error').textContent = r.ok ? '' : refusal(r, 'ui.intake.refused');
    renderIntake();
  }

  // ---- recipient profiles
  function summary(fields) {
    const parts = kProfileFields.filter((f) => f !== 'welcome_text' && fields[f]).map((f) => fields[f]);
    const user = fields.first_user;
    if (user) {
      parts.push(t('ui.profiles.user', { name: user.full_name ? `${user.name} (${user.full_name})` : user.name }));
    }
    return parts.join(', ') || t('ui.profiles.defaults');
  }

  function renderProfiles() {
    const body = $('profile-table').tBodies[0];
    body.textContent = '';
    for (const p of profiles) {
      const tr = el('tr');
      tr.dataset.name = p.name;
      tr.append(el('td', p.name), el('td', summary(p.fields)),
        el('td', p.batches.length ? p.batches.join(', ') : t('ui.profiles.unused')));
      const cell = el('td');
      const edit = el('button', t('ui.profiles.edit'));
      edit.type = 'button';
      edit.setAttribute('aria-label', t('ui.profiles.edit_named', { name: p.name }));
      edit.addEventListener('click', () => editProfile(p));
      const del = el('button', t('ui.profiles.delete'), 'danger');
      del.type = 'button';
      del.setAttribute('aria-label', t('ui.profiles.delete_named', { name: p.name }));
      del.addEventListener('click', () => removeProfile(p));
      cell.append(edit, ' ', del);
      tr.append(cell);
      body.append(tr);
    }
    $('profiles-empty').hidden = profiles.length > 0;
  }

  async function loadProfiles() {
    const r = await call('GET', '/api/v1/recipient-profiles');
    if (!r.ok) {
      $('profiles-error').textContent = refusal(r);
      return;
    }
    profiles = r.body;
    renderProfiles();
  }

  function editProfile(p) {
    editing = p;
    $('profile-form-title').textContent = p ? t('ui.profiles.editing', { name: p.name }) : t('ui.profiles.new');
    $('rp-name').value = p ? p.name : '';
    $('rp-name').readOnly = Boolean(p);
    for (const f of kProfileFields) $('rp-' + f).value = (p && p.fields[f]) || '';
    const user = (p && p.fields.first_user) || {};
    $('rp-first_user-name').value = user.name || '';
    $('rp-first_user-full_name').value = user.full_name || '';
    $('profile-cancel').hidden = !p;
    $('profile-error').textContent = '';
    (p ? $('rp-hostname') : $('rp-name')).focus();
  }

  async function saveProfile(e) {
    e.preventDefault();
    const fields = {};
    for (const f of kProfileFields) fields[f] = $('rp-' + f).value.trim();
    // An empty name leaves the first user out (the recipient makes the account at first boot).
    fields.first_user = {
      name: $('rp-first_user-name').value.trim(),
      full_name: $('rp-first_user-full_name').value.trim(),
    };
    const name = $('rp-name').value.trim();
    const r = await call('POST', '/api/v1/recipient-profiles', { name, fields });
    if (!r.ok) {
      $('profile-error').textContent = refusal(r, 'ui.profiles.refused');
      return;
    }
    $('profiles-result').textContent = t('ui.profiles.saved', { name });
    editProfile(null);
    await loadProfiles();
  }

  async function removeProfile(p) {
    if (!(await ui.confirmAction(t('ui.profiles.confirm_delete', { name: p.name })))) return;
    const r = await call('DELETE', '/api/v1/recipient-profiles/' + encodeURIComponent(p.name));
    // In use (409): the list knows by which batches, and says so in the operator's language.
    $('profiles-error').textContent = r.ok ? ''
      : r.status === 409 && p.batches.length ? t('ui.profiles.in_use', { name: p.name, batches: p.batches.join(', ') })
        : refusal(r);
    $('profiles-result').textContent = r.ok ? t('ui.profiles.deleted', { name: p.name }) : '';
    await loadProfiles();
  }

  // ---- grading policy
  function gradeName(g) {
    return g === 'reject' ? t('ui.grade.reject') : g;
  }

  function renderPreview() {
    if (!preview) return;
    $('preview').hidden = false;
    $('preview-summary').textContent = t('ui.preview.summary', { laptops: preview.laptops, changed: preview.changed.length })
      + (preview.not_regraded ? ' ' + t('ui.preview.not_regraded', { n: preview.not_regraded }) : '');
    const counts = $('preview-counts').tBodies[0];
    counts.textContent = '';
    for (const g of kGrades) {
      const tr = el('tr');
      tr.dataset.grade = g;
      tr.append(el('td', gradeName(g)), el('td', preview.before[g] || 0), el('td', preview.after[g] || 0));
      counts.append(tr);
    }
    const changed = $('preview-changed').tBodies[0];
    changed.textContent = '';
    for (const c of preview.changed) {
      const tr = el('tr');
      tr.dataset.id = String(c.id);
      const link = el('a', c.model || t('unknown_model'));
      link.href = '#/laptops/' + c.id;
      const model = el('td');
      model.append(link);
      const now = ui.reasonTexts(c.reasons, c.reason_codes);
      const before = ui.reasonTexts(c.reasons_before, c.reason_codes_before);
      const reasons = now.length ? now : before.map((r) => t('ui.preview.no_longer', { reason: r }));
      tr.append(model, el('td', c.serial), el('td', gradeName(c.before)), el('td', gradeName(c.after)),
        el('td', reasons.join('; ') || t('ui.preview.no_reason')));
      changed.append(tr);
    }
    $('preview-changed').hidden = preview.changed.length === 0;
  }

  async function previewPolicy() {
    const r = await call('POST', '/api/v1/grading-policy/preview', { grading_policy: $('policy-text').value });
    $('policy-result').textContent = '';
    if (!r.ok) {
      preview = null;
      $('preview').hidden = true;
      $('policy-error').textContent = refusal(r, 'ui.policy.refused');
      return;
    }
    $('policy-error').textContent = '';
    preview = r.body;
    renderPreview();
  }

  async function savePolicy(e) {
    e.preventDefault();
    const r = await call('POST', '/api/v1/settings', { grading_policy: $('policy-text').value });
    $('policy-error').textContent = r.ok ? '' : refusal(r, 'ui.policy.refused');
    $('policy-result').textContent = r.ok ? t('ui.policy.saved') : '';
    if (r.ok) await loadSettings(true);
  }

  // ---- the page
  async function loadSettings(keepPolicyText) {
    const r = await call('GET', '/api/v1/settings');
    if (!r.ok) {
      $('settings-error').textContent = refusal(r);
      return;
    }
    settings = r.body;
    if (!keepPolicyText) $('policy-text').value = settings.grading_policy;
    renderSettings();
  }

  async function showSettings() {
    ui.show('settings');
    document.title = t('ui.settings.title');
    preview = null;
    $('preview').hidden = true;
    for (const id of ['settings-result', 'settings-error', 'policy-result', 'policy-error', 'profiles-result', 'profiles-error'])
      $(id).textContent = '';
    editProfile(null);
    await Promise.all([loadSettings(false), loadProfiles(), renderIntake()]);
  }

  ui.addPage({
    hash: '#/settings',
    show: showSettings,
    render: () => {
      if ($('settings').hidden) return;
      renderSettings();
      renderProfiles();
      renderPreview();
      renderIntake();
    },
  });

  document.addEventListener('DOMContentLoaded', () => {
    $('settings-form').addEventListener('submit', saveSettings);
    $('intake-form').addEventListener('submit', openIntake);
    $('intake-close').addEventListener('click', closeIntake);
    $('profile-form').addEventListener('submit', saveProfile);
    $('profile-cancel').addEventListener('click', () => editProfile(null));
    $('policy-form').addEventListener('submit', savePolicy);
    $('policy-preview').addEventListener('click', previewPolicy);
    $('policy-default').addEventListener('click', () => {
      $('policy-text').value = '';
      $('policy-result').textContent = t('ui.policy.default_hint');
    });
  });
})();
