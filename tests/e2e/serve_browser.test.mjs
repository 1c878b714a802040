// The dashboard in a real browser: headless Chromium (Debian's, driven by playwright-core) against
// `lambdaflow serve` over a PostgreSQL fed by the real pipeline (embedded broker, simulate, speed).
// The charts render; the numbers shown for the busiest antenna, the top user and the top app equal
// SQL totals; a second batch of events appears on the open page through Server-Sent Events without
// a reload; screenshots are kept in tests/artifacts/ (dashboard.png, dashboard-phone.png).

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Scope, ARTIFACTS_DIR, query, waitFor } from '../lib/harness.mjs';
import { startServe } from '../lib/serve.mjs';

const CHROMIUM = process.env.LF_CHROMIUM ?? '/usr/bin/chromium';
const scope = new Scope('serve_browser');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));
const s = {};

async function runPipeline(events, start, seed) {
  const sim = await scope.run(['simulate', '--brokers', s.broker.brokers, '--events', String(events), '--start', start,
    '--seed', String(seed)], { timeoutMs: 120000 });
  assert.equal(sim.code, 0, sim.stderr);
  const speed = await scope.run(['speed', '--brokers', s.broker.brokers, '--pg', s.pg.uri, '--exit-when-idle', '3s'],
    { timeoutMs: 180000 });
  assert.equal(speed.code, 0, speed.stderr);
  return JSON.parse(speed.stdout.trim().split('\n').pop());
}

// What the page must show, computed by SQL over the tables (no batch results exist here, so every
// hour is the speed layer's).
async function expected() {
  const top = (type) => query(s.pg.uri, `SELECT b.id, u.name, u.email, sum(b.value)::text AS total
    FROM bytes b LEFT JOIN user_metadata u ON u.id = b.id AND b.type = 'user_bytes_total'
    WHERE b.type = $1 GROUP BY b.id, u.name, u.email ORDER BY sum(b.value) DESC, b.id`, [type]);
  const [{ events }] = await query(s.pg.uri, `SELECT sum(events)::text AS events FROM lf_offsets WHERE sink LIKE 'pg:%'`);
  return {
    antennas: await top('antenna_bytes_total'), users: await top('user_bytes_total'), apps: await top('app_bytes_total'), events,
  };
}

const shown = (page) => page.evaluate(() => {
  const v = (id) => document.getElementById(id);
  return {
    antennaTotal: v('busiest-antenna-total').dataset.value, antennaText: v('busiest-antenna-total').textContent,
    antennaId: v('busiest-antenna-id').textContent,
    userTotal: v('top-user-total').dataset.value, userText: v('top-user-total').textContent,
    userName: v('top-user-name').textContent,
    appTotal: v('top-app-total').dataset.value, appName: v('top-app-name').textContent,
    events: v('events-total').dataset.value,
    users: [...document.querySelectorAll('#table-users tbody tr')].map((tr) =>
      [tr.children[1].textContent, tr.children[2].textContent, tr.children[3].dataset.value]),
    filterOptions: [...document.querySelectorAll('#filter option')].map((o) => o.value),
    refreshes: Number(document.body.dataset.refreshes ?? 0),
    sse: Number(document.body.dataset.events ?? 0),
  };
});

