// The production line's page in a real browser (headless Chromium via playwright-core) against
// `lambdaflow serve --pipeline pipelines/production_line.yaml`, over PostgreSQL fed by the real
// pipeline (embedded broker, `simulate --pipeline`, `speed --pipeline`, `batch --day` for one of
// the two days). Every figure the page shows — today's production, defective units and throughput,
// defects by zone for the day, the per-day table from the _lambda views — equals SQL; the 5-minute
// charts draw; a new batch of simulated units reaches the open page without a reload; nothing
// overflows at 1400 px or on a phone. Screenshots go to tests/artifacts/line*.png.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { Scope, ARTIFACTS_DIR, SOURCE_DIR, query, waitFor } from '../lib/harness.mjs';
import { startServe } from '../lib/serve.mjs';
import { inkPerChart, overflows } from '../lib/browser.mjs';

const CHROMIUM = process.env.LF_CHROMIUM ?? '/usr/bin/chromium';
const LINE = path.join(SOURCE_DIR, 'pipelines/production_line.yaml');
const scope = new Scope('line_browser');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));
const s = {};

async function runLine(units, start, seed) {
  const sim = await scope.run(['simulate', '--pipeline', LINE, '--units', String(units), '--start', start, '--seed',
    String(seed), s.broker.brokers, 'TFI'], { timeoutMs: 120000 });
  assert.equal(sim.code, 0, sim.stderr);
  const speed = await scope.run(['speed', '--pipeline', LINE, s.broker.brokers, 'TFI', '--pg', s.pg.uri,
    '--storage', s.storage, '--exit-when-idle', '3s'], { timeoutMs: 180000 });
  assert.equal(speed.code, 0, speed.stderr.slice(-1500));
}

// The newest row of an ungrouped metric or view, by SQL.
const newest = async (table) => (await query(s.pg.uri,
  `SELECT to_char(window_start, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS t, value::text AS v FROM "${table}"
   ORDER BY window_start DESC LIMIT 1`))[0];

