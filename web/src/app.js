// Lambdaflow dashboard: reads the JSON API, draws with Apache ECharts, and refreshes in place
// when the server pushes an event (Server-Sent Events at /api/events). No reload, no CDN.
import * as echarts from 'echarts/core';
import { LineChart, BarChart } from 'echarts/charts';
import {
  GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, MarkAreaComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, BarChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent,
  MarkAreaComponent, CanvasRenderer]);

const $ = (id) => document.getElementById(id);
const fmtInt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
const pad = (n) => String(n).padStart(2, '0');
const utc = (ms, withDate = true) => {
  const d = new Date(ms);
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return withDate ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${hm}` : hm;
};
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const shortId = (id) => (id && id.length > 13 && /^[0-9a-f-]{36}$/i.test(id) ? `${id.slice(0, 8)}…${id.slice(-4)}` : id);
const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
};
const HOUR = 3600e3;
const DAY = 24 * HOUR;

const charts = {};
function chart(id) {
  if (!charts[id]) {
    charts[id] = echarts.init($(id), null, { renderer: 'canvas' });
    new ResizeObserver(() => charts[id].resize()).observe($(id));
  }
  return charts[id];
}
const timeAxis = {
  type: 'time',
  axisLabel: { formatter: (v) => utc(v, false), hideOverlap: true },
};
const valueAxis = {
  type: 'value',
  axisLabel: { formatter: (v) => (v >= 1e9 ? `${v / 1e9} G` : v >= 1e6 ? `${v / 1e6} M` : v >= 1e3 ? `${v / 1e3} k` : v) },
};

async function api(path, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== ''));
  const res = await fetch(`/api/${path}${q.toString() ? '?' + q : ''}`, { cache: 'no-store' });
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${body.error ?? res.status}`);
  return body;
}

// ---- the range: relative to the newest window of data (simulated data may lie in the past)
let health = null;
function currentRange() {
  const mode = $('range').value;
  if (mode === 'custom') {
    const f = Date.parse(($('from').value || '') + 'Z');
    const t = Date.parse(($('to').value || '') + 'Z');
    if (Number.isFinite(f) && Number.isFinite(t) && f < t) return { from: f, to: t };
  }
  const last = health?.last_window ? Date.parse(health.last_window) + 5 * 60e3 : Math.ceil(Date.now() / 60e3) * 60e3;
  const first = health?.first_window ? Date.parse(health.first_window) : last - HOUR;
  const span = { '1h': HOUR, '6h': 6 * HOUR, '24h': DAY }[mode];
  if (span) return { from: last - span, to: last };
  return { from: Math.max(first, last - 7 * DAY), to: last };
}

// ---- views
function drawWindows(w, kind) {
  const byId = new Map();
  let firstOpen = null;
  for (const r of w.rows) {
    const t = Date.parse(r.t);
    if (!byId.has(r.id)) byId.set(r.id, { name: r.name ?? r.id, points: [] });
    byId.get(r.id).points.push({ value: [t, r.value], open: r.open });
    if (r.open && (firstOpen === null || t < firstOpen)) firstOpen = t;
  }
  const series = [...byId.entries()].map(([id, s], i) => ({
    id,
    name: kind === 'user_bytes_total' ? s.name : shortId(id),
    type: 'line',
    showSymbol: true,
    symbolSize: (v, p) => (p.data.open ? 7 : 3),
    data: s.points.map((p) => ({
      value: p.value,
      open: p.open,
      symbol: p.open ? 'emptyCircle' : 'circle',
    })),
    markArea: i === 0 && firstOpen !== null ? {
      silent: true,
      itemStyle: { color: 'rgba(245,159,0,0.12)' },
      label: { show: true, position: 'insideTop', color: '#a84300', formatter: 'open' },
      data: [[{ xAxis: firstOpen }, { xAxis: Date.parse(w.to) }]],
    } : undefined,
  }));
  chart('chart-windows').setOption({
    animation: false,
    grid: { left: 56, right: 16, top: 36, bottom: 56 },
    legend: { type: 'scroll', top: 0 },
    tooltip: {
      trigger: 'axis',
      formatter: (ps) => `${utc(ps[0].value[0])} UTC<br>` + ps.map((p) =>
        `${p.marker}${p.seriesName}: ${fmtInt(p.value[1])}${p.data.open ? ' (open)' : ''}`).join('<br>'),
    },
    xAxis: { ...timeAxis, min: Date.parse(w.from), max: Date.parse(w.to) },
    yAxis: valueAxis,
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }],
    series,
  }, { replaceMerge: ['series'] });
}

