// The wall screen end to end in a real browser (Debian's chromium, driven by playwright-core):
// a revive-server with simulated laptops (real revive-agent processes), a kiosk link made with
// revivectl, tiles appearing and changing stage live, a failed laptop red with its reason, the
// language switch, a server restart the page survives, a revoked link refused, and a 1920x1080
// screenshot. The operator pages share the server and the browser: an operator logs in, finds
// the failed laptop, retries it from its page and it completes (a screenshot of that page);
// then adds a partner organisation, hands the finished laptops over to it and renders the
// hand-over list with pdftoppm (not blank); a laptop's page shows where it went, and it is lent
// and returned from there.
// Run by run.sh (ctest: wall_browser).
//   node wall_test.mjs SERVER AGENT CTL DATA OUTDIR
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, rmSync, utimesSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const [SERVER, AGENT, CTL, DATA, OUT] = process.argv.slice(2);
const tmp = mkdtempSync(path.join(tmpdir(), 'revive-wall-'));
chmodSync(tmp, 0o711);  // started as root, revive-server runs as user revive
const state = path.join(tmp, 'state');
const children = [];
const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${msg}`);

function startServer(port) {
  const p = spawn(SERVER, ['--state', state, '--listen', `127.0.0.1:${port}`, '--tls-listen', 'off', '--demo'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(p);
  return new Promise((resolve, reject) => {
    let seen = '';
    p.stderr.on('data', (d) => {
      seen += d.toString();
      const m = seen.match(/listening on .* port (\d+)/);
      if (m && !p.port) {
        p.port = Number(m[1]);
        resolve(p);
      }
    });
    p.on('exit', (code) => { if (!p.port) reject(new Error(`revive-server exited (${code}): ${seen}`)); });
  });
}

async function api(port, method, route, token, body) {
  const r = await fetch(`http://127.0.0.1:${port}${route}`, {
    method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${route}: ${r.status} ${text}`);
  return JSON.parse(text);
}

function agent(port, model) {
  const disk = path.join(tmp, `${model}.disk`);
  writeFileSync(disk, '');
  execFileSync('truncate', ['-s', '64M', disk]);
  const p = spawn(AGENT, ['--simulate', '--root', path.join(DATA, 'laptops', model), '--disk', disk,
    '--server', `http://127.0.0.1:${port}`, '--long-poll', '5', '--label', model,
    '--server-key', path.join(state, 'store', 'keys', 'ed25519.pub')], { stdio: 'ignore' });
  children.push(p);
  return p;
}

const ctl = (...args) => execFileSync(CTL, args, { encoding: 'utf8' });

