// What both pages share: the API call, number and time formats, DOM and chart helpers.
import * as echarts from 'echarts/core';
import { LineChart, BarChart } from 'echarts/charts';
import {
  GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, MarkAreaComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, BarChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent,
  MarkAreaComponent, CanvasRenderer]);

export const $ = (id) => document.getElementById(id);

// ---- numbers. Integers past 2^53 arrive as their exact digits (see api()), so every format takes
// a number or a string of digits.
const isDigits = (v) => typeof v === 'string' && /^-?\d+$/.test(v);
const group3 = (digits) => digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
export const fmtInt = (n) => {
  if (n === null || n === undefined) return '–';
  if (isDigits(n)) return group3(n);
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: 2 });
};
// Three significant digits at most, so a figure keeps its width whatever its size.
function scaled(n, units, base) {
  let v = Math.abs(Number(n));
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i += 1;
  }
  if (i === 0) return { text: Number.isInteger(v) ? String(v) : v.toPrecision(3).replace(/\.?0+$/, ''), unit: units[0] };
  let text = v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  if (Number(text) >= base && i < units.length - 1) {
    text = '1.00';
    i += 1;
  }
  return { text, unit: units[i] };
}
const sign = (n) => (Number(n) < 0 ? '-' : '');
export const fmtBytes = (n) => {
  if (n === null || n === undefined) return '–';
  const s = scaled(n, ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'], 1000);
  return `${sign(n)}${s.text} ${s.unit}`;
};
export const fmtCompact = (n) => {
  if (n === null || n === undefined) return '–';
  if (Math.abs(Number(n)) < 10000) return fmtInt(n);
  const s = scaled(n, ['', 'k', 'M', 'G', 'T', 'P', 'E'], 1000);
  return `${sign(n)}${s.text}${s.unit ? ` ${s.unit}` : ''}`;
};
// The exact value, for a title (shown on hover).
export const exact = (n, unit = '') => (n === null || n === undefined ? '' : `${fmtInt(n)}${unit ? ` ${unit}` : ''}`);

// ---- times, always UTC
const pad = (n) => String(n).padStart(2, '0');
export const utc = (ms, withDate = true) => {
  const d = new Date(ms);
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  return withDate ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${hm}` : hm;
};
export const utcDay = (ms) => utc(ms).slice(0, 10);
export const utcClock = (ms) => new Date(ms).toISOString().slice(11, 19);
export const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
export const HOUR = 3600e3;
export const DAY = 24 * HOUR;

// Long identifiers (UUIDs, hashes) as their first and last characters; the full id goes in a title.
export const shortId = (id) => {
  if (id === null || id === undefined) return '–';
  const s = String(id);
  return s.length > 16 ? `${s.slice(0, 8)}…${s.slice(-4)}` : s;
};

export const el = (tag, text, cls) => {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
};

// A cell: a string, a Node, or {text, cls, value, title}.
export function fillTable(table, rows) {
  const body = (typeof table === 'string' ? $(table) : table).querySelector('tbody');
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
        if (c.colSpan) td.colSpan = c.colSpan;
        tr.append(td);
      } else tr.append(el('td', c));
    }
    return tr;
  }));
}

// A JSON body whose integers past 2^53 keep their exact digits (as strings): PostgreSQL's bigint
// sums do not fit a double, and a dashboard must not show a rounded total as exact.
export async function api(path, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== ''));
  const res = await fetch(`/api/${path}${q.toString() ? '?' + q : ''}`, { cache: 'no-store' });
  const text = await res.text();
  const body = JSON.parse(text, (key, v, ctx) =>
    (typeof v === 'number' && !Number.isSafeInteger(v) && ctx?.source && /^-?\d+$/.test(ctx.source) ? ctx.source : v));
  if (!res.ok) throw new Error(`${path}: ${body.error ?? res.status}`);
  return body;
}

// ---- charts
const charts = {};
export function chart(id) {
  const node = typeof id === 'string' ? $(id) : id;
  const key = node.id;
  if (!charts[key] || charts[key].getDom() !== node) {
    charts[key] = echarts.init(node, null, { renderer: 'canvas' });
    const c = charts[key];
    new ResizeObserver(() => c.resize()).observe(node);
  }
  return charts[key];
}
// For tests and debugging in the browser's console.
window.lambdaflow = { charts, fmtBytes, fmtCompact, fmtInt };

export const timeAxis = {
  type: 'time',
  axisLabel: { formatter: (v) => utc(v, false), hideOverlap: true },
};
export const valueAxis = (fmt = fmtCompact) => ({
  type: 'value',
  axisLabel: { formatter: (v) => fmt(v), hideOverlap: true },
});

// Lines per series from rows {t (ISO), value, open}; open windows hollow, and a shaded band from
// the first open window to the end of the range.
export function drawLines(id, groups, { from, to, fmt = fmtCompact, valueName = '' }) {
  let firstOpen = null;
  for (const g of groups) {
    for (const p of g.points) if (p.open && (firstOpen === null || p.t < firstOpen)) firstOpen = p.t;
  }
  const series = groups.map((g, i) => ({
    id: g.id,
    name: g.name,
    type: 'line',
    showSymbol: true,
    symbolSize: (v, p) => (p.data.open ? 7 : 3),
    data: g.points.map((p) => ({
      value: [p.t, Number(p.value)],
      exact: p.value,
      open: p.open,
      symbol: p.open ? 'emptyCircle' : 'circle',
    })),
    markArea: i === 0 && firstOpen !== null ? {
      silent: true,
      itemStyle: { color: 'rgba(245,159,0,0.12)' },
      label: { show: true, position: 'insideTop', color: '#a84300', formatter: 'open' },
      data: [[{ xAxis: firstOpen }, { xAxis: to }]],
    } : undefined,
  }));
  chart(id).setOption({
    animation: false,
    grid: { left: 8, right: 16, top: 36, bottom: 40, containLabel: true },
    legend: { type: 'scroll', top: 0 },
    tooltip: {
      trigger: 'axis',
      confine: true,
      formatter: (ps) => `${utc(ps[0].value[0])} UTC<br>` + ps.map((p) =>
        `${p.marker}${p.seriesName}: ${fmt(p.data.exact)}${valueName ? ` (${exact(p.data.exact, valueName)})` : ''}`
        + `${p.data.open ? ' (open)' : ''}`).join('<br>'),
    },
    xAxis: { ...timeAxis, min: from, max: to },
    yAxis: valueAxis(fmt),
    dataZoom: [{ type: 'inside' }, { type: 'slider', height: 16, bottom: 6 }],
    series,
  }, { replaceMerge: ['series'] });
}

// Horizontal bars, largest on top; rows {label, title, value}.
export function drawBars(id, rows, { fmt = fmtCompact, color = '#2f6fdf', unit = '' } = {}) {
  const top = rows.slice(0, 10).reverse();
  chart(id).setOption({
    animation: false,
    grid: { left: 8, right: 24, top: 8, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'axis',
      confine: true,
      axisPointer: { type: 'shadow' },
      formatter: (ps) => ps.map((p) => `${top[p.dataIndex].title ?? top[p.dataIndex].label}: ${fmt(top[p.dataIndex].value)}`
        + `${unit ? ` (${exact(top[p.dataIndex].value, unit)})` : ''}`).join('<br>'),
    },
    xAxis: valueAxis(fmt),
    yAxis: { type: 'category', data: top.map((r) => r.label), axisLabel: { width: 110, overflow: 'truncate' } },
    series: [{ type: 'bar', data: top.map((r) => Number(r.value)), itemStyle: { color } }],
  }, { replaceMerge: ['series'] });
}