// Pixels drawn on each chart's canvas (an empty chart stays transparent).
const inkPerChart = (page) => page.evaluate(() => Object.fromEntries(
  [...document.querySelectorAll('.chart')].map((div) => {
    const c = div.querySelector('canvas');
    if (!c) return [div.id, 0];
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n += 1;
    return [div.id, n];
  })));

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: run scripts/install-deps.sh (Debian package chromium)`);
  [s.pg, s.broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ partitions: 4 })]);
  const prov = await scope.run(['provision', '--pg', s.pg.uri]);
  assert.equal(prov.code, 0, prov.stderr);
  const summary = await runPipeline(20000, '2026-11-22T09:00:00Z', 3);
  assert.equal(summary.events, 20000);
  s.serve = await startServe(scope, s.pg.uri);
  s.browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  scope.defer(() => s.browser.close());
});

test('the dashboard renders every chart and shows the SQL totals', { timeout: 60000 }, async () => {
  const page = await s.browser.newPage({ viewport: { width: 1400, height: 1000 } });
  s.page = page;
  s.errors = [];
  s.requests = [];
  page.on('pageerror', (e) => s.errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && s.errors.push(m.text()));
  page.on('request', (r) => s.requests.push(r.url()));
  s.navigations = 0;
  page.on('framenavigated', (f) => f === page.mainFrame() && (s.navigations += 1));
  await page.goto(s.serve.url + '/');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  await page.waitForSelector('#live.on', { timeout: 10000 });

  const want = await expected();
  const got = await shown(page);
  assert.equal(got.antennaId, want.antennas[0].id);
  assert.equal(got.antennaTotal, want.antennas[0].total);
  assert.equal(got.antennaText.replace(/\D/g, ''), want.antennas[0].total, 'the visible text, not only the attribute');
  assert.equal(got.userName, `${want.users[0].name} · ${want.users[0].email}`);
  assert.equal(got.userTotal, want.users[0].total);
  assert.equal(got.userText.replace(/\D/g, ''), want.users[0].total);
  assert.equal(got.appName, want.apps[0].id);
  assert.equal(got.appTotal, want.apps[0].total);
  assert.deepEqual(got.users, want.users.slice(0, 10).map((u) => [u.name, u.email, u.total]));
  assert.equal(got.events, want.events);
  assert.deepEqual(got.filterOptions.slice(1).sort(), want.antennas.map((a) => a.id).sort());

  const ink = await inkPerChart(page);
  for (const id of ['chart-windows', 'chart-users', 'chart-apps', 'chart-quota', 'chart-recon', 'chart-lag']) {
    assert.ok(ink[id] > 500, `${id} drew nothing (${ink[id]} pixels)`);
  }
  assert.deepEqual(s.errors, []);
  // Offline: every request went to the server itself.
  assert.ok(s.requests.every((u) => u.startsWith(s.serve.url) || u.startsWith('data:')), s.requests.join('\n'));
});

test('a new batch of events reaches the open page through SSE, without a reload', { timeout: 240000 }, async () => {
  const page = s.page;
  await page.evaluate(() => {
    window.__lfMarker = 'still-the-same-page';
    document.querySelector('#chart-windows canvas').dataset.marker = 'same-canvas';
  });
  const before = await shown(page);
  const summary = await runPipeline(6000, '2026-11-22T09:20:00Z', 4);
  assert.equal(summary.events, 6000);
  const want = await expected();
  assert.notEqual(want.antennas[0].total, before.antennaTotal, 'the second batch changes the busiest antenna total');
  await waitFor(async () => (await shown(page)).events === want.events,
    { timeoutMs: 30000, what: `the page to show ${want.events} events` });
  const got = await shown(page);
  assert.equal(got.antennaId, want.antennas[0].id);
  assert.equal(got.antennaTotal, want.antennas[0].total);
  assert.equal(got.userTotal, want.users[0].total);
  assert.equal(got.appTotal, want.apps[0].total);
  assert.ok(got.sse > before.sse, `SSE events seen by the page: ${before.sse} → ${got.sse}`);
  assert.ok(got.refreshes > before.refreshes);
  const same = await page.evaluate(() => [window.__lfMarker,
    document.querySelector('#chart-windows canvas').dataset.marker]);
  assert.deepEqual(same, ['still-the-same-page', 'same-canvas'], 'no reload and no re-created chart');
  assert.equal(s.navigations, 1, 'one navigation: the initial load');
  assert.deepEqual(s.errors, []);
  await page.waitForTimeout(300);
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'dashboard.png'), fullPage: true });
});

test('readable on a phone: no horizontal scrolling, charts still drawn', { timeout: 60000 }, async () => {
  const page = await s.browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.goto(s.serve.url + '/');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `page is ${width}px wide on a 390px screen`);
  const ink = await inkPerChart(page);
  assert.ok(ink['chart-windows'] > 500);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'dashboard-phone.png'), fullPage: true });
  await page.close();
});
