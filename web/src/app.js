// Lambdaflow dashboard: reads the JSON API, draws with Apache ECharts, and refreshes in place
// when the server pushes an event (Server-Sent Events at /api/events). No reload, no CDN.
import {
  $, el, api, chart, fillTable, drawLines, drawBars, fmtInt, fmtBytes, exact, valueAxis, utc, utcDay, iso, shortId, HOUR, DAY,
} from './common.js';
import { drawPipelinePage } from './pipeline_page.js';
import { drawIngestPage } from './ingest_page.js';

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
  for (const r of w.rows) {
    if (!byId.has(r.id)) {
      byId.set(r.id, { id: r.id, name: kind === 'user_bytes_total' && r.name ? r.name : shortId(r.id), points: [] });
    }
    byId.get(r.id).points.push({ t: Date.parse(r.t), value: r.value, open: r.open });
  }
  drawLines('chart-windows', [...byId.values()], {
    from: Date.parse(w.from), to: Date.parse(w.to), fmt: fmtBytes, valueName: 'bytes',
  });
}

const bytesCell = (v, suffix = '') => ({ text: fmtBytes(v) + suffix, cls: 'num', value: v, title: exact(v, 'bytes') });

function drawTop(users, apps, antennas) {
  const layerTag = (r) => (r.layers?.includes('batch') ? ' (batch)' : '');
  const bar = (label) => (r) => ({ label: label(r), title: r.name ? `${r.name} (${r.id})` : r.id, value: r.total });
  drawBars('chart-users', users.rows.map(bar((r) => r.name ?? shortId(r.id))), { fmt: fmtBytes, unit: 'bytes' });
  fillTable('table-users', users.rows.map((r, i) => [
    String(i + 1), { text: r.name ?? shortId(r.id), title: r.id, cls: 'ellipsis' },
    { text: r.email ?? '', title: r.email ?? undefined, cls: 'ellipsis' }, bytesCell(r.total, layerTag(r)),
  ]));
  drawBars('chart-apps', apps.rows.map(bar((r) => shortId(r.id))), { fmt: fmtBytes, unit: 'bytes' });
  fillTable('table-apps', apps.rows.map((r, i) => [String(i + 1), { text: shortId(r.id), title: r.id, cls: 'ellipsis' },
    bytesCell(r.total)]));
  const kpi = (prefix, row, name) => {
    $(`${prefix}-total`).textContent = row ? fmtBytes(row.total) : '–';
    $(`${prefix}-total`).title = row ? exact(row.total, 'bytes') : '';
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
    { text: utc(Date.parse(r.t)).slice(5), cls: 'nowrap' }, { text: r.name ?? r.email, title: r.email, cls: 'ellipsis' },
    bytesCell(r.usage), bytesCell(r.quota), tag(r),
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
    grid: { left: 8, right: 16, top: 30, bottom: 8, containLabel: true },
    legend: { top: 0 },
    tooltip: { trigger: 'axis', confine: true, valueFormatter: (v) => `${fmtBytes(v)} (${exact(v, 'bytes')})` },
    xAxis: { type: 'category', data: hours.map((h) => utc(Date.parse(h.t))) },
    yAxis: valueAxis(fmtBytes),
    series: [
      { name: 'speed (5-min roll-up)', type: 'bar', data: hours.map((h) => h.speed), itemStyle: { color: '#f59f00' } },
      { name: 'batch (exact)', type: 'bar', data: hours.map((h) => h.batch), itemStyle: { color: '#2f6fdf' } },
    ].map((x) => ({ ...x, data: x.data.map((v) => (v === null ? null : Number(v))) })),
  });
}

function drawHealth(h) {
  const t = h.totals;
  $('events-rate').textContent = h.events_per_second === null ? '–' : h.events_per_second.toFixed(1);
  $('events-total').textContent = `${fmtInt(t.events)} events in total`;
  $('events-total').dataset.value = String(t.events);
  // The time large, the day and the last commit below: a full date does not fit a phone's card.
  $('watermark').textContent = h.watermark ? utc(Date.parse(h.watermark), false) : '–';
  $('watermark').title = h.watermark ? `${utc(Date.parse(h.watermark))} UTC` : '';
  $('commit-age').textContent = `${h.watermark ? `${utcDay(Date.parse(h.watermark))} · ` : ''}${h.last_commit_age_seconds === null
    ? 'no commit yet' : `last commit ${Math.round(h.last_commit_age_seconds)} s ago`}`;
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

// ---- pages: the telecom page, and one per wide-layout pipeline in the catalog (#pipeline=NAME)
let catalog = [];
const pageName = () => {
  const m = /^#pipeline=(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
};
const INGEST = '#ingest';
function drawTabs(telecomWindows) {
  // Pipelines with metrics get a page each; those that only land data (files or topics into
  // bronze) share the Ingestion page.
  const wide = catalog.filter((p) => p.layout === 'wide' && p.source !== 'landing' && p.metrics.length > 0);
  const landing = catalog.some((p) => p.source === 'landing' || (p.metrics.length === 0 && p.lake_dataset));
  let current = location.hash === INGEST && landing ? INGEST : pageName();
  // Without a choice, the telecom page; unless it has nothing and a pipeline does.
  if (current === null && location.hash !== '#telecom' && telecomWindows === 0) {
    current = wide.length ? wide[0].name : landing ? INGEST : null;
  }
  if (current !== null && current !== INGEST && !wide.some((p) => p.name === current)) current = null;
  const tab = (label, href, on, name) => {
    const a = el('a', label, on ? 'on' : undefined);
    a.href = href;
    if (name) a.dataset.pipeline = name;
    return a;
  };
  $('tabs').replaceChildren(tab('Telecom', '#telecom', current === null),
    ...wide.map((p) => tab(p.name, `#pipeline=${encodeURIComponent(p.name)}`, current === p.name, p.name)),
    ...(landing ? [tab('Ingestion', INGEST, current === INGEST)] : []));
  $('tabs').hidden = wide.length === 0 && !landing;
  $('page-telecom').hidden = current !== null;
  $('page-pipeline').hidden = current === null;
  $('controls').hidden = current !== null;
  document.body.dataset.page = current === null ? 'telecom' : current === INGEST ? 'ingest' : `pipeline:${current}`;
  if (current === INGEST) return INGEST;
  return current === null ? null : wide.find((p) => p.name === current);
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
      catalog = await api('pipelines');
      health = await api('health');
      const shownPipeline = drawTabs(Number(health.tables?.bytes ?? 0));
      if (shownPipeline) {
        if (shownPipeline === INGEST) await drawIngestPage($('page-pipeline'));
        else await drawPipelinePage(shownPipeline, $('page-pipeline'));
        refreshes += 1;
        document.body.dataset.refreshes = String(refreshes);
        document.body.dataset.ready = 'true';
        return;
      }
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
  es.addEventListener('ingest', onUpdate);
  es.onerror = () => {
    $('live').textContent = 'reconnecting…';
    $('live').className = 'live off';
  };
}

$('controls').addEventListener('submit', (e) => e.preventDefault());
window.addEventListener('hashchange', () => refresh());
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
