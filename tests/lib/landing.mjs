// Landing files for the ingestion engine's tests (SPEC §6.1–6.3), written from a seeded PRNG
// together with their truth, which the tests compare bronze, dead_letters and the manifest with.
//
// The truth is built here, independently of Lambdaflow's code: every value is chosen first (a
// timestamp as microseconds since the epoch, a float as the decimal text whose JS Number is the
// expected double, an int64 as decimal digits) and then written in one of the forms SPEC §6 admits
// (ISO-8601 with fractions and offsets or epoch seconds; CSV quoting per RFC 4180; JSON escapes).
// Row numbers, rescued columns and dead-letter payloads follow from how the file was written.
//
//   const truth = generateLanding(landingDir, { seed: 7, prefix: 'a', counts: {...} });
//   truth.files  [{ dataset, pipeline, path, size, sha256, mtimeS, status: ok|error|ignored, rows, bad_rows, errorRe }]
//   truth.rows   { dataset: [{ _source_file, _source_row, values: {field: canonical}, _rescued_data: object|null, file_sha256 }] }
//   truth.dead   [{ pipeline, source_file, source_row, payload: Buffer, kind, reasonRe, trimmed, file_sha256 }]
// (`trimmed`: the payload is the tail of a truncated JSON array, compared without surrounding blanks.)
//
// Canonical values: string → string, timestamp → microseconds as a decimal string, float64 → the
// JS Number, int64 → decimal string; null for a null value. writeTruth() stores all of it as NDJSON.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// ---- seeded PRNG (mulberry32) ------------------------------------------------------------------
export function makeRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    shuffle(arr) {
      const a2 = [...arr];
      for (let i = a2.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [a2[i], a2[j]] = [a2[j], a2[i]];
      }
      return a2;
    },
  };
  return r;
}

// ---- the four file datasets of SPEC §6.1 (as pipelines/farmia/*.yaml declare them) --------------
export const DATASETS = {
  iot_sensors: {
    pipeline: 'farmia_iot_sensors', format: 'csv', ext: 'csv',
    fields: [
      { name: 'sensor_id', type: 'string', stem: 'SN-' },
      { name: 'farm_id', type: 'string', stem: 'FARM-' },
      { name: 'ts', type: 'timestamp' },
      { name: 'temperature_c', type: 'float64' },
      { name: 'humidity_pct', type: 'float64' },
      { name: 'soil_moisture_pct', type: 'float64', optional: true },
    ],
  },
  suppliers: {
    pipeline: 'farmia_suppliers', format: 'csv', ext: 'csv',
    fields: [
      { name: 'supplier_id', type: 'string', stem: 'SUP-' },
      { name: 'name', type: 'string', stem: 'Proveedor ' },
      { name: 'country', type: 'string', stem: 'C' },
      { name: 'rating', type: 'float64', optional: true },
    ],
  },
  inventory: {
    pipeline: 'farmia_inventory', format: 'json', ext: 'json',
    fields: [
      { name: 'product_id', type: 'string', stem: 'PRD-' },
      { name: 'warehouse_id', type: 'string', stem: 'WH-' },
      { name: 'quantity', type: 'int64' },
      { name: 'updated_at', type: 'timestamp' },
    ],
  },
  weather: {
    pipeline: 'farmia_weather', format: 'json', ext: 'json',
    fields: [
      { name: 'station_id', type: 'string', stem: 'ST-' },
      { name: 'ts', type: 'timestamp' },
      { name: 'temp_c', type: 'float64' },
      { name: 'rain_mm', type: 'float64' },
      { name: 'wind_kmh', type: 'float64' },
    ],
  },
};

// Kinds of bad rows, with a pattern the reason must match ("sensible": it names the field or the
// kind of fault). FIELD is replaced by the field concerned.
export const CSV_BAD_KINDS = {
  too_few: /field|column/i,
  too_many: /field|column/i,
  quote_garbage: /quot/i,
  required_empty: 'FIELD',
  bad_number: 'FIELD',
  bad_timestamp: 'FIELD',
  unterminated: /quot|terminat|end/i, // only as the last record of a file
};
export const JSON_BAD_KINDS = {
  malformed: /json|malformed|pars|invalid/i,
  not_object: /object/i,
  missing_required: 'FIELD',
  null_required: 'FIELD',
  wrong_type: 'FIELD',
  bad_timestamp: 'FIELD',
  truncated: /truncat|not closed|unterminated|end/i, // the tail of a truncated JSON array
};

