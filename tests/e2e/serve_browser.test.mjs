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
import { Scope, ARTIFACTS_DIR, query, waitFor, produceRaw } from '../lib/harness.mjs';
import { startServe } from '../lib/serve.mjs';
import { inkPerChart, overflows } from '../lib/browser.mjs';

const CHROMIUM = process.env.LF_CHROMIUM ?? '/usr/bin/chromium';
const scope = new Scope('serve_browser');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));
const s = {};

async function runPipeline(events, start, seed, devices = 20) {
  const sim = await scope.run(['simulate', '--brokers', s.broker.brokers, '--events', String(events), '--start', start,
    '--seed', String(seed), '--devices', String(devices)], { timeoutMs: 120000 });
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

// Independent of the page's code: a byte count with three significant digits and a decimal unit,
// and an exact count with thousands separators (from the digits, so past 2^53 too).
function compactBytes(digits) {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.min(Math.floor((digits.length - 1) / 3), units.length - 1);
  if (e === 0) return `${digits} B`;
  const v = Number(`${digits.slice(0, digits.length - 3 * e)}.${digits.slice(digits.length - 3 * e)}`);
  let text = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  if (Number(text) >= 1000) return `1.00 ${units[e + 1]}`;
  return `${text} ${units[e]}`;
}
const fmtExact = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');

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
  assert.equal(await page.getAttribute('#busiest-antenna-total', 'title'), `${fmtExact(want.antennas[0].total)} bytes`,
    'the exact figure on hover');
  assert.equal(got.antennaText, compactBytes(want.antennas[0].total), 'the visible text, not only the attribute');
  assert.equal(got.userName, `${want.users[0].name} · ${want.users[0].email}`);
  assert.equal(got.userTotal, want.users[0].total);
  assert.equal(got.userText, compactBytes(want.users[0].total));
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

// An independent run broke the page with 400 devices (380 without user_metadata) and one event of
// 9 007 199 254 740 993 bytes: figures overflowed their cards, axis labels were cut, UUIDs wrapped
// over four lines and the quota table squeezed its user column to a letter per line.
test('survives real data: 400 devices, 380 of them unknown, and a total past 2^53', { timeout: 240000 }, async () => {
  const summary = await runPipeline(20000, '2026-11-22T10:00:00Z', 5, 400);
  assert.equal(summary.events, 20000);
  const huge = '9007199254740993';
  const who = '7f3c2a9e-1b4d-4e8f-9a6b-2c5d8e1f0a37';
  const antenna = 'c0ffee00-0000-4000-8000-00000000a9e5';
  await produceRaw(s.broker.brokers, 'devices', 0, [JSON.stringify({ bytes: 1, timestamp: Date.parse('2026-11-22T10:10:00Z') / 1000, app: 'SKYPE', id: who,
    antenna_id: antenna }).replace('"bytes":1', `"bytes":${huge}`)]);
  const speed = await scope.run(['speed', '--brokers', s.broker.brokers, '--pg', s.pg.uri, '--exit-when-idle', '3s'],
    { timeoutMs: 180000 });
  assert.equal(speed.code, 0, speed.stderr);
  const want = await expected();
  assert.equal(want.antennas[0].id, antenna);
  assert.ok(BigInt(want.antennas[0].total) > BigInt(Number.MAX_SAFE_INTEGER), want.antennas[0].total);
  const unknown = await query(s.pg.uri, `SELECT count(DISTINCT id)::int AS n FROM bytes WHERE type = 'user_bytes_total'
    AND id NOT IN (SELECT id FROM user_metadata)`);
  assert.ok(unknown[0].n >= 380, `${unknown[0].n} devices without metadata`);

  for (const [width, height, file] of [[1400, 1000, 'dashboard-real-data.png'], [390, 844, 'dashboard-real-data-phone.png']]) {
    const page = await s.browser.newPage({ viewport: { width, height }, ...(width < 500 ? { isMobile: true, hasTouch: true } : {}) });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(s.serve.url + '/');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
    const got = await shown(page);
    // Exact past 2^53: the attribute and the hover text carry every digit.
    assert.equal(got.antennaTotal, want.antennas[0].total);
    assert.equal(got.antennaText, compactBytes(want.antennas[0].total));
    assert.equal(await page.getAttribute('#busiest-antenna-total', 'title'), `${fmtExact(want.antennas[0].total)} bytes`);
    assert.equal(got.userTotal, want.users[0].total);
    // Unknown users by a shortened id, the full one on hover.
    const users = await page.evaluate(() => [...document.querySelectorAll('#table-users tbody tr')].map((tr) =>
      [tr.children[1].textContent, tr.children[1].title]));
    assert.equal(users[0][1], who);
    for (const [text, title] of users) {
      assert.ok(text.length <= 16, `user cell "${text}" is not shortened`);
      assert.ok(title.length >= text.length);
    }
    // The axis labels of the largest value are short (the chart's own formatter at the maximum).
    const label = await page.evaluate((v) => window.lambdaflow.charts['chart-windows'].getOption().yAxis[0].axisLabel.formatter(v),
      Number(want.antennas[0].total));
    assert.equal(label, compactBytes(want.antennas[0].total));
    assert.deepEqual(await overflows(page), [], `at ${width} px`);
    const ink = await inkPerChart(page);
    assert.ok(ink['chart-windows'] > 500);
    assert.deepEqual(errors, []);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, file), fullPage: true });
    await page.close();
  }
});