const shownKpis = (page) => page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-kpi]')].map(
  (k) => [k.dataset.kpi, { value: k.querySelector('b').dataset.value, text: k.querySelector('b').textContent,
    title: k.querySelector('b').title, t: k.querySelector('small').dataset.t }])));

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} missing: run scripts/install-deps.sh (Debian package chromium)`);
  [s.pg, s.broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: 'TFI', partitions: 4 })]);
  s.storage = path.join(scope.tmpdir(), 'storage');
  // As `lambdaflow up` does: the telecom tables (empty here) and the line's.
  for (const args of [['provision', '--pg', s.pg.uri], ['provision', '--pg', s.pg.uri, '--pipeline', LINE]]) {
    const prov = await scope.run(args);
    assert.equal(prov.code, 0, prov.stderr);
  }
  await runLine(1200, '2026-11-22T22:30:00Z', 11);
  const batch = await scope.run(['batch', '--pipeline', LINE, '--storage', s.storage, '--pg', s.pg.uri,
    '--day', '2026-11-22'], { timeoutMs: 120000 });
  assert.equal(batch.code, 0, batch.stderr.slice(-1500));
  s.serve = await startServe(scope, s.pg.uri, ['--pipeline', LINE]);
  s.browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  scope.defer(() => s.browser.close());
});

test('/api/metric?layer=lambda serves the _lambda views: batch rows for the recomputed day, speed rows after', async () => {
  const res = await fetch(`${s.serve.url}/api/metric?pipeline=production_line&metric=units_per_zone_daily&layer=lambda`);
  assert.equal(res.status, 200);
  const body = await res.json();
  const sql = await query(s.pg.uri, `SELECT to_char(window_start, 'YYYY-MM-DD') AS d, zone_id, value::bigint AS v, layer
    FROM units_per_zone_daily_lambda ORDER BY 1, 2`);
  assert.deepEqual(body.rows.map((r) => [r.t.slice(0, 10), r.group[0], r.value, r.layer]).sort(),
    sql.map((r) => [r.d, r.zone_id, Number(r.v), r.layer]).sort());
  assert.deepEqual([...new Set(sql.map((r) => `${r.d} ${r.layer}`))].sort(), ['2026-11-22 batch', '2026-11-23 speed']);
  const bad = await fetch(`${s.serve.url}/api/metric?pipeline=production_line&metric=units_per_zone&layer=lambda`);
  assert.equal(bad.status, 404, 'units_per_zone has no batch metric');
  const wrong = await fetch(`${s.serve.url}/api/metric?pipeline=production_line&metric=units_per_zone&layer=both`);
  assert.equal(wrong.status, 400);
});

async function checkPage(page) {
  // Large figures: the newest day of each ungrouped metric and of throughput_pct.
  const kpis = await shownKpis(page);
  assert.deepEqual(Object.keys(kpis).sort(), ['daily_production', 'defective_units_daily', 'throughput_pct']);
  for (const name of ['daily_production', 'defective_units_daily']) {
    const want = await newest(name);
    assert.equal(kpis[name].value, want.v, `${name} figure`);
    assert.equal(kpis[name].t, want.t, `${name} day`);
    assert.equal(kpis[name].text.replace(/\D/g, ''), want.v, `${name}: the visible text`);
  }
  const tp = await newest('throughput_pct');
  assert.ok(Math.abs(Number(kpis.throughput_pct.value) - Number(tp.v)) < 1e-9, `throughput ${kpis.throughput_pct.value} vs ${tp.v}`);
  assert.equal(kpis.throughput_pct.text, `${Number(tp.v).toFixed(1)} %`);

  // Defects by zone for the newest day, bars and their table.
  const bars = await page.evaluate(() => {
    const t = document.querySelector('[data-testid="bars-defects_per_zone_daily"]');
    return { t: t.dataset.t, rows: [...t.querySelectorAll('tbody tr')].map((tr) => [tr.children[0].title || tr.children[0].textContent, tr.children[1].dataset.value]) };
  });
  const day = await query(s.pg.uri, `SELECT zone_charged_id AS z, value::text AS v FROM defects_per_zone_daily
    WHERE window_start = (SELECT max(window_start) FROM defects_per_zone_daily) ORDER BY 1`);
  assert.deepEqual(bars.rows.sort(), day.map((r) => [r.z, r.v]).sort());

  // The per-day table: every cell against its _lambda view.
  const cells = await page.evaluate(() => [...document.querySelectorAll('[data-testid="per-day"] tbody tr')].flatMap((tr) =>
    [...tr.querySelectorAll('td[data-metric]')].map((td) => [tr.dataset.day.slice(0, 10), td.dataset.metric,
      td.dataset.group ? JSON.parse(td.dataset.group).join('|') : '', td.dataset.value])));
  const want = [];
  for (const [metric, group] of [['units_per_zone_daily', 'zone_id'], ['defects_per_zone_daily', 'zone_charged_id'],
    ['daily_production', null], ['defective_units_daily', null]]) {
    const rows = await query(s.pg.uri, `SELECT to_char(window_start, 'YYYY-MM-DD') AS d, ${group ? `${group}::text` : "''"} AS g,
      value::text AS v FROM "${metric}_lambda"`);
    for (const r of rows) want.push([r.d, metric, r.g, r.v]);
  }
  const got = cells.filter((c) => c[3] !== '');
  assert.deepEqual(got.map((c) => c.join(' ')).sort(), want.map((c) => c.join(' ')).sort(), 'per-day table = _lambda views');
  const layers = await page.evaluate(() => [...document.querySelectorAll('[data-testid="per-day"] tbody tr')].map((tr) =>
    `${tr.dataset.day.slice(0, 10)} ${tr.lastElementChild.textContent}`));
  const sqlLayers = await query(s.pg.uri, `SELECT to_char(window_start, 'YYYY-MM-DD') AS d, string_agg(DISTINCT layer, ' + ' ORDER BY layer) AS l
    FROM (SELECT window_start, layer FROM daily_production_lambda UNION ALL SELECT window_start, layer FROM units_per_zone_daily_lambda
      UNION ALL SELECT window_start, layer FROM defects_per_zone_daily_lambda UNION ALL SELECT window_start, layer FROM defective_units_daily_lambda) x
    GROUP BY 1 ORDER BY 1 DESC`);
  assert.deepEqual(layers, sqlLayers.map((r) => `${r.d} ${r.l}`));
}

test('the production line\'s page shows SQL\'s figures, draws its charts and overflows nowhere', { timeout: 90000 }, async () => {
  const page = await s.browser.newPage({ viewport: { width: 1400, height: 1000 } });
  s.page = page;
  s.errors = [];
  page.on('pageerror', (e) => s.errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && s.errors.push(m.text()));
  s.navigations = 0;
  page.on('framenavigated', (f) => f === page.mainFrame() && (s.navigations += 1));
  // No page chosen and no telecom data: the dashboard opens on the line.
  await page.goto(s.serve.url + '/');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  assert.equal(await page.evaluate(() => document.body.dataset.page), 'pipeline:production_line');
  const tabs = await page.evaluate(() => [...document.querySelectorAll('#tabs a')].map((a) => `${a.textContent}${a.className === 'on' ? '*' : ''}`));
  assert.deepEqual(tabs, ['Telecom', 'production_line*']);
  await page.waitForSelector('#live.on', { timeout: 10000 });
  await checkPage(page);
  const ink = await inkPerChart(page, '#page-pipeline .chart');
  for (const id of ['chart-m-units_per_zone', 'chart-m-defects_per_zone', 'chart-m-units_per_zone_daily', 'chart-m-defects_per_zone_daily']) {
    assert.ok(ink[id] > 500, `${id} drew nothing (${ink[id]} pixels)`);
  }
  assert.deepEqual(await overflows(page), []);
  assert.match(await page.textContent('#pipeline-changed'), /^Figures last changed at \d\d:\d\d:\d\d UTC · watermark 2026-11-23 /);
  assert.deepEqual(s.errors, []);
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'line.png'), fullPage: true });
});

test('a new batch of simulated units appears on the open page without a reload', { timeout: 240000 }, async () => {
  const page = s.page;
  assert.ok(page, 'the page test failed');
  await page.evaluate(() => { window.__lfMarker = 'same-page'; });
  const before = await shownKpis(page);
  const changedBefore = await page.evaluate(() => document.getElementById('pipeline-changed').dataset.changed);
  const events = Number(await page.evaluate(() => document.body.dataset.events ?? 0));
  await runLine(400, '2026-11-23T05:00:00Z', 12);
  const want = await newest('daily_production');
  assert.notEqual(want.v, before.daily_production.value, 'the new units change today\'s production');
  await waitFor(async () => (await shownKpis(page)).daily_production.value === want.v,
    { timeoutMs: 30000, what: `the page to show ${want.v} units produced` });
  await checkPage(page);
  assert.ok(Number(await page.evaluate(() => document.body.dataset.events)) > events, 'pushed by Server-Sent Events');
  assert.notEqual(await page.evaluate(() => document.getElementById('pipeline-changed').dataset.changed), changedBefore,
    'the page says the figures changed');
  assert.equal(await page.evaluate(() => window.__lfMarker), 'same-page');
  assert.equal(s.navigations, 1, 'one navigation: the initial load');
  assert.deepEqual(s.errors, []);
});

test('on a phone: no horizontal scrolling, figures and tables readable', { timeout: 60000 }, async () => {
  const page = await s.browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.goto(s.serve.url + '/#pipeline=production_line');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  assert.equal(await page.evaluate(() => document.body.dataset.page), 'pipeline:production_line');
  assert.deepEqual(await overflows(page), []);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'line-phone.png'), fullPage: true });
  // The telecom tab still works.
  await page.click('#tabs a[href="#telecom"]');
  await waitFor(() => page.evaluate(() => document.body.dataset.page === 'telecom'), { what: 'the telecom page' });
  await page.close();
});