const reasonFor = (kinds, kind, field) => {
  const r = kinds[kind];
  return r === 'FIELD' ? new RegExp(`\\b${field}\\b`) : r;
};

// ---- values ------------------------------------------------------------------------------------
const ODD_STRINGS = [
  'with,comma', 'with "double" quotes', 'two\nlines', 'crlf\r\ninside', '  padded  ', 'Ñandú 🌱 granja',
  'tab\there', "it's", 'back\\slash', '{"looks":"like json"}', 'x]}y,[{', '', '"', ',', 'ends with quote"',
];

const pad = (n, w = 2) => String(n).padStart(w, '0');

// micros (integer Number, |t| < 2^53) → "YYYY-MM-DDTHH:MM:SS[.f]" + zone, shifted by offsetMin.
function isoText(t, fracDigits, offsetMin, zone) {
  const local = t + offsetMin * 60_000_000;
  const secs = Math.floor(local / 1e6);
  const frac = local - secs * 1e6;
  const d = new Date(secs * 1000);
  let s = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (fracDigits > 0) s += '.' + pad(frac, 6).slice(0, fracDigits);
  if (zone !== undefined) return s + zone;
  if (offsetMin === 0) return s + 'Z';
  const a = Math.abs(offsetMin);
  return s + (offsetMin < 0 ? '-' : '+') + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
}

const T0 = Date.UTC(2025, 0, 1) * 1000; // micros

// { v: canonical truth, text: the value's text (CSV cell or JSON token), json: true when `text`
// is a JSON string token (for CSV the unquoted content is in `raw`) }
function genTimestamp(r) {
  const form = r.pick(['iso', 'iso_ms', 'iso_us', 'iso_offset', 'iso_offset_ms', 'epoch_s', 'epoch_frac', 'iso', 'old']);
  let t;
  let raw;
  let number = false;
  switch (form) {
    case 'iso':
      t = T0 + r.int(0, 700 * 86400) * 1e6;
      raw = isoText(t, 0, 0);
      break;
    case 'iso_ms':
      t = T0 + r.int(0, 700 * 86400) * 1e6 + r.int(0, 999) * 1000;
      raw = isoText(t, 3, 0);
      break;
    case 'iso_us':
      t = T0 + r.int(0, 700 * 86400) * 1e6 + r.int(0, 999999);
      raw = isoText(t, 6, 0);
      break;
    case 'iso_offset':
      t = T0 + r.int(0, 700 * 86400) * 1e6;
      raw = isoText(t, 0, r.pick([120, -300, 330, -570, 60, 0 + 840]));
      break;
    case 'iso_offset_ms':
      t = T0 + r.int(0, 700 * 86400) * 1e6 + r.int(0, 999) * 1000;
      raw = isoText(t, 3, r.pick([-60, 180, -720]));
      break;
    case 'epoch_s':
      t = T0 + r.int(0, 700 * 86400) * 1e6;
      raw = String(t / 1e6);
      number = true;
      break;
    case 'epoch_frac': {
      const s = T0 / 1e6 + r.int(0, 700 * 86400);
      const ms = r.int(1, 999);
      t = s * 1e6 + ms * 1000;
      raw = `${s}.${pad(ms, 3)}`;
      number = true;
      break;
    }
    case 'old': // before 1970: negative epoch microseconds
      t = Date.UTC(1969, 6, 20, 20, 17, 40) * 1000 + r.int(0, 999) * 1000;
      raw = isoText(t, 3, 0);
      break;
  }
  return { v: String(t), raw, number };
}

function genFloat(r) {
  const form = r.pick(['fixed2', 'fixed2', 'fixed2', 'int', 'exp', 'long', 'neg']);
  let raw;
  switch (form) {
    case 'fixed2': {
      const n = r.int(0, 99999);
      raw = `${Math.floor(n / 100)}.${pad(n % 100)}`;
      break;
    }
    case 'int':
      raw = String(r.int(0, 500));
      break;
    case 'exp':
      raw = r.pick(['1.5e1', '2.5E-1', '7e2', '3.125e+1', '1E0']);
      break;
    case 'long':
      raw = `${r.int(0, 99)}.${String(r.int(0, 999999999)).padStart(9, '0')}${r.int(1, 9)}`;
      break;
    case 'neg': {
      const n = r.int(1, 4000);
      raw = `-${Math.floor(n / 100)}.${pad(n % 100)}`;
      break;
    }
  }
  return { v: Number(raw), raw, number: true };
}