function fillTable(id, rows) {
  const body = $(id).querySelector('tbody');
  body.replaceChildren(...rows.map((cells) => {
    const tr = el('tr');
    for (const c of cells) {
      if (c instanceof Node) {
        const td = el('td');
        td.append(c);
        tr.append(td);
      } else if (typeof c === 'object' && c !== null) {
        const td = el('td', c.text, c.cls);
        if (c.value !== undefined) td.dataset.value = String(c.value);
        if (c.title) td.title = c.title;
        tr.append(td);
      } else tr.append(el('td', c));
    }
    return tr;
  }));
}

function drawBars(id, rows, label) {
  const top = rows.slice(0, 10).reverse();
  chart(id).setOption({
    animation: false,
    grid: { left: 8, right: 16, top: 8, bottom: 24, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: fmtInt },
    xAxis: valueAxis,
    yAxis: { type: 'category', data: top.map(label), axisLabel: { width: 110, overflow: 'truncate' } },
    series: [{ type: 'bar', data: top.map((r) => r.total), itemStyle: { color: '#2f6fdf' } }],
  });
}

function drawTop(users, apps, antennas) {
  const layerTag = (r) => (r.layers?.includes('batch') ? ' (batch)' : '');
  drawBars('chart-users', users.rows, (r) => r.name ?? shortId(r.id));
  fillTable('table-users', users.rows.map((r, i) => [
    String(i + 1), { text: r.name ?? r.id, title: r.id }, r.email ?? '',
    { text: fmtInt(r.total) + layerTag(r), cls: 'num', value: r.total },
  ]));
  drawBars('chart-apps', apps.rows, (r) => r.id);
  fillTable('table-apps', apps.rows.map((r, i) => [String(i + 1), r.id, { text: fmtInt(r.total), cls: 'num', value: r.total }]));
  const kpi = (prefix, row, name) => {
    $(`${prefix}-total`).textContent = row ? fmtInt(row.total) : '–';
    $(`${prefix}-total`).dataset.value = row ? String(row.total) : '';
    $(name).textContent = row ? (row.name ? `${row.name} · ${row.email}` : row.id) : 'no data in range';
    $(name).title = row?.id ?? '';
    $(name).dataset.id = row?.id ?? '';
  };
  kpi('busiest-antenna', antennas.rows[0], 'busiest-antenna-id');
  kpi('top-user', users.rows[0], 'top-user-name');
  kpi('top-app', apps.rows[0], 'top-app-name');
}