// axe-core (from the lockfile) on the page as it is: no serious or critical violation. It is
// evaluated through the browser's debugging protocol, which the page's CSP does not govern.
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let axeMs = 0;
async function axeCheck(p, what) {
  const t0 = Date.now();
  if (!(await p.evaluate(() => typeof window.axe === 'object'))) await p.evaluate(axeSource);
  const found = await p.evaluate(async () => {
    const r = await window.axe.run(document);
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  axeMs += Date.now() - t0;
  const bad = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = found.filter((v) => !bad.includes(v)).map((v) => `${v.id} (${v.impact})`);
  log(`axe on ${what}: ${bad.length} serious or critical` + (minor.length ? `; also ${minor.join(', ')}` : ''));
  assert.deepEqual(bad, [], `axe on ${what}: ${JSON.stringify(bad, null, 1)}`);
}

// An image made of `size` bytes (the first part random, so it is not one repeated chunk), with
// a fixed modification time: the page remembers an unfinished upload by name, size and time.
function diskFile(size) {
  const file = path.join(tmp, 'werkplaats-desktop.img');
  const bytes = Buffer.alloc(size);
  randomFillSync(bytes, 0, size / 2);
  writeFileSync(file, bytes);
  utimesSync(file, 1700000000, 1700000000);
  return { file, bytes, lastModified: 1700000000 * 1000 };
}

async function rawPost(port, route, token, body) {
  const r = await fetch(`http://127.0.0.1:${port}${route}`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' }, body,
  });
  assert.ok(r.ok, `POST ${route}: ${r.status} ${await r.text()}`);
}

// The images page: a file that is not a disk (a qcow2 header) is refused, the upload stays on the
// server, and the option the refusal names imports it without sending a byte again; a second
// upload to the name it took is refused before its first byte; a refused upload discarded is
// gone from the server.
async function refusedUploadKept(ops, port, token) {
  const file = path.join(tmp, 'vm-schijf.qcow2');
  const bytes = Buffer.alloc(1 << 20);
  Buffer.from([0x51, 0x46, 0x49, 0xfb]).copy(bytes);
  writeFileSync(file, bytes);
  await ops.locator('#upload-file').setInputFiles(file);
  await ops.locator('#upload-name').fill('vm-schijf');
  await ops.locator('#upload-form button[type="submit"]').click();
  await ops.locator('#images-error').filter({ hasText: 'qcow2' })
    .filter({ hasText: 'De upload blijft op de server' }).waitFor({ timeout: 30000 });
  assert.ok(await ops.locator('#upload-discard').isVisible());
  const pieces = [];
  const seePiece = (req) => { if (req.url().includes('/pieces')) pieces.push(req.url()); };
  ops.on('request', seePiece);
  await ops.locator('#upload-raw').check();
  await ops.locator('#upload-form button[type="submit"]').click();
  await ops.locator('#upload-result').filter({ hasText: 'vm-schijf staat klaar' }).waitFor({ timeout: 30000 });
  await ops.locator('#upload-raw').uncheck();
  assert.deepEqual(pieces, [], 'the kept upload was sent again');
  assert.equal(await ops.locator('#images-error').textContent(), '');
  // The same name again: refused before a byte is sent.
  await ops.locator('#upload-form button[type="submit"]').click();
  await ops.locator('#images-error').filter({ hasText: 'bestaat al' }).filter({ hasText: 'delete it first' }).waitFor();
  ops.off('request', seePiece);
  assert.deepEqual(pieces, [], 'an upload to a taken name was sent');
  // Refused again under another name, then discarded: the server forgets it, the page too.
  await ops.locator('#upload-name').fill('vm-weg');
  await ops.locator('#upload-form button[type="submit"]').click();
  await ops.locator('#images-error').filter({ hasText: 'De upload blijft op de server' }).waitFor({ timeout: 30000 });
  const remembered = () => ops.evaluate(() => Object.keys(localStorage)
    .filter((k) => k.startsWith('revive-upload:vm-weg:')).map((k) => localStorage.getItem(k)));
  const [id] = await remembered();
  assert.ok(id);
  await ops.locator('#upload-discard').click();
  await ops.locator('#upload-result').filter({ hasText: 'vm-weg is weggegooid' }).waitFor();
  assert.ok(await ops.locator('#upload-discard').isHidden());
  assert.deepEqual(await remembered(), []);
  const after = await fetch(`http://127.0.0.1:${port}/api/v1/image-uploads/${id}`, {
    headers: { Authorization: `Bearer ${token}` } });
  assert.equal(after.status, 404);
  log('images page: a qcow2 file refused with its upload kept, then imported as raw bytes without sending it again; its name taken refused before a byte; another discarded');
}

// The images page: an upload a dropped connection left at its first piece goes on from there
// (the page remembers it), with its progress bar, and is imported. The batches page: a batch for
// a donor with that image, its laptops counted by grade, its recipient profile (a bad value
// refused with the reason); the image it uses cannot be deleted.
async function imagesAndBatches(ops, port, token) {
  const started = Date.now();
  await ops.locator('#nav a[href="#/images"]').click();
  await ops.locator('#images:not([hidden]) #images-empty:not([hidden])').waitFor();
  const disk = diskFile(10 << 20);
  const name = 'werkplaats-desktop';
  const begun = await api(port, 'POST', '/api/v1/image-uploads', token, { name, size: disk.bytes.length });
  await rawPost(port, `/api/v1/image-uploads/${begun.id}/pieces?offset=0`, token, disk.bytes.subarray(0, 4 << 20));
  await ops.evaluate(([key, id]) => localStorage.setItem(key, id),
    [`revive-upload:${name}:${disk.bytes.length}:${disk.lastModified}`, begun.id]);
  await ops.evaluate(() => {
    window.progressSeen = [];
    const bar = document.getElementById('upload-progress');
    new MutationObserver(() => window.progressSeen.push(bar.value)).observe(bar, { attributes: true });
  });
  await ops.locator('#upload-file').setInputFiles(disk.file);
  assert.equal(await ops.locator('#upload-name').inputValue(), name);
  await ops.locator('#upload-form button[type="submit"]').click();
  await ops.locator('#upload-result').filter({ hasText: `${name} staat klaar` }).waitFor({ timeout: 30000 });
  const seen = await ops.evaluate(() => window.progressSeen);
  assert.ok(seen.length > 2 && Math.min(...seen) >= 40 && seen.at(-1) === 100, JSON.stringify(seen));
  await ops.locator(`#image-table tr[data-name="${name}"]`).filter({ hasText: '10 MB' }).waitFor();
  assert.ok(await ops.locator('#upload').isVisible());
  log(`images page: the upload went on from its first piece (bar ${seen[0]} -> 100 %) and was imported`);
  await axeCheck(ops, 'the images page');
  await refusedUploadKept(ops, port, token);

  await ops.locator('#nav a[href="#/batches"]').click();
  await ops.locator('#batches:not([hidden]) #batches-empty:not([hidden])').waitFor();
  await ops.locator('#batch-name').fill('gent-2026');
  await ops.locator('#batch-donor').fill('Stad Gent');
  await ops.locator('#batch-image').selectOption(name);
  await ops.locator('#batch-form button[type="submit"]').click();
  const row = ops.locator('#batch-table tr[data-name="gent-2026"]');
  await row.filter({ hasText: name }).waitFor();
  // The graded laptops join the batch; the page counts them by grade.
  const graded = (await api(port, 'GET', '/api/v1/laptops', token)).filter((l) => l.grade);
  for (const l of graded) await api(port, 'POST', `/api/v1/devices/${l.id}/assign`, token, { batch: 'gent-2026' });
  await ops.reload();
  await row.locator('td.grades').filter({ hasText: /[ABC]: \d/ }).waitFor();
  const counts = await row.locator('td.grades').textContent();
  const total = [...counts.matchAll(/[ABC]: (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  assert.equal(total, graded.length, counts);
  assert.equal(await row.locator('a').first().getAttribute('href'), '/api/v1/batches/gent-2026/certificate?format=pdf');
  await row.locator('button').click();
  await ops.locator('#profile-locale').fill('nl BE');
  await ops.locator('#batch-edit button[type="submit"]').click();
  await ops.locator('#batch-edit-error').filter({ hasText: 'locale' }).waitFor();
  // The refusal is worded in the page's language; the server's detail (naming the field) follows.
  assert.match(await ops.locator('#batch-edit-error').textContent(), /^De invoer is niet geldig\. \(server: /);
  // A refusal whose detail names nothing (the server is busy) is the Dutch sentence alone.
  assert.equal(await ops.evaluate(() => window.reviveUI.errorText(
    { status: 503, body: { code: 'busy', error: 'import still running; check later' } })),
  'De server is bezig: probeer het zo opnieuw.');
  await ops.locator('#profile-locale').fill('nl_BE.UTF-8');
  await ops.locator('#profile-timezone').fill('Europe/Brussels');
  // The first user: a system account is refused naming the field, as the agent would refuse it.
  await ops.locator('#profile-first_user-name').fill('root');
  await ops.locator('#batch-edit button[type="submit"]').click();
  await ops.locator('#batch-edit-error').filter({ hasText: 'first_user.name' }).waitFor();
  await ops.locator('#profile-first_user-name').fill('ontvanger');
  await ops.locator('#profile-first_user-full_name').fill('Nieuwe Ontvanger');
  await axeCheck(ops, 'the batches page');
  await ops.locator('#batch-edit button[type="submit"]').click();
  await ops.locator('#batch-result').filter({ hasText: 'gent-2026 opgeslagen' }).waitFor();
  await ops.locator('#batch-edit').waitFor({ state: 'hidden' });
  await ops.screenshot({ path: path.join(OUT, 'batches-page-1920x1080.png') });
  const saved = (await api(port, 'GET', '/api/v1/catalog/batches', token)).find((b) => b.name === 'gent-2026');
  assert.deepEqual(saved.profile, {
    locale: 'nl_BE.UTF-8', timezone: 'Europe/Brussels', first_user: { name: 'ontvanger', full_name: 'Nieuwe Ontvanger' },
  });
  // Opened again after a reload (nothing left in the form), it shows the saved first user.
  await ops.reload();
  await row.waitFor();
  await row.locator('button').click();
  await ops.locator('#batch-edit:not([hidden])').waitFor();
  assert.equal(await ops.locator('#profile-first_user-name').inputValue(), 'ontvanger');
  assert.equal(await ops.locator('#profile-first_user-full_name').inputValue(), 'Nieuwe Ontvanger');
  await ops.locator('#batch-edit-close').click();
  log(`batches page: batch for a donor made, ${graded.length} laptops counted (${counts}), profile with a first user saved`);

  // The image the batch uses: deleting it asks first, then the server refuses, saying why.
  await ops.locator('#nav a[href="#/images"]').click();
  await ops.locator(`#image-table tr[data-name="${name}"]`).filter({ hasText: 'gent-2026' }).waitFor();
  await ops.locator(`#image-table tr[data-name="${name}"] button`).click();
  await ops.locator('#confirm[open]').waitFor();
  await ops.locator('#confirm-yes').click();
  await ops.locator('#images-error').filter({ hasText: 'partij gent-2026 installeert ze' }).waitFor();
  assert.ok((await api(port, 'GET', '/api/v1/catalog/images', token)).some((i) => i.name === name));
  await ops.screenshot({ path: path.join(OUT, 'images-page-1920x1080.png') });
  log(`images and batches pages: ${((Date.now() - started) / 1000).toFixed(1)} s (axe so far ${(axeMs / 1000).toFixed(1)} s)`);
}

// A grading policy as a server kept it before it checked policies (it stored any text): written
// into its database directly, since this server refuses such a policy from every client.
function storeUncheckedPolicy(text) {
  execFileSync('python3', ['-c', `import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
db.execute("INSERT INTO settings(key, value) VALUES ('grading_policy', ?) "
           "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (sys.argv[2],))
db.commit()`, path.join(state, 'revive.db'), text]);
}

// The settings page (Dutch): the unchecked policy is refused naming its key (preview and save,
// nothing stored), a strict policy's preview shows how the graded laptops would drop, the
// corrected policy is saved; the workshop's name is changed and a recipient profile made.
async function settingsPage(ops, port, token) {
  const t0 = Date.now();
  await ops.locator('#nav a[href="#/settings"]').click();
  await ops.locator('#settings:not([hidden]) #set-workflow option[value="broken"]').waitFor({ state: 'attached' });
  assert.match(await ops.locator('#policy-text').inputValue(), /c_below_mib = 'lots'/);
  await ops.locator('#policy-preview').click();
  await ops.locator('#policy-error').filter({ hasText: 'memory.c_below_mib' }).waitFor();
  await ops.locator('#policy-form button[type="submit"]').click();
  await ops.locator('#policy-error').filter({ hasText: 'niet opgeslagen' }).waitFor();
  const strict = '[memory]\nreject_below_mib = 1048576\nc_below_mib = 1048576\nb_below_mib = 1048576\n';
  await ops.locator('#policy-text').fill(strict);
  await ops.locator('#policy-preview').click();
  await ops.locator('#preview:not([hidden]) #preview-counts tr[data-grade="reject"]').waitFor();
  const graded = (await api(port, 'GET', '/api/v1/laptops', token)).filter((l) => l.grade).length;
  assert.ok(graded >= 2, `graded laptops: ${graded}`);
  assert.equal(await ops.locator('#preview-counts tr[data-grade="reject"] td').nth(2).textContent(), String(graded));
  assert.equal(await ops.locator('#preview-changed tbody tr').count(), graded);
  assert.match(await ops.locator('#preview-changed tbody tr').first().textContent(), /RAM \d+ MiB < 1048576 MiB/);
  assert.match(await ops.locator('#preview-summary').textContent(), new RegExp(`${graded} zouden van graad veranderen`));
  await axeCheck(ops, 'the settings page');
  await ops.screenshot({ path: path.join(OUT, 'settings-page-1920x1080.png'), fullPage: true });
  const settings = await api(port, 'GET', '/api/v1/settings', token);
  assert.match(settings.grading_policy, /'lots'/, 'a preview stores nothing');
  await ops.locator('#policy-text').fill('[memory]\nc_below_mib = 2048\n');
  await ops.locator('#policy-form button[type="submit"]').click();
  await ops.locator('#policy-result').filter({ hasText: 'Beleid opgeslagen' }).waitFor();
  await ops.locator('#set-workshop').fill('Repair Café Gent-Brugse Poort');
  await ops.locator('#settings-form button[type="submit"]').click();
  await ops.locator('#settings-result').filter({ hasText: 'opgeslagen' }).waitFor();
  await ops.locator('#rp-name').fill('school-nl');
  await ops.locator('#rp-locale').fill('nl_BE.UTF-8');
  await ops.locator('#rp-keyboard').fill('be');
  await ops.locator('#rp-first_user-full_name').fill('Leerling 5B');
  await ops.locator('#profile-form button[type="submit"]').click();
  // A full name without a login name is refused, naming the field the operator must fill.
  await ops.locator('#profile-error').filter({ hasText: 'first_user.name' }).waitFor();
  await ops.locator('#rp-first_user-name').fill('leerling');
  await ops.locator('#profile-form button[type="submit"]').click();
  await ops.locator('#profile-table tr[data-name="school-nl"]').filter({ hasText: 'gebruiker leerling (Leerling 5B)' }).waitFor();
  const profiles = await api(port, 'GET', '/api/v1/recipient-profiles', token);
  assert.deepEqual(profiles.find((p) => p.name === 'school-nl').fields,
    { locale: 'nl_BE.UTF-8', keyboard: 'be', first_user: { name: 'leerling', full_name: 'Leerling 5B' } });
  const saved = await api(port, 'GET', '/api/v1/settings', token);
  assert.equal(saved.workshop_name, 'Repair Café Gent-Brugse Poort');
  assert.equal(saved.grading_policy, '[memory]\nc_below_mib = 2048\n');
  log(`settings page: bad policy refused by key, preview ${graded} laptops -> reject, policy, name and a profile with a first user `
    + `saved (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

async function main() {
  execFileSync(SERVER, ['--state', state, 'operator', 'add', 'alice'], { input: 'long enough pw\n' });
  const token = execFileSync(SERVER, ['--state', state, 'operator', 'token', 'alice'], { encoding: 'utf8' }).trim();
  let srv = await startServer(0);
  const port = srv.port;
  const base = `http://127.0.0.1:${port}`;
  // A test step long enough to be seen running; a second workflow whose test step fails.
  const test = { cpu_ms: 2500, memory_ms: 1000, memory_mib: 16, disk_ms: 1000 };
  await api(port, 'POST', '/api/v1/workflows', token,
    { name: 'wall', steps: [{ kind: 'inventory' }, { kind: 'test', params: test }, { kind: 'finish' }] });
  // The failure an operator can mend: the workshop's grading policy is wrong, the test step
  // fails on it; once the policy is put right on the settings page, a retry from the laptop's
  // page completes.
  // Its checks step finds no keyboard (a simulated laptop has none): a reason of the check's own.
  await api(port, 'POST', '/api/v1/workflows', token,
    { name: 'broken', steps: [{ kind: 'inventory' }, { kind: 'checks', params: { parts: ['keyboard'] } },
      { kind: 'test', params: { cpu_ms: 300, memory_ms: 200, memory_mib: 16, disk_ms: 200 } }] });
  await api(port, 'POST', '/api/v1/settings', token, { default_workflow: 'wall', workshop_name: 'Repair Café Gent' });
  const made = ctl('kiosk', 'create', '--label', 'TV by the door', '--server', base, '--token', token);
  const url = made.match(/(http:\/\/\S+\/wall\?k=\S+)/)[1];
  const kioskId = made.match(/\(id ([0-9a-f]+)\)/)[1];
  log(`kiosk link ${kioskId}`);

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'nl-BE' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });

  // Without the link: refused, and the page says so in the browser's language (Dutch).
  const refused = await page.goto(`${base}/wall`);
  assert.equal(refused.status(), 401);
  await page.locator('#refused h2').filter({ hasText: 'kiosklink' }).waitFor();

  const resp = await page.goto(url);
  assert.equal(resp.status(), 200);
  assert.match(resp.headers()['content-security-policy'], /script-src 'self'/);
  assert.equal(await page.locator('html').getAttribute('lang'), 'nl');
  await page.locator('#conn').filter({ hasText: 'live' }).waitFor();
  await page.locator('.count.waiting .what').filter({ hasText: 'wachtend' }).waitFor();

  // Two laptops: their tiles appear and move through the stages live.
  agent(port, 'thinkpad-t480');
  agent(port, 'latitude-7490');
  const tiles = page.locator('#tiles .tile');
  await tiles.nth(1).waitFor({ timeout: 20000 });
  log('two tiles');
  const first = tiles.first();
  await page.locator('#tiles .tile.working[data-stage="test"]').first().waitFor({ timeout: 20000 });
  await page.locator('#tiles .tile.working[data-stage="test"] .bar:not([hidden])').first().waitFor({ timeout: 20000 });
  await page.waitForFunction(() => [...document.querySelectorAll('.tile.working .bar')]
    .some((b) => Number(b.getAttribute('aria-valuenow')) > 0), null, { timeout: 15000 });
  log('a laptop is testing, its progress bar moving');
  // Bars finish their transition for the picture (animations: 'disabled' fast-forwards them).
  await page.screenshot({ path: path.join(OUT, 'wall-working-1920x1080.png'), animations: 'disabled' });
  await page.locator('#tiles .tile.done').nth(1).waitFor({ timeout: 40000 });
  assert.equal(await first.locator('.stage').textContent(), 'Klaar');
  assert.match(await first.locator('.grade').textContent(), /^[ABC]$/);
  assert.match(await page.locator('#today').textContent(), /2 klaar vandaag/);
  log('both done with a grade');
  await axeCheck(page, 'the wall screen');

  // A laptop whose step fails turns red with the reason.
  await api(port, 'POST', '/api/v1/settings', token, { default_workflow: 'broken' });
  storeUncheckedPolicy("[memory]\nc_below_mib = 'lots'\n");
  agent(port, 'hp-stream-11');
  const failed = page.locator('#tiles .tile.failed');
  await failed.waitFor({ timeout: 30000 });
  const reason = await failed.locator('.reason').textContent();
  assert.match(reason, /Testen is mislukt/);
  assert.match(reason, /grading policy: memory\.c_below_mib must be a number/);
  assert.doesNotMatch(reason, /grading policy: grading policy/, 'the agent said what was wrong once');
  assert.equal(await page.locator('[data-count="failed"]').textContent(), '1');
  log('the failed laptop is red with its reason');

  // The language switch, on a screen so small that the failed (third) tile is out of sight: the
  // page fills a tile only when it comes into sight (200 laptops cost what a dozen on the screen
  // do), so it still speaks Dutch until scrolled to, then French.
  await page.setViewportSize({ width: 480, height: 200 });
  await page.locator('#langs button[data-lang="fr"]').click();
  await page.locator('.count.done .what').filter({ hasText: 'terminés' }).waitFor();
  assert.match(await failed.locator('.reason').textContent(), /Testen is mislukt/);
  await failed.scrollIntoViewIfNeeded();
  await failed.locator('.reason').filter({ hasText: /Échec : Tests/ }).waitFor({ timeout: 5000 });
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.locator('#langs button[data-lang="en"]').click();
  await page.locator('.count.done .what').filter({ hasText: 'done' }).waitFor();
  assert.match(page.url(), /lang=en/);
  await page.screenshot({ path: path.join(OUT, 'wall-1920x1080.png') });
  log(`screenshot ${path.join(OUT, 'wall-1920x1080.png')}`);

  // The operator pages (same server, same browser): log in, find the failed laptop with the
  // list's filter, open its page, retry it there; it completes.
  const pagesStarted = Date.now();
  const ops = await context.newPage();
  ops.on('pageerror', (e) => errors.push(String(e)));
  ops.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const ui = await ops.goto(`${base}/ui`);
  assert.match(ui.headers()['content-security-policy'], /script-src 'self'/);
  await ops.locator('#login:not([hidden]) h1').filter({ hasText: 'Aanmelden' }).waitFor();
  await axeCheck(ops, 'the login page');
  await ops.locator('#login-name').fill('alice');
  await ops.locator('#login-password').fill('wrong password');
  await ops.locator('#login-form button[type="submit"]').click();
  await ops.locator('#login-error').filter({ hasText: 'Verkeerde naam' }).waitFor();
  await ops.locator('#login-password').fill('long enough pw');
  await ops.locator('#login-form button[type="submit"]').click();
  await ops.locator('#list:not([hidden])').waitFor();
  const cookie = (await context.cookies()).find((c) => c.name === 'revive_session');
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', JSON.stringify(cookie));
  await ops.locator('#laptops tbody tr').nth(2).waitFor();
  // The grade filter offers the grades grading gives (A, B, C, reject) and "not graded".
  assert.deepEqual(await ops.locator('#f-grade option').evaluateAll((os) => os.map((o) => o.value)),
    ['', 'A', 'B', 'C', 'reject', 'none']);
  await axeCheck(ops, 'the laptop list');
  await ops.locator('#f-state').selectOption('failed');
  await ops.waitForFunction(() => document.querySelectorAll('#laptops tbody tr').length === 1);
  await ops.locator('#laptops tbody tr.failed a').click();
  await ops.locator('#laptop-state.failed').filter({ hasText: 'memory.c_below_mib' }).waitFor();
  assert.match(await ops.locator('#certificates').textContent(), /Nog niet/);
  // Stopping asks first; "No" leaves the laptop as it was.
  await ops.locator('#actions [data-action="cancel"]').click();
  await ops.locator('#confirm[open]').waitFor();
  await ops.locator('#confirm-no').click();
  await ops.locator('#confirm').waitFor({ state: 'hidden' });
  assert.equal(await ops.locator('#laptop-state').getAttribute('class'), 'state failed');
  const laptopPage = ops.url();
  await settingsPage(ops, port, token);
  await ops.goto(laptopPage);
  await ops.locator('#laptop-state.failed').waitFor();
  await ops.locator('#actions [data-action="retry"]').click();
  await ops.locator('#laptop-state.done').waitFor({ timeout: 30000 });
  assert.match(await ops.locator('#grade').textContent(), /^Klasse [ABC]$/);
  // Its reasons, Windows 11's and what it suits in the page's language, worded from the codes
  // the agent sends beside its English sentences.
  const reasons = await ops.locator('#reasons').textContent();
  assert.match(reasons, /hoogstens C: mmcblk0 is 31 GB < 100 GB/);
  assert.match(reasons, /niet gecontroleerd: toetsenbord \(geen toetsenbord gevonden\)/);
  assert.doesNotMatch(reasons, /at most/);
  const figures = await ops.locator('#figures').textContent();
  assert.match(figures, /nee: processor .* staat niet op de lijst voor Windows 11/);
  assert.match(figures, /licht gebruik, .*; Linux \(bv\. Debian\)/);
  assert.match(await ops.locator('#timeline').textContent(), /stap opnieuw geprobeerd \(Testen · alice\)/);
  await ops.screenshot({ path: path.join(OUT, 'laptop-page-1920x1080.png') });
  await axeCheck(ops, 'a laptop page');
  await page.locator('[data-count="failed"]').filter({ hasText: '0' }).waitFor({ timeout: 10000 });
  log(`operator pages: logged in, retried the failed laptop from its page, done `
    + `(${((Date.now() - pagesStarted) / 1000).toFixed(1)} s); screenshot ${path.join(OUT, 'laptop-page-1920x1080.png')}`);
  await imagesAndBatches(ops, port, token);
  await handOver(ops, context, base);
  await ops.close();

  // A server restart: the page notices, reconnects by itself, and shows a laptop that came in
  // meanwhile.
  srv.kill('SIGTERM');
  await new Promise((r) => srv.on('exit', r));
  await page.locator('#conn.lost').waitFor({ timeout: 10000 });
  srv = await startServer(port);
  await api(port, 'POST', '/api/v1/settings', token, { default_workflow: 'wall' });
  agent(port, 'elitebook-840-g5');
  await page.locator('#conn:not(.lost)').waitFor({ timeout: 20000 });
  await tiles.nth(3).waitFor({ timeout: 20000 });
  log('reconnected after the restart; the fourth laptop shows');

  // Revoking the link ends the stream and the page says it is refused.
  ctl('kiosk', 'revoke', kioskId, '--server', base, '--token', token);
  await page.locator('#refused:not([hidden])').waitFor({ timeout: 20000 });
  log('revoked: refused');

  const stats = await page.evaluate(() => window.reviveWallStats);
  log(`the page applied ${stats.events} events: ${(stats.totalMs / stats.events).toFixed(2)} ms each on average, `
    + `${stats.maxMs.toFixed(2)} ms at most`);
  assert.ok(stats.events > 5, JSON.stringify(stats));
  assert.deepEqual(errors.filter((e) => !/401|Failed to load resource|EventSource/.test(e)), []);
  await browser.close();
  log('passed');
}

// Issue 16's partners and hand-over on the operator pages (Dutch, as the browser asks): a new
// organisation, every finished laptop handed over to it, the list as a PDF rendered by
// pdftoppm (some ink on the page), a laptop's page saying where it went, and that laptop lent
// and returned from its page.
async function handOver(ops, context, base) {
  const started = Date.now();
  await ops.locator('#nav a[href="#/partners"]').click();
  await ops.locator('#partners-empty:not([hidden])').waitFor();
  await ops.locator('#org-name').fill('Bibliotheek Noord');
  await ops.locator('#org-contact').fill('Anna, 0470 12 34 56');
  await ops.locator('#org-kind').selectOption('library');
  await ops.locator('#org-form button[type="submit"]').click();
  await ops.locator('#organisations tbody tr').filter({ hasText: 'Bibliotheek' }).waitFor();
  await axeCheck(ops, 'the partners page');
  await ops.locator('#nav a[href="#/handover"]').click();
  await ops.locator('#candidates tbody tr').nth(2).waitFor();
  const laptops = await ops.locator('#candidates tbody tr').count();
  await ops.locator('#handover-org').selectOption({ label: 'Bibliotheek Noord (Bibliotheek)' });
  await ops.locator('#candidates-all').check();
  await ops.screenshot({ path: path.join(OUT, 'handover-1920x1080.png') });
  await ops.locator('#handover-form button[type="submit"]').click();
  await ops.locator('#confirm[open]').filter({ hasText: `${laptops} laptop(s) overdragen` }).waitFor();
  await ops.locator('#confirm-yes').click();
  await ops.locator('#handover-result').filter({ hasText: 'Overgedragen' }).waitFor();
  await ops.locator('#candidates-empty:not([hidden])').waitFor();
  await axeCheck(ops, 'the hand-over page');
  const row = ops.locator('#handovers tbody tr').first();
  assert.match(await row.textContent(), new RegExp(`Bibliotheek Noord.*alice.*${laptops}`));
  const id = await row.getAttribute('data-id');
  const pdf = await context.request.get(`${base}/api/v1/handovers/${id}/list?format=pdf`);
  assert.equal(pdf.status(), 200);
  const file = path.join(OUT, 'handover.pdf');
  writeFileSync(file, await pdf.body());
  execFileSync('pdftoppm', ['-r', '40', '-gray', '-singlefile', file, path.join(OUT, 'handover')]);
  // A PGM: "P5\nW H\n255\n" then one byte a pixel.
  const pgm = readFileSync(path.join(OUT, 'handover.pgm'));
  const header = pgm.toString('latin1', 0, 40).match(/^P5\s+(\d+)\s+(\d+)\s+255\s/);
  assert.ok(header, 'pdftoppm wrote a PGM');
  const pixels = pgm.subarray(header[0].length);
  const ink = pixels.filter((v) => v < 128).length / pixels.length;
  assert.ok(ink > 0.005 && ink < 0.5, `the hand-over list has text on it (ink ${ink})`);
  const csv = await context.request.get(`${base}/api/v1/handovers/${id}/list?format=csv`);
  assert.equal(csv.status(), 200);
  assert.equal((await csv.text()).trim().split('\n').length, laptops + 1);
  await ops.locator('#nav a[href="#/laptops"]').click();
  await ops.locator('#f-state').selectOption('');  // the list still filtered failed laptops
  await ops.locator('#laptops tbody tr.done a').first().click();
  await ops.locator('#went').filter({ hasText: 'Bibliotheek Noord' }).waitFor();
  assert.equal(await ops.locator('#lend-form').isVisible(), true, 'a handed-over laptop can be lent');
  // Lent through the organisation (only the reference it chose), then returned: the laptop is
  // back for a new visit.
  await ops.locator('#lend-reference').fill('kaart 0042');
  await ops.locator('#lend-form button[type="submit"]').click();
  await ops.locator('#loans li').filter({ hasText: /Uitgeleend sinds .* · kaart 0042/ }).waitFor();
  await ops.locator('#whereabouts').screenshot({ path: path.join(OUT, 'laptop-whereabouts.png') });
  await ops.locator('#loan-return').click();
  await ops.locator('#loans li').filter({ hasText: 'teruggebracht' }).waitFor();
  await ops.locator('#went-note').filter({ hasText: 'nieuw bezoek' }).waitFor();
  assert.equal(await ops.locator('#lend-form').isVisible(), false, 'back in the workshop: not lent again');
  log(`hand-over: ${laptops} laptops to a new organisation, list rendered (ink ${(ink * 100).toFixed(1)} %), `
    + 'one lent and returned '
    + `(${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

try {
  await main();
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