function genInt(r) {
  const form = r.pick(['small', 'small', 'small', 'zero', 'neg', 'big', 'max']);
  let raw;
  switch (form) {
    case 'small': raw = String(r.int(1, 100000)); break;
    case 'zero': raw = '0'; break;
    case 'neg': raw = String(-r.int(1, 5000)); break;
    case 'big': raw = (9007199254740993n + BigInt(r.int(0, 1e9)) * 1000003n).toString(); break; // beyond 2^53
    case 'max': raw = '9223372036854775807'; break;
  }
  return { v: BigInt(raw).toString(), raw, number: true };
}

function genString(r, field, seq) {
  const raw = r.chance(0.12) ? r.pick(ODD_STRINGS) : `${field.stem}${pad(r.int(0, 9999), 4)}`;
  return { v: raw, raw, number: false };
}

function genValue(r, field, seq) {
  switch (field.type) {
    case 'string': return genString(r, field, seq);
    case 'timestamp': return genTimestamp(r);
    case 'float64': return genFloat(r);
    case 'int64': return genInt(r);
  }
  throw new Error(field.type);
}

// ---- CSV ---------------------------------------------------------------------------------------
const EXTRA_COLUMNS = ['note', 'firmware', 'operator'];

function csvCell(r, s, { forceQuote = false } = {}) {
  if (s === null) return '';
  if (forceQuote || s === '' || /[",\r\n]/.test(s) || r.chance(0.15)) return '"' + s.replace(/"/g, '""') + '"';
  return s;
}

function extraValue(r) {
  const x = r.next();
  if (x < 0.15) return null; // empty unquoted: null in _rescued_data
  if (x < 0.22) return ''; // "" quoted: an empty string
  if (x < 0.35) return r.pick(ODD_STRINGS.filter((s) => s !== ''));
  return `v${r.int(0, 99999)}`;
}

// Builds one CSV file; returns { text, rows: [...], dead: [...] } with rows numbered from 1.
function buildCsv(r, ds, name, opts, kinds) {
  const fields = DATASETS[ds].fields;
  const dropOptional = opts.dropOptional ?? r.chance(0.15);
  let columns = fields.filter((f) => !(f.optional && dropOptional)).map((f) => f.name);
  const extras = opts.extras ?? (r.chance(0.3) ? r.shuffle(EXTRA_COLUMNS).slice(0, r.int(1, 2)) : []);
  columns = [...columns, ...extras];
  if (opts.shuffle ?? r.chance(0.6)) columns = r.shuffle(columns);
  const eol = opts.eol ?? (r.chance(0.4) ? '\r\n' : '\n');
  const nextEol = () => (eol === 'mixed' ? r.pick(['\n', '\r\n']) : eol);
  const bom = opts.bom ?? r.chance(0.25);
  const quoteHeader = r.chance(0.2);
  let text = (bom ? '\uFEFF' : '') + columns.map((c) => (quoteHeader ? `"${c}"` : c)).join(',');
  const rows = [];
  const dead = [];
  const nRows = opts.rows;
  const badRate = opts.badRate ?? 0;
  const byName = Object.fromEntries(fields.map((f) => [f.name, f]));
  for (let i = 1; i <= nRows; i++) {
    const last = i === nRows;
    let kind = null;
    if (opts.unterminatedLast && last) kind = 'unterminated';
    else if (r.chance(badRate)) kind = kinds.next('csv');
    // a valid record first
    const values = {};
    const cells = {};
    for (const c of columns) {
      const f = byName[c];
      if (!f) {
        const v = extraValue(r);
        cells[c] = csvCell(r, v);
        values[c] = v;
        continue;
      }
      if (f.optional && r.chance(0.2)) {
        cells[c] = '';
        values[c] = null;
        continue;
      }
      const g = genValue(r, f, i);
      cells[c] = csvCell(r, g.raw);
      values[c] = g.v;
    }
    let cellList = columns.map((c) => cells[c]);
    let field = null;
    if (kind) {
      const required = columns.filter((c) => byName[c] && !byName[c].optional);
      const numeric = columns.filter((c) => byName[c]?.type === 'float64');
      const times = columns.filter((c) => byName[c]?.type === 'timestamp');
      if (kind === 'bad_number' && numeric.length === 0) kind = 'too_many';
      if (kind === 'bad_timestamp' && times.length === 0) kind = 'too_few';
      switch (kind) {
        case 'too_few':
          // at least two fields stay: a lone empty field would be an empty line, not a record
          cellList = cellList.slice(0, cellList.length - r.int(1, Math.max(1, Math.min(2, cellList.length - 2))));
          break;
        case 'too_many':
          // sometimes with a quoted multi-line surplus field: the raw text spans lines
          cellList = [...cellList, r.chance(0.5) ? '"surplus\nline"' : 'surplus'];
          break;
        case 'quote_garbage': {
          const j = r.int(0, cellList.length - 1);
          cellList[j] = `"quoted"x${r.int(0, 9)}`;
          break;
        }
        case 'required_empty':
          field = r.pick(required);
          cellList[columns.indexOf(field)] = '';
          break;
        case 'bad_number':
          field = r.pick(numeric);
          cellList[columns.indexOf(field)] = csvCell(r, r.pick(['n/a', 'warm', '12,5', '1.2.3', '--4', 'NaN?']));
          break;
        case 'bad_timestamp':
          field = r.pick(times);
          cellList[columns.indexOf(field)] = csvCell(r, r.pick(['yesterday', '31/12/2025 10:00', 'not a time', '2025-1-2']));
          break;
        case 'unterminated': {
          const j = r.int(0, cellList.length - 1);
          cellList[j] = '"never closed, ' + 'the rest of the file';
          cellList = cellList.slice(0, j + 1);
          break;
        }
      }
    }
    const record = cellList.join(',');
    text += nextEol() + record;
    if (kind) {
      dead.push({ row: i, payload: record, kind, reasonRe: reasonFor(CSV_BAD_KINDS, kind, field) });
    } else {
      const out = {};
      let rescued = null;
      for (const c of columns) {
        if (byName[c]) out[c] = values[c];
        else (rescued ??= {})[c] = values[c];
      }
      for (const f of fields) if (!(f.name in out)) out[f.name] = null;
      rows.push({ row: i, values: out, rescued });
    }
  }
  if (!(opts.unterminatedLast) && (opts.trailingEol ?? r.chance(0.8))) text += nextEol();
  return { text, rows, dead };
}

// ---- JSON --------------------------------------------------------------------------------------
const EXTRA_MEMBERS = ['meta', 'tags', 'battery', 'active', 'note', 'readings', 'source'];

function extraJson(r) {
  const options = [
    () => ({ sensor: { model: `X-${r.int(1, 9)}`, rev: [r.int(0, 9), 2, { a: 'b,c]' }] }, ok: true }),
    () => ['a', 'b}', `c${r.int(0, 99)}`, [1, [2, [3]]]],
    () => Math.round(r.next() * 1000) / 100,
    () => r.chance(0.5),
    () => null,
    () => `q"uote \\ } ] , ${r.int(0, 999)}`,
    () => ({}),
    () => [],
    () => ({ nested: { deeper: { deepest: [null, true, false, -1.5e3] } } }),
  ];
  return r.pick(options)();
}

// A JSON string token, sometimes with \u escapes for non-ASCII characters and a \/ for '/'.
function jsonString(r, s) {
  let t = JSON.stringify(s);
  if (r.chance(0.3)) t = t.replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (r.chance(0.2)) t = t.replace(/\//g, '\\/');
  return t;
}

function jsonValueText(r, f, g) {
  if (f.type === 'timestamp') return g.number ? g.raw : jsonString(r, g.raw);
  if (f.type === 'string') return jsonString(r, g.raw);
  return g.raw;
}

// One JSON object (single line unless `pretty`); returns { text, values, rescued }.
function jsonObject(r, ds, { pretty = false, bad = null } = {}) {
  const fields = DATASETS[ds].fields;
  const members = [];
  const values = {};
  for (const f of fields) {
    const g = genValue(r, f);
    values[f.name] = g.v;
    members.push([JSON.stringify(f.name), jsonValueText(r, f, g)]);
  }
  let rescued = null;
  if (r.chance(0.35)) {
    for (const name of r.shuffle(EXTRA_MEMBERS).slice(0, r.int(1, 3))) {
      const v = extraJson(r);
      (rescued ??= {})[name] = v;
      members.push([JSON.stringify(name), pretty ? JSON.stringify(v, null, 2).replace(/\n/g, '\n    ') : JSON.stringify(v, null, r.chance(0.3) ? 1 : 0).replace(/\n/g, ' ')]);
    }
  }
  let field = null;
  if (bad) {
    const required = fields.filter((f) => !f.optional);
    switch (bad) {
      case 'missing_required': {
        field = r.pick(required).name;
        const j = members.findIndex(([k]) => k === JSON.stringify(field));
        members.splice(j, 1);
        break;
      }
      case 'null_required': {
        field = r.pick(required).name;
        members.find(([k]) => k === JSON.stringify(field))[1] = 'null';
        break;
      }
      case 'wrong_type': {
        const f = r.pick(required);
        field = f.name;
        const wrong = {
          string: ['42', 'true', '["x"]', '{"id":1}'],
          int64: ['"12"', '1.5', 'true', '[1]'],
          float64: ['"warm"', 'false', '{}', '"1.5"'],
          timestamp: ['true', '[2025]', '{"t":1}'],
        }[f.type];
        members.find(([k]) => k === JSON.stringify(field))[1] = r.pick(wrong);
        break;
      }
      case 'bad_timestamp': {
        const f = fields.find((x) => x.type === 'timestamp');
        field = f.name;
        members.find(([k]) => k === JSON.stringify(field))[1] = r.pick(['"yesterday"', '"31/12/2025"', '"2025-02-30T25:00:00Z"', '""']);
        break;
      }
    }
  }
  const order = r.chance(0.5) ? r.shuffle(members) : members;
  let text;
  if (pretty) {
    text = '{\n' + order.map(([k, v]) => `    ${k}: ${v}`).join(',\n') + '\n  }';
  } else {
    const sp = r.chance(0.3) ? ' ' : '';
    const sp2 = r.chance(0.3) ? ' ' : '';
    text = '{' + sp + order.map(([k, v]) => `${k}${sp2}:${sp}${v}`).join(',' + sp) + sp + '}';
  }
  return { text, values, rescued, field };
}

const MALFORMED_LINES = [
  '{"product_id": "P1", "warehouse_id":',
  '{"station_id": "S1" "ts": 5}',
  "{'single': 'quotes'}",
  '{"a": tru}',
  '{"x": 1} trailing',
  '{"x": 1,}',
  'plain text, not JSON',
];
const MALFORMED_ELEMENTS = ['{"station_id": "S1" "ts": 5}', "{'single': 'quotes'}", '{"a": tru}', '{"x": 1,}', '{"k": 1 2}'];
const BAD_TOKENS = ['tru', 'nul', 'fals', '1.2.3', '-', '01', '"a\\q"', '+1', '.5', 'NaN', 'undefined'];
const NOT_OBJECTS = ['[1, 2, 3]', '42', '"just a string"', 'null', 'true', '[]'];

function buildJson(r, ds, name, opts, kinds) {
  const array = opts.array ?? r.chance(0.35);
  const rows = [];
  const dead = [];
  const items = []; // element/line texts
  let row = 0;
  const badRate = opts.badRate ?? 0;
  const pretty = array && (opts.pretty ?? r.chance(0.4));
  for (let i = 0; i < opts.rows; i++) {
    let kind = r.chance(badRate) ? kinds.next('json') : null;
    if (kind === 'truncated') kind = 'malformed';
    row += 1;
    if (kind === 'malformed' && r.chance(0.5)) {
      // a complete object whose one unknown member holds a malformed JSON token
      const o = jsonObject(r, ds);
      const t = o.text.replace(/\s*\}$/, '') + `,"firmware":${r.pick(BAD_TOKENS)}}`;
      items.push(t);
      dead.push({ row, payload: t, kind, reasonRe: JSON_BAD_KINDS[kind] });
      continue;
    }
    if (kind === 'malformed' || kind === 'not_object') {
      const t = kind === 'malformed' ? r.pick(array ? MALFORMED_ELEMENTS : MALFORMED_LINES) : r.pick(NOT_OBJECTS);
      items.push(t);
      dead.push({ row, payload: t, kind, reasonRe: JSON_BAD_KINDS[kind] });
      continue;
    }
    const o = jsonObject(r, ds, { pretty: pretty && !kind, bad: kind });
    items.push(o.text);
    if (kind) dead.push({ row, payload: o.text, kind, reasonRe: reasonFor(JSON_BAD_KINDS, kind, o.field) });
    else rows.push({ row, values: o.values, rescued: o.rescued });
  }
  let text;
  if (array) {
    const sep = pretty ? ',\n  ' : r.pick([',', ', ', ',\n']);
    let body = items.join(sep);
    if (opts.truncated) {
      // the file ends inside one more element: a bad row for the tail
      const o = jsonObject(r, ds);
      const cut = o.text.slice(0, Math.max(3, Math.floor(o.text.length / 2)));
      const tail = cut.replace(/\s+$/, '');
      body = items.length ? body + sep + tail : tail;
      dead.push({ row: row + 1, payload: tail, kind: 'truncated', reasonRe: JSON_BAD_KINDS.truncated, trimmed: true });
      text = (r.chance(0.5) ? '\n' : '') + (pretty ? '[\n  ' : '[') + body;
    } else {
      text = (r.chance(0.3) ? '  \n' : '') + (pretty ? '[\n  ' + body + '\n]' : '[' + body + ']') + (r.chance(0.7) ? '\n' : '');
    }
  } else {
    const eol = opts.eol ?? (r.chance(0.25) ? '\r\n' : '\n');
    const lines = [];
    for (const it of items) {
      while (r.chance(0.08)) lines.push(r.pick(['', '   ', '\t', ' \t ']));
      lines.push(it);
    }
    if (r.chance(0.2)) lines.push('');
    text = lines.join(eol) + (r.chance(0.8) ? eol : '');
  }
  return { text, rows, dead };
}

// ---- the landing -------------------------------------------------------------------------------
class KindCycle {
  constructor(r) {
    this.r = r;
    this.csv = Object.keys(CSV_BAD_KINDS).filter((k) => k !== 'unterminated');
    this.json = Object.keys(JSON_BAD_KINDS).filter((k) => k !== 'truncated');
    this.i = { csv: 0, json: 0 };
  }
  next(format) {
    const list = this[format];
    return list[this.i[format]++ % list.length];
  }
}

export class Landing {
  constructor(root, seed) {
    this.root = root;
    this.r = makeRng(seed);
    this.kinds = new KindCycle(this.r);
    this.truth = { files: [], rows: Object.fromEntries(Object.keys(DATASETS).map((d) => [d, []])), dead: [] };
  }

  write(rel, data) {
    const abs = path.join(this.root, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
    fs.writeFileSync(abs, buf);
    return {
      size: buf.length,
      sha256: crypto.createHash('sha256').update(buf).digest('hex'),
      mtimeS: Math.floor(fs.statSync(abs).mtimeMs / 1000),
    };
  }

  // A data file of `ds` whose rows are recorded in the truth.
  dataFile(ds, name, opts) {
    const d = DATASETS[ds];
    const rel = `${ds}/${name}`;
    const built = d.format === 'csv' ? buildCsv(this.r, ds, name, opts, this.kinds) : buildJson(this.r, ds, name, opts, this.kinds);
    const meta = this.write(rel, built.text);
    for (const row of built.rows) {
      this.truth.rows[ds].push({ _source_file: rel, _source_row: row.row, values: row.values, _rescued_data: row.rescued,
        file_sha256: meta.sha256 });
    }
    for (const x of built.dead) {
      this.truth.dead.push({ pipeline: d.pipeline, source_file: rel, source_row: x.row, payload: Buffer.from(x.payload, 'utf8'),
        kind: x.kind, reasonRe: x.reasonRe, trimmed: !!x.trimmed, file_sha256: meta.sha256 });
    }
    const entry = { dataset: ds, pipeline: d.pipeline, path: rel, ...meta, status: 'ok', rows: built.rows.length, bad_rows: built.dead.length };
    this.truth.files.push(entry);
    return entry;
  }

  // A data file written as given, with its valid rows ([{ row, values, rescued }]) and no bad row.
  literalFile(ds, name, text, rows) {
    const d = DATASETS[ds];
    const rel = `${ds}/${name}`;
    const meta = this.write(rel, text);
    for (const row of rows) {
      this.truth.rows[ds].push({ _source_file: rel, _source_row: row.row, values: row.values, _rescued_data: row.rescued,
        file_sha256: meta.sha256 });
    }
    const entry = { dataset: ds, pipeline: d.pipeline, path: rel, ...meta, status: 'ok', rows: rows.length, bad_rows: 0 };
    this.truth.files.push(entry);
    return entry;
  }

  // A file unreadable as a whole: status error, moved to _error/, nothing in bronze or dead letters.
  errorFile(ds, name, data, errorRe) {
    const rel = `${ds}/${name}`;
    const meta = this.write(rel, data);
    const entry = { dataset: ds, pipeline: DATASETS[ds].pipeline, path: rel, ...meta, status: 'error', rows: 0, bad_rows: 0, errorRe };
    this.truth.files.push(entry);
    return entry;
  }

  // A file the definitions' globs do not match: it must stay where it is.
  ignoredFile(rel, data) {
    const meta = this.write(rel, data);
    this.truth.files.push({ dataset: null, pipeline: null, path: rel, ...meta, status: 'ignored', rows: 0, bad_rows: 0 });
  }
}

// Random files per dataset (`counts`), each with `rows` rows in [lo, hi] (`big` of them with
// [bigLo, bigHi] rows), bad rows in about 40% of the files; with `specials`, also every file-level
// oddity of SPEC §6.2–6.3 (unreadable files, header-only, empty array, truncated array, …).
export function generateLanding(root, { seed, prefix = 'f', counts, rows = [0, 30], big = 0, bigRows = [2000, 4000], specials = true }) {
  const L = new Landing(root, seed);
  const r = L.r;
  const plan = [];
  for (const [ds, n] of Object.entries(counts)) for (let i = 0; i < n; i++) plan.push([ds, i]);
  const bigSet = new Set(r.shuffle(plan.map((_, i) => i)).slice(0, big));
  plan.forEach(([ds, i], k) => {
    const n = bigSet.has(k) ? r.int(bigRows[0], bigRows[1]) : r.int(rows[0], rows[1]);
    const badRate = r.chance(0.4) ? 0.12 : 0;
    L.dataFile(ds, `${prefix}-${pad(i, 4)}.${DATASETS[ds].ext}`, { rows: n, badRate });
  });
  if (!specials) return L;

  // CSV oddities on purpose (the random files have them by chance).
  L.dataFile('iot_sensors', `${prefix}-bom-crlf-extras.csv`, { rows: 25, bom: true, eol: '\r\n', extras: ['note', 'firmware'], shuffle: true, badRate: 0.2 });
  L.dataFile('iot_sensors', `${prefix}-mixed-endings.csv`, { rows: 30, eol: 'mixed', badRate: 0.1, trailingEol: false });
  L.dataFile('iot_sensors', `${prefix}-no-soil column.csv`, { rows: 12, dropOptional: true, shuffle: true });
  L.dataFile('iot_sensors', `${prefix}-unterminated.csv`, { rows: 8, unterminatedLast: true });
  L.dataFile('suppliers', `${prefix}-unterminated.csv`, { rows: 5, unterminatedLast: true, bom: true, eol: '\r\n' });
  L.dataFile('suppliers', `${prefix}-header-only.csv`, { rows: 0, trailingEol: true, eol: '\r\n', bom: true });
  L.dataFile('suppliers', `${prefix}-almacén ñ.csv`, { rows: 20, extras: ['operator'], badRate: 0.3 });
  // JSON oddities
  L.dataFile('inventory', `${prefix}-truncated-array.json`, { rows: 9, array: true, truncated: true });
  L.dataFile('weather', `${prefix}-truncated-array.json`, { rows: 14, array: true, pretty: true, truncated: true, badRate: 0.2 });
  L.dataFile('weather', `${prefix}-truncated-first.json`, { rows: 0, array: true, truncated: true });
  L.dataFile('inventory', `${prefix}-empty-array.json`, { rows: 0, array: true, truncated: false });
  L.dataFile('weather', `${prefix}-pretty-array.json`, { rows: 20, array: true, pretty: true, badRate: 0.25 });
  L.dataFile('weather', `${prefix}-crlf.json`, { rows: 20, array: false, eol: '\r\n', badRate: 0.25 });
  L.dataFile('inventory', `${prefix}-ndjson-bad.json`, { rows: 30, array: false, badRate: 0.4 });

  // Files unreadable as a whole.
  const latin1 = Buffer.concat([
    Buffer.from('sensor_id,farm_id,ts,temperature_c,humidity_pct\nSN-1,FARM-1,2025-03-01T00:00:00Z,1.5,2\nSN-2,Granja Peque', 'utf8'),
    Buffer.from([0xf1]), Buffer.from('a,2025-03-01T00:00:00Z,1,2\n', 'utf8')]);
  L.errorFile('iot_sensors', `${prefix}-latin1.csv`, latin1, /UTF-?8/i);
  const badJson = Buffer.concat([Buffer.from('{"station_id":"ST-1","ts":1740000000,"temp_c":1,"rain_mm":0,"wind_kmh":3}\n{"station_id":"ST-', 'utf8'),
    Buffer.from([0xff, 0xfe]), Buffer.from('","ts":1740000000,"temp_c":1,"rain_mm":0,"wind_kmh":3}\n', 'utf8')]);
  L.errorFile('weather', `${prefix}-binary.json`, badJson, /UTF-?8/i);
  const truncatedUtf8 = Buffer.concat([Buffer.from('supplier_id,name,country\nSUP-1,Caf', 'utf8'), Buffer.from([0xc3])]);
  L.errorFile('suppliers', `${prefix}-cut-utf8.csv`, truncatedUtf8, /UTF-?8/i);
  L.errorFile('iot_sensors', `${prefix}-empty.csv`, '', /empty|header/i);
  L.errorFile('suppliers', `${prefix}-blank-lines.csv`, '\r\n\n', /empty|header/i);
  L.errorFile('iot_sensors', `${prefix}-no-ts.csv`, 'sensor_id,farm_id,temperature_c,humidity_pct\nSN-1,FARM-1,1,2\n', /\bts\b/);
  L.errorFile('suppliers', `${prefix}-no-name.csv`, '\uFEFFsupplier_id,country,rating\r\nSUP-1,ES,4.5\r\n', /\bname\b/);
  L.errorFile('suppliers', `${prefix}-dup-column.csv`, 'supplier_id,name,country,country\nSUP-1,N,ES,FR\n', /\bcountry\b/);

  // Files the globs do not match: left alone.
  L.ignoredFile(`iot_sensors/${prefix}-README.txt`, 'not a CSV\n');
  L.ignoredFile(`iot_sensors/archive/${prefix}-old.csv`, 'sensor_id,farm_id,ts,temperature_c,humidity_pct\nSN-1,F,1,1,1\n');
  L.ignoredFile(`iot_sensors/.${prefix}-uploading.csv`, 'sensor_id,farm_id,ts,temperature_c,humidity_pct\nSN-1,F,1,1,1\n');
  L.ignoredFile(`weather/${prefix}-notes.ndjson`, '{"station_id":"ST-1"}\n');
  L.ignoredFile(`${prefix}-stray.csv`, 'a,b\n1,2\n');
  return L;
}

// Stores the truth as NDJSON under `dir`: rows-<dataset>.ndjson, dead_letters.ndjson, files.ndjson.
export function writeTruth(truth, dir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [ds, rows] of Object.entries(truth.rows)) {
    fs.writeFileSync(path.join(dir, `rows-${ds}.ndjson`), rows.map((x) => JSON.stringify(x) + '\n').join(''));
  }
  fs.writeFileSync(path.join(dir, 'dead_letters.ndjson'), truth.dead.map((d) => JSON.stringify({
    ...d, payload: d.payload.toString('base64'), reasonRe: String(d.reasonRe) }) + '\n').join(''));
  fs.writeFileSync(path.join(dir, 'files.ndjson'), truth.files.map((f) => JSON.stringify({ ...f, errorRe: f.errorRe ? String(f.errorRe) : undefined }) + '\n').join(''));
}