function drawQuota(q) {
  const hours = [...new Set(q.rows.map((r) => r.t))];
  chart('chart-quota').setOption({
    animation: false,
    grid: { left: 40, right: 16, top: 16, bottom: 28 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: hours.map((h) => utc(Date.parse(h))) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', data: hours.map((h) => q.rows.filter((r) => r.t === h).length), itemStyle: { color: '#d9480f' } }],
  });
  const tag = (r) => {
    const s = el('span', r.open ? `${r.layer} · open` : r.layer, `tag ${r.layer}${r.open ? ' open' : ''}`);
    return s;
  };
  fillTable('table-quota', q.rows.slice(0, 200).map((r) => [
    { text: utc(Date.parse(r.t)).slice(5), cls: 'nowrap' }, { text: r.name ?? r.email, title: r.email },
    { text: fmtInt(r.usage), cls: 'num', value: r.usage }, { text: fmtInt(r.quota), cls: 'num' }, tag(r),
  ]));
  if (q.rows.length === 0) fillTable('table-quota', [['no user over quota in this range', '', '', '', '']]);
}

function drawRecon(rec) {
  const hours = rec.hours.filter((h) => h.type === 'antenna_bytes_total');
  const ran = hours.some((h) => h.batch_ran);
  $('batch-note').textContent = ran
    ? `Batch results for ${hours.filter((h) => h.batch_ran).length} hour(s); differing keys: ${hours.reduce((a, h) => a + (h.batch_ran ? h.keys_differing : 0), 0)}.`
    : 'The batch layer has not produced results for this range yet: hours are served by the speed layer.';
  chart('chart-recon').setOption({
    animation: false,
    grid: { left: 56, right: 16, top: 30, bottom: 28 },
    legend: { top: 0 },
    tooltip: { trigger: 'axis', valueFormatter: fmtInt },
    xAxis: { type: 'category', data: hours.map((h) => utc(Date.parse(h.t))) },
    yAxis: valueAxis,
    series: [
      { name: 'speed (5-min roll-up)', type: 'bar', data: hours.map((h) => h.speed), itemStyle: { color: '#f59f00' } },
      { name: 'batch (exact)', type: 'bar', data: hours.map((h) => h.batch), itemStyle: { color: '#2f6fdf' } },
    ],
  });
}

function drawHealth(h) {
  const t = h.totals;
  $('events-rate').textContent = h.events_per_second === null ? '–' : h.events_per_second.toFixed(1);
  $('events-total').textContent = `${fmtInt(t.events)} events in total`;
  $('events-total').dataset.value = String(t.events);
  $('watermark').textContent = h.watermark ? utc(Date.parse(h.watermark)) : '–';
  $('commit-age').textContent = h.last_commit_age_seconds === null ? 'no commit yet'
    : `last commit ${Math.round(h.last_commit_age_seconds)} s ago`;
  const items = [
    ['events', fmtInt(t.events), false, 'health-events', t.events],
    ['events/s (last min)', h.events_per_second === null ? '–' : h.events_per_second.toFixed(1)],
    ['consumer lag (sum)', fmtInt(t.lag), t.lag > 0],
    ['watermark (UTC)', h.watermark ? utc(Date.parse(h.watermark)) : '–'],
    ['last commit', h.last_commit ? `${utc(Date.parse(h.last_commit))} (${Math.round(h.last_commit_age_seconds)} s ago)` : '–'],
    ['late events', fmtInt(t.late), false, 'health-late', t.late],
    ['bad records', fmtInt(t.bad), t.bad > 0, 'health-bad', t.bad],
    ['lost (retention)', fmtInt(t.lost), t.lost > 0, 'health-lost', t.lost],
    ['dead letters', fmtInt(h.dead_letters), h.dead_letters > 0],
    ['data-loss records', fmtInt(h.data_loss_records), h.data_loss_records > 0],
    ['batch hours', fmtInt(h.batch.hours)],
    ['5-min windows', fmtInt(h.tables.bytes)],
  ];
  $('health-list').replaceChildren(...items.flatMap(([k, v, warn, id, raw]) => {
    const dd = el('dd', v, warn ? 'warn' : undefined);
    if (id) {
      dd.id = id;
      dd.dataset.value = String(raw);
    }
    return [el('dt', k), dd];
  }));
  const parts = h.partitions;
  chart('chart-lag').setOption({
    animation: false,
    grid: { left: 48, right: 16, top: 24, bottom: 28 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', name: 'partition', data: parts.map((p) => String(p.partition)) },
    yAxis: { type: 'value', name: 'lag', minInterval: 1 },
    series: [{ type: 'bar', data: parts.map((p) => p.lag ?? 0), itemStyle: { color: '#7048e8' } }],
  });
  if (h.data_loss.length === 0) fillTable('table-loss', [['no data loss recorded', '', '', '', '']]);
  else fillTable('table-loss', h.data_loss.map((d) => [utc(Date.parse(d.detected_at)), d.pipeline, String(d.partition),
    `${d.from_offset}–${d.to_offset}`, { text: fmtInt(d.lost), cls: 'num' }]));
}

function updateFilterOptions(rows, kind) {
  const sel = $('filter');
  const keep = sel.value;
  const ids = new Map();
  for (const r of rows) ids.set(r.id, r.name ?? r.id);
  const wanted = ['', ...[...ids.keys()].sort((a, b) => String(ids.get(a)).localeCompare(String(ids.get(b))))];
  const have = [...sel.options].map((o) => o.value);
  if (sel.dataset.kind === kind && wanted.length === have.length && wanted.every((v, i) => v === have[i])) return;
  sel.dataset.kind = kind;
  sel.replaceChildren(...wanted.map((id) => {
    const o = el('option', id === '' ? 'all' : kind === 'user_bytes_total' ? ids.get(id) : id);
    o.value = id;
    return o;
  }));
  sel.value = wanted.includes(keep) ? keep : '';
}

// ---- pipelines from definitions (the catalog): the newest window of each metric per group
const fmtWindow = (s) => (s % 86400 === 0 ? `${s / 86400}d` : s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`);
const fmtValue = (v) => (v === null || v === undefined ? '–' : Number.isInteger(v) ? fmtInt(v) : Number(v).toFixed(2));

function metricBlock(m, data) {
  const box = el('div', null, 'metric');
  box.dataset.metric = m.name;
  const what = m.kind === 'derived' ? m.expr : m.aggregate;
  box.append(el('h4', `${m.name} · ${what} · ${fmtWindow(m.window_s)}${m.group_by.length ? ` by ${m.group_by.join(', ')}` : ''}`));
  // Rows come oldest first: the last one of each group is its newest window.
  const latest = new Map();
  for (const r of data.rows) latest.set(JSON.stringify(r.group), r);
  const table = el('table');
  const head = el('tr');
  for (const g of m.group_by) head.append(el('th', g));
  head.append(el('th', 'window (UTC)'), el('th', 'value', 'num'), el('th', ''));
  const thead = el('thead');
  thead.append(head);
  const body = el('tbody');
  const rows = [...latest.values()].sort((a, b) => String(a.group).localeCompare(String(b.group)));
  for (const r of rows) {
    const tr = el('tr');
    for (const g of r.group) tr.append(el('td', g ?? '–'));
    tr.append(el('td', utc(Date.parse(r.t)), 'nowrap'));
    const td = el('td', fmtValue(r.value), 'num');
    td.dataset.value = String(r.value);
    td.title = String(r.value);
    tr.append(td, r.open ? el('td', 'open', 'tag open') : el('td', ''));
    body.append(tr);
  }
  if (!rows.length) body.append(el('tr', 'no data yet'));
  table.append(thead, body);
  box.append(table);
  return box;
}

async function drawPipelines() {
  const list = (await api('pipelines')).filter((p) => p.layout === 'wide');
  $('pipelines').hidden = list.length === 0;
  const blocks = [];
  for (const p of list) {
    const block = el('div', null, 'pipeline');
    block.dataset.pipeline = p.name;
    const shown = p.metrics.filter((m) => m.kind !== 'batch');
    block.append(el('h3', `${p.name} · ${p.source === 'kafka' ? `Kafka topic ${p.topic}` : p.topic} · ${shown.length} metrics`));
    const grid = el('div', null, 'metrics');
    const data = await Promise.all(shown.map((m) => api('metric', { pipeline: p.name, metric: m.name, limit: 2000 })));
    shown.forEach((m, i) => grid.append(metricBlock(m, data[i])));
    block.append(grid);
    blocks.push(block);
  }
  $('pipelines-body').replaceChildren(...blocks);
}

// ---- refresh: one at a time; a request arriving meanwhile runs once after it
let running = null;
let again = false;
let refreshes = 0;
async function refresh() {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    try {
      // Pipelines from definitions first: they do not need the telecom tables, and a failure
      // there leaves the telecom panels alone.
      try {
        await drawPipelines();
      } catch (e) {
        console.error(e);
      }
      health = await api('health');
      drawHealth(health);
      const r = currentRange();
      const range = { from: iso(r.from), to: iso(r.to) };
      const kind = $('kind').value;
      const filter = $('filter').dataset.kind === kind ? $('filter').value : '';
      const [all, users, apps, antennas, quota, recon] = await Promise.all([
        api('windows', { type: kind, ...range }),
        api('top', { kind: 'users', limit: 10, ...range }),
        api('top', { kind: 'apps', limit: 10, ...range }),
        api('top', { kind: 'antennas', limit: 1, ...range }),
        api('quota', range),
        api('reconciliation', { ...range, limit: 1 }),
      ]);
      updateFilterOptions(all.rows, kind);
      const shown = filter ? { ...all, rows: all.rows.filter((x) => x.id === filter) } : all;
      const noun = { antenna_bytes_total: 'antenna', user_bytes_total: 'user', app_bytes_total: 'app' }[kind];
      $('windows-title').textContent = `Bytes per ${noun}, 5-minute windows${filter ? ' (filtered)' : ''}`;
      drawWindows(shown, kind);
      drawTop(users, apps, antennas);
      drawQuota(quota);
      drawRecon(recon);
      refreshes += 1;
      document.body.dataset.refreshes = String(refreshes);
      document.body.dataset.ready = 'true';
    } catch (e) {
      console.error(e);
      $('live').textContent = `error: ${e.message}`;
      $('live').className = 'live off';
    } finally {
      running = null;
      if (again) {
        again = false;
        refresh();
      }
    }
  })();
  return running;
}

// ---- push updates
let events = 0;
function connect() {
  const es = new EventSource('/api/events');
  const onUpdate = (e) => {
    events += 1;
    document.body.dataset.events = String(events);
    const layer = e.type;
    $('live').textContent = `live · ${layer} update ${utc(Date.now(), false)}`;
    refresh();
  };
  es.addEventListener('hello', () => {
    $('live').textContent = 'live';
    $('live').className = 'live on';
  });
  es.addEventListener('speed', onUpdate);
  es.addEventListener('batch', onUpdate);
  es.onerror = () => {
    $('live').textContent = 'reconnecting…';
    $('live').className = 'live off';
  };
}

$('controls').addEventListener('submit', (e) => e.preventDefault());
for (const id of ['range', 'kind', 'filter', 'from', 'to']) {
  $(id).addEventListener('change', () => {
    if (id === 'range') {
      const custom = $('range').value === 'custom';
      $('custom').hidden = !custom;
      if (custom && !$('from').value) {
        const r = currentRange();
        $('from').value = iso(r.from).slice(0, 16);
        $('to').value = iso(r.to).slice(0, 16);
      }
    }
    refresh();
  });
}
// A slow refresh as well, so ages and rates move even when nothing is committed.
setInterval(refresh, 30000);
connect();
refresh();
