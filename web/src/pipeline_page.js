// The page of a pipeline from a definition, laid out from the catalog alone (/api/pipelines): a
// large figure per metric without groups (its newest window), a line chart per grouped metric
// finer than a day (open windows marked), bars and a table per grouped daily metric (its newest
// day), a per-day table from the <metric>_lambda views of the batch section, and the newest window
// of every metric. Nothing here knows a particular pipeline.
import {
  $, el, api, fillTable, drawLines, drawBars, fmtInt, fmtCompact, exact, utc, utcDay, utcClock, shortId, HOUR,
} from './common.js';

const fmtWindow = (s) => (s % 86400 === 0 ? `${s / 86400}d` : s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`);
const isPercent = (m) => /(_pct|_percent|_percentage)$/.test(m.name);
const integral = (m) => ['bigint', 'integer', 'int', 'smallint'].includes(String(m.value_type).toLowerCase());
// A figure: compact for integers (exact in the title), two decimals or a percentage otherwise.
function figure(m, v) {
  if (v === null || v === undefined) return { text: '–', title: 'no value (a division by zero gives none)' };
  if (isPercent(m)) return { text: `${Number(v).toFixed(1)} %`, title: String(v) };
  if (integral(m) || (typeof v === 'string' && /^-?\d+$/.test(v)) || Number.isInteger(v)) {
    return { text: fmtCompact(v), title: exact(v) };
  }
  return { text: Number(v).toLocaleString('en-US', { maximumFractionDigits: 2 }), title: String(v) };
}
const windowLabel = (m, t) => (m.window_s % 86400 === 0 ? `day ${utcDay(t)}` : `window ${utc(t)}`);
const groupText = (g) => g.map((x) => (x === null ? '–' : shortId(x))).join(' · ');
const groupTitle = (g) => g.map((x) => (x === null ? 'null' : String(x))).join(' · ');
const what = (m) => `${m.kind === 'derived' ? m.expr : m.aggregate} per ${fmtWindow(m.window_s)}`
  + `${m.group_by.length ? ` by ${m.group_by.join(', ')}` : ''}`;

// ---- layout, built once per pipeline (charts keep their canvases across refreshes)
function layout(p) {
  const speed = p.metrics.filter((m) => m.kind !== 'batch');
  const batch = p.metrics.filter((m) => m.kind === 'batch');
  const parts = { speed, batch, kpis: [], lines: [], bars: [], nodes: [] };
  const head = el('section', null, 'card wide page-head');
  head.append(el('h2', `${p.name} · ${p.source === 'kafka' ? `Kafka topic ${p.topic}` : `${p.source} ${p.topic ?? ''}`}`));
  const changed = el('p', 'waiting for data…', 'note');
  changed.id = 'pipeline-changed';
  changed.dataset.testid = 'pipeline-changed';
  head.append(changed);
  parts.changed = changed;
  parts.nodes.push(head);

  const kpis = el('section', null, 'kpis');
  for (const m of speed.filter((x) => x.group_by.length === 0)) {
    const box = el('div', null, 'kpi');
    box.dataset.kpi = m.name;
    const value = el('b', '–');
    const when = el('small', '–');
    box.append(el('span', m.name), value, when);
    box.title = what(m);
    kpis.append(box);
    parts.kpis.push({ m, value, when });
  }
  if (parts.kpis.length) parts.nodes.push(kpis);

  for (const m of speed.filter((x) => x.group_by.length > 0 && x.window_s < 86400)) {
    const card = el('section', null, 'card wide');
    card.dataset.metric = m.name;
    card.append(el('h2', `${m.name} · ${what(m)}`));
    card.append(el('p', 'Hollow points and the shaded band are open windows: the watermark has not passed them, so they may still change.', 'note'));
    const div = el('div', null, 'chart tall');
    div.id = `chart-m-${m.name}`;
    card.append(div);
    parts.nodes.push(card);
    parts.lines.push({ m, div });
  }
  for (const m of speed.filter((x) => x.group_by.length > 0 && x.window_s >= 86400)) {
    const card = el('section', null, 'card');
    card.dataset.metric = m.name;
    const title = el('h2', `${m.name} · ${what(m)}`);
    const div = el('div', null, 'chart');
    div.id = `chart-m-${m.name}`;
    const table = el('table');
    table.dataset.testid = `bars-${m.name}`;
    const tr = el('tr');
    for (const g of m.group_by) tr.append(el('th', g));
    tr.append(el('th', 'value', 'num'), el('th', ''));
    table.append(el('thead'), el('tbody'));
    table.tHead.append(tr);
    card.append(title, div, table);
    parts.nodes.push(card);
    parts.bars.push({ m, div, title, table });
  }
  if (batch.length) {
    const card = el('section', null, 'card wide');
    card.append(el('h2', 'Per day: batch where it ran, speed elsewhere'));
    card.append(el('p', 'From the <metric>_lambda views: a day the batch layer recomputed from the lake shows its exact figures (batch); other days show the speed layer\'s (speed).', 'note'));
    const wrap = el('div', null, 'table-wrap');
    card.append(wrap);
    parts.nodes.push(card);
    parts.perDay = wrap;
  }
  const all = el('section', null, 'card wide');
  all.append(el('h2', 'Every metric: the newest window per group'));
  const grid = el('div', null, 'metrics');
  all.append(grid);
  parts.nodes.push(all);
  parts.every = grid;
  return parts;
}

// ---- drawing
function drawKpis(parts, data) {
  for (const k of parts.kpis) {
    const rows = data.get(k.m.name).rows;
    const last = rows[rows.length - 1];
    const f = figure(k.m, last?.value);
    k.value.textContent = last ? f.text : '–';
    k.value.title = last ? f.title : '';
    k.value.dataset.value = last ? String(last.value) : '';
    k.when.textContent = last ? `${windowLabel(k.m, Date.parse(last.t))}${last.open ? ' · open' : ''}` : 'no data yet';
    k.when.dataset.t = last?.t ?? '';
  }
}

function drawLineCharts(parts, data) {
  for (const { m, div } of parts.lines) {
    const rows = data.get(m.name).rows;
    const groups = new Map();
    let last = 0;
    for (const r of rows) {
      const key = JSON.stringify(r.group);
      if (!groups.has(key)) groups.set(key, { id: key, name: groupText(r.group), points: [] });
      const t = Date.parse(r.t);
      groups.get(key).points.push({ t, value: r.value, open: r.open });
      last = Math.max(last, t + m.window_s * 1000);
    }
    const first = rows.length ? Date.parse(rows[0].t) : last - HOUR;
    const to = rows.length ? last : Date.now();
    drawLines(div, [...groups.values()].sort((a, b) => a.name.localeCompare(b.name)),
      { from: Math.max(first, to - 12 * HOUR), to, fmt: (v) => figure(m, v).text });
  }
}

function drawDailyBars(parts, data) {
  for (const b of parts.bars) {
    const rows = data.get(b.m.name).rows;
    const newest = rows.length ? rows[rows.length - 1].t : null;
    const day = rows.filter((r) => r.t === newest).sort((x, y) => Number(y.value) - Number(x.value));
    b.title.textContent = `${b.m.name} · ${newest ? windowLabel(b.m, Date.parse(newest)) : 'no data yet'} · by ${b.m.group_by.join(', ')}`;
    drawBars(b.div, day.map((r) => ({ label: groupText(r.group), title: groupTitle(r.group), value: r.value })),
      { fmt: (v) => figure(b.m, v).text, color: '#d9480f' });
    fillTable(b.table, day.map((r) => [
      ...r.group.map((g) => ({ text: g === null ? '–' : shortId(g), title: g === null ? undefined : String(g), cls: 'ellipsis' })),
      { text: figure(b.m, r.value).text, title: figure(b.m, r.value).title, cls: 'num', value: r.value },
      r.open ? el('span', 'open', 'tag open') : '',
    ]));
    b.table.dataset.t = newest ?? '';
  }
}

// Days as rows, newest first; one column per ungrouped batch metric, and per grouped one a
// column per group (pivoted) when it has few groups.
function drawPerDay(parts, lambda) {
  if (!parts.perDay) return;
  const days = new Set();
  for (const d of lambda.values()) for (const r of d.rows) days.add(r.t);
  const order = [...days].sort().reverse().slice(0, 31);
  const columns = [];
  for (const m of parts.batch) {
    const rows = lambda.get(m.name).rows;
    if (m.group_by.length === 0) {
      columns.push({ m, label: m.name, group: null, pick: (t) => rows.find((r) => r.t === t) });
      continue;
    }
    const groups = [...new Set(rows.map((r) => JSON.stringify(r.group)))].sort();
    if (groups.length > 12) {
      columns.push({ m, label: `${m.name} (sum of ${groups.length} groups)`, group: null, sum: true,
        pick: (t) => {
          const rs = rows.filter((r) => r.t === t);
          return rs.length ? { value: rs.reduce((a, r) => a + Number(r.value), 0), layer: rs[0].layer } : undefined;
        } });
      continue;
    }
    for (const g of groups) {
      columns.push({ m, label: groupText(JSON.parse(g)), group: g,
        pick: (t) => rows.find((r) => r.t === t && JSON.stringify(r.group) === g) });
    }
  }
  const table = el('table', null, 'per-day');
  table.dataset.testid = 'per-day';
  // Two header rows: each metric over its groups' columns, then the groups.
  const top = el('tr');
  const sub = el('tr');
  const dayTh = el('th', 'day (UTC)');
  dayTh.rowSpan = 2;
  top.append(dayTh);
  for (let i = 0; i < columns.length;) {
    const c = columns[i];
    let n = 1;
    while (i + n < columns.length && columns[i + n].m === c.m && c.group) n += 1;
    const th = el('th', c.group ? c.m.name : c.label, 'num');
    th.title = `${c.m.name}: ${c.m.aggregate ?? c.m.expr}${c.m.group_by.length ? ` by ${c.m.group_by.join(', ')}` : ''}`;
    if (c.group) {
      th.colSpan = n;
      th.className = 'span';
      for (const g of columns.slice(i, i + n)) {
        const gt = el('th', groupText(JSON.parse(g.group)), 'num');
        gt.title = groupTitle(JSON.parse(g.group));
        sub.append(gt);
      }
    } else th.rowSpan = 2;
    top.append(th);
    i += n;
  }
  const layerTh = el('th', 'layer');
  layerTh.rowSpan = 2;
  top.append(layerTh);
  table.append(el('thead'), el('tbody'));
  table.tHead.append(top, sub);
  fillTable(table, order.map((t) => {
    const layers = new Set();
    const cells = [{ text: utcDay(Date.parse(t)), cls: 'nowrap' }];
    for (const c of columns) {
      const r = c.pick(t);
      if (r) layers.add(r.layer);
      const f = figure(c.m, r?.value);
      cells.push({ text: r ? f.text : '–', title: r ? f.title : undefined, cls: 'num', value: r ? r.value : '' });
    }
    const tag = [...layers].sort().join(' + ') || '–';
    cells.push(el('span', tag, `tag ${layers.size === 1 ? [...layers][0] : ''}`));
    return cells;
  }));
  // data-* for each cell: which metric, group and day it shows.
  table.querySelectorAll('tbody tr').forEach((tr, i) => {
    tr.dataset.day = order[i];
    columns.forEach((c, j) => {
      const td = tr.children[j + 1];
      td.dataset.metric = c.m.name;
      if (c.group) td.dataset.group = c.group;
    });
  });
  if (!order.length) fillTable(table, [[{ text: 'no day yet', colSpan: columns.length + 2 }]]);
  parts.perDay.replaceChildren(table);
}

function drawEvery(parts, data) {
  const blocks = parts.speed.map((m) => {
    const box = el('div', null, 'metric');
    box.dataset.metric = m.name;
    box.append(el('h4', `${m.name} · ${what(m)}`));
    const latest = new Map();
    for (const r of data.get(m.name).rows) latest.set(JSON.stringify(r.group), r);
    const table = el('table');
    const head = el('tr');
    for (const g of m.group_by) head.append(el('th', g));
    head.append(el('th', 'window (UTC)'), el('th', 'value', 'num'), el('th', ''));
    table.append(el('thead'), el('tbody'));
    table.tHead.append(head);
    const rows = [...latest.values()].sort((a, b) => groupTitle(a.group).localeCompare(groupTitle(b.group)));
    fillTable(table, rows.map((r) => [
      ...r.group.map((g) => ({ text: g === null ? '–' : shortId(g), title: g === null ? undefined : String(g), cls: 'ellipsis' })),
      { text: utc(Date.parse(r.t)).slice(5), cls: 'nowrap', title: `${utc(Date.parse(r.t))} UTC` },
      { text: figure(m, r.value).text, title: figure(m, r.value).title, cls: 'num', value: r.value },
      r.open ? el('span', 'open', 'tag open') : '',
    ]));
    if (!rows.length) fillTable(table, [[{ text: 'no data yet', colSpan: m.group_by.length + 3 }]]);
    box.append(table);
    return box;
  });
  parts.every.replaceChildren(...blocks);
}

const built = new Map();
let lastFingerprint = null;
let lastChange = null;

// Draws pipeline `p` (an /api/pipelines entry) into `main`.
export async function drawPipelinePage(p, main) {
  let parts = built.get(p.name);
  if (!parts || main.dataset.pipeline !== p.name) {
    parts = layout(p);
    built.set(p.name, parts);
    main.replaceChildren(...parts.nodes);
    main.dataset.pipeline = p.name;
    lastFingerprint = null;
  }
  const [speedData, lambdaData] = await Promise.all([
    Promise.all(parts.speed.map((m) => api('metric', { pipeline: p.name, metric: m.name, limit: 2000 }))),
    Promise.all(parts.batch.map((m) => api('metric', { pipeline: p.name, metric: m.name, limit: 2000, layer: 'lambda' }))),
  ]);
  const data = new Map(parts.speed.map((m, i) => [m.name, speedData[i]]));
  const lambda = new Map(parts.batch.map((m, i) => [m.name, lambdaData[i]]));
  drawKpis(parts, data);
  drawLineCharts(parts, data);
  drawDailyBars(parts, data);
  drawPerDay(parts, lambda);
  drawEvery(parts, data);
  // When the figures last changed (not when the page last asked).
  const fingerprint = JSON.stringify([speedData.map((d) => d.rows), lambdaData.map((d) => d.rows)]);
  if (fingerprint !== lastFingerprint) {
    lastFingerprint = fingerprint;
    lastChange = Date.now();
  }
  const watermark = speedData.find((d) => d.watermark)?.watermark;
  parts.changed.textContent = `Figures last changed at ${utcClock(lastChange)} UTC`
    + ` · watermark ${watermark ? `${utc(Date.parse(watermark))} UTC` : 'none yet'}`
    + ` · ${fmtInt(speedData.reduce((a, d) => a + d.rows.length, 0))} windows shown`;
  parts.changed.dataset.changed = String(lastChange);
}

