// Hand-made Kafka messages for the speed layer's end-to-end tests: bad input of every kind of
// SPEC §1.1 (each must land in dead_letters exactly once, byte for byte) and unusual but valid
// events (extra fields, other field order, whitespace, escapes, boundaries), which the oracle counts.

import fs from 'node:fs';
import {
  consumeAll, produceRaw, readLines, compareDeadLetters, preview,
} from './harness.mjs';

export const userId = (n) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;
const ANTENNA = '00000000-0000-0000-0000-00000000a0e2';

// One JSON object text with the five fields, in this order, each value given as raw JSON text;
// `over` replaces values, `omit` drops fields.
function obj(ts, over = {}, omit = []) {
  const fields = {
    bytes: '1234',
    timestamp: String(ts),
    app: '"SKYPE"',
    id: `"${userId(1)}"`,
    antenna_id: `"${ANTENNA}"`,
    ...over,
  };
  return '{' + Object.entries(fields).filter(([k]) => !omit.includes(k)).map(([k, v]) => `"${k}":${v}`).join(',') + '}';
}

const b = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

// [{ kind, payload: Buffer }]; every payload distinct. `ts` is a valid event time.
export function badMessages(ts) {
  const list = [
    // not valid UTF-8 (otherwise well-formed JSON objects)
    ['utf8: 0xff 0xfe in app', b(`{"bytes":11,"timestamp":${ts},"app":"SK`, [0xff, 0xfe], `YPE","id":"${userId(2)}","antenna_id":"${ANTENNA}"}`)],
    ['utf8: overlong encoding of /', b(`{"bytes":12,"timestamp":${ts},"app":"A`, [0xc0, 0xaf], `","id":"${userId(3)}","antenna_id":"${ANTENNA}"}`)],
    ['utf8: truncated 3-byte sequence in id', b(`{"bytes":13,"timestamp":${ts},"app":"SKYPE","id":"x`, [0xe2, 0x82], `","antenna_id":"${ANTENNA}"}`)],
    ['utf8: encoded surrogate', b(`{"bytes":14,"timestamp":${ts},"app":"`, [0xed, 0xa0, 0x80], `","id":"${userId(4)}","antenna_id":"${ANTENNA}"}`)],
    ['utf8: lone continuation byte in antenna_id', b(`{"bytes":15,"timestamp":${ts},"app":"SKYPE","id":"${userId(5)}","antenna_id":"`, [0x80], `"}`)],
    // not JSON
    ['not json: prose', b('hello world')],
    ['not json: truncated object', b(`{"bytes":16,"timestamp":`)],
    ['not json: unquoted keys', b(`{bytes:17,timestamp:${ts},app:"SKYPE",id:"${userId(6)}",antenna_id:"${ANTENNA}"}`)],
    ['not json: trailing garbage', b(obj(ts, { bytes: '18' }) + ' xyz')],
    ['not json: trailing comma', b(obj(ts, { bytes: '19' }).slice(0, -1) + ',}')],
    ['not json: whitespace only', b('   \n\t ')],
    ['not json: two objects', b(obj(ts, { bytes: '20' }) + obj(ts, { bytes: '21' }))],
    // JSON, but not an object
    ['not an object: array', b(`[${obj(ts, { bytes: '22' })}]`)],
    ['not an object: number', b('42')],
    ['not an object: string', b('"just a string"')],
    ['not an object: null', b('null')],
    ['not an object: true', b('true')],
    // a field missing
    ...['bytes', 'timestamp', 'app', 'id', 'antenna_id'].map((f) => [`missing ${f}`, b(obj(ts, { bytes: '23' }, [f]))]),
    ['missing everything', b('{}')],
    // a field of the wrong type
    ['wrong type: bytes as string', b(obj(ts, { bytes: '"12"' }))],
    ['wrong type: bytes fractional', b(obj(ts, { bytes: '1.5' }))],
    ['wrong type: bytes null', b(obj(ts, { bytes: 'null' }))],
    ['wrong type: bytes boolean', b(obj(ts, { bytes: 'true' }))],
    ['wrong type: bytes object', b(obj(ts, { bytes: '{"v":1}' }))],
    ['wrong type: timestamp as string', b(obj(ts, { timestamp: `"${ts}"` }))],
    ['wrong type: timestamp fractional', b(obj(ts, { timestamp: `${ts}.5` }))],
    ['wrong type: timestamp null', b(obj(ts, { timestamp: 'null' }))],
    ['wrong type: app number', b(obj(ts, { app: '123' }))],
    ['wrong type: app null', b(obj(ts, { app: 'null' }))],
    ['wrong type: app array', b(obj(ts, { app: '["SKYPE"]' }))],
    ['wrong type: id number', b(obj(ts, { id: '17' }))],
    ['wrong type: id null', b(obj(ts, { id: 'null' }))],
    ['wrong type: antenna_id object', b(obj(ts, { antenna_id: '{"x":1}' }))],
    ['wrong type: antenna_id boolean', b(obj(ts, { antenna_id: 'false' }))],
    // out of range
    ['range: negative bytes', b(obj(ts, { bytes: '-1' }))],
    ['range: very negative bytes', b(obj(ts, { bytes: '-9223372036854775808' }))],
    ['range: bytes above int64', b(obj(ts, { bytes: '9223372036854775808' }))],
    ['range: timestamp above int64', b(obj(ts, { timestamp: '99999999999999999999' }))],
    // empty payload
    ['empty payload', Buffer.alloc(0)],
    ['NULL payload (tombstone)', null],
  ];
  const seen = new Set();
  for (const [, p] of list) {
    const k = p === null ? 'NULL' : p.toString('hex');
    if (seen.has(k)) throw new Error(`duplicate bad payload ${preview(p)}`);
    seen.add(k);
  }
  return list.map(([kind, payload]) => ({ kind, payload }));
}

// Unusual but valid events: [{ kind, payload: Buffer, line }] where `line` is the same event as one
// NDJSON line for the oracle (the payload itself with its insignificant newlines turned to spaces).
// `ts` should be inside the simulated time range; `tag` makes payloads distinct between calls.
export function unusualValidMessages(ts, tag) {
  const t = ts - (ts % 300) + 300; // a window boundary, for boundary events
  const list = [
    ['extra fields of every type', `{"bytes":1001,"timestamp":${ts},"app":"SKYPE","id":"${userId(1)}","antenna_id":"${ANTENNA}","extra":"${tag}","nested":{"a":[1,2,{"b":null}]},"flag":null,"n":1.5}`],
    ['reversed field order', `{"antenna_id":"${ANTENNA}","id":"${userId(2)}","app":"TELEGRAM","timestamp":${ts + 1},"bytes":4567,"tag":"${tag}"}`],
    ['pretty printed', `{\n\t"timestamp": ${ts + 2},\n  "bytes" : 77 ,\n  "app": "WHATSAPP",\n  "id": "${userId(3)}",\n  "antenna_id": "${ANTENNA}", "tag": "${tag}"\n}\n`],
    ['zero bytes (its keys have other events in the window)', `{"bytes":0,"timestamp":${ts + 3},"app":"SKYPE","id":"${userId(1)}","antenna_id":"${ANTENNA}","tag":"${tag}"}`],
    ['raw UTF-8 app', `{"bytes":31,"timestamp":${ts + 4},"app":"CAFÉ-€","id":"${userId(5)}","antenna_id":"${ANTENNA}","tag":"${tag}"}`],
    ['escaped UTF-8 app', `{"bytes":32,"timestamp":${ts + 5},"app":"CAF\\u00c9-\\u20ac","id":"${userId(5)}","antenna_id":"${ANTENNA}","tag":"${tag}"}`],
    ['bytes above 2^32', `{"bytes":5000000000,"timestamp":${ts + 6},"app":"FACEBOOK","id":"${userId(6)}","antenna_id":"${ANTENNA}","tag":"${tag}"}`],
    ['unknown device and new app', `{"bytes":999,"timestamp":${ts + 7},"app":"NEWAPP-${tag}","id":"ffffffff-ffff-ffff-ffff-${tag.padStart(12, '0')}","antenna_id":"${ANTENNA}"}`],
    ['first second of a window', `{"bytes":41,"timestamp":${t},"app":"BOUNDARY","id":"${userId(7)}","antenna_id":"${ANTENNA}","tag":"${tag}"}`],
    ['last second of a window', `{"bytes":42,"timestamp":${t - 1},"app":"BOUNDARY","id":"${userId(7)}","antenna_id":"${ANTENNA}","tag":"${tag}"}`],
  ];
  return list.map(([kind, text]) => ({ kind, payload: Buffer.from(text, 'utf8'), line: text.replace(/\n/g, ' ') }));
}

// Valid edge cases of SPEC §1.1's types, each on keys of its own so its rows stand alone:
// a window whose only event has 0 bytes (the row must exist with value 0), bytes beyond 2^53 and at
// the int64 maximum, and event times at and before the Unix epoch (floor, not truncation).
export function edgeValidMessages(tag) {
  const key = (name) => `"app":"${name}-${tag}","id":"${name.toLowerCase()}-device-${tag}","antenna_id":"${name.toLowerCase()}-antenna-${tag}"`;
  const list = [
    ['only event of its keys has 0 bytes', `{"bytes":0,"timestamp":1795330000,${key('ZERO')}}`],
    ['bytes 2^53 + 1', `{"bytes":9007199254740993,"timestamp":1795330001,${key('HUGE')}}`],
    ['bytes at the int64 maximum', `{"bytes":9223372036854775807,"timestamp":1795330002,${key('MAXINT')}}`],
    ['timestamp 0', `{"bytes":5,"timestamp":0,${key('EPOCH')}}`],
    ['timestamp -1 (window starts at -300)', `{"bytes":6,"timestamp":-1,${key('BEFORE')}}`],
  ];
  return list.map(([kind, text]) => ({ kind, payload: Buffer.from(text, 'utf8'), line: text }));
}

// Late events, one per partition, at `ts` (long before the end of the stream); valid.
export function lateMessages(ts, partitions) {
  const out = [];
  for (let p = 0; p < partitions; p++) {
    const text = `{"bytes":${1000 + p},"timestamp":${ts + p},"app":"LATE","id":"${userId(8)}","antenna_id":"${ANTENNA}","late":true,"p":${p}}`;
    out.push({ kind: `late on partition ${p}`, partition: p, payload: Buffer.from(text), line: text });
  }
  return out;
}

// Produces `msgs` round-robin over the partitions starting at `first`; records the partition on
// each message.
export async function produceSpread(brokers, topic, partitions, msgs, first = 0) {
  const byPartition = new Map();
  msgs.forEach((m, i) => {
    const p = m.partition ?? (first + i) % partitions;
    m.partition = p;
    if (!byPartition.has(p)) byPartition.set(p, []);
    byPartition.get(p).push(m.payload);
  });
  await Promise.all([...byPartition].map(([p, payloads]) => produceRaw(brokers, topic, p, payloads)));
}

export function writeOracleLines(file, msgs) {
  fs.writeFileSync(file, msgs.map((m) => m.line + '\n').join(''));
}

// Reads the whole topic back with kcat and checks it holds exactly: the simulator's NDJSON lines
// (its --out must be the exact payloads), the hand-made valid messages and the bad ones. Returns
// { dump, expectedDeadLetters, problems }.
export async function auditTopic(brokers, topic, { ndjsonFiles, valid, bad }) {
  const dump = await consumeAll(brokers, topic);
  const problems = [];
  const counts = new Map();
  const add = (k, n) => counts.set(k, (counts.get(k) ?? 0) + n);
  for (const f of ndjsonFiles) for (const line of readLines(f)) add('v:' + Buffer.from(line).toString('hex'), 1);
  for (const m of valid) add('v:' + m.payload.toString('hex'), 1);
  const badKeys = new Set(bad.map((m) => (m.payload ?? Buffer.alloc(0)).toString('hex')));
  const expectedDeadLetters = [];
  let unexpected = 0;
  for (const m of dump) {
    const hex = (m.payload ?? Buffer.alloc(0)).toString('hex');
    if (badKeys.has(hex)) {
      expectedDeadLetters.push(m);
      continue;
    }
    const k = 'v:' + hex;
    if ((counts.get(k) ?? 0) > 0) counts.set(k, counts.get(k) - 1);
    else if (unexpected++ < 5) problems.push(`topic holds a message nobody produced: p${m.partition}@${m.offset} ${preview(m.payload)}`);
  }
  if (unexpected > 5) problems.push(`… ${unexpected} unexpected messages in all`);
  let missing = 0;
  for (const [k, n] of counts) {
    if (n > 0) {
      missing += n;
      if (missing <= 5) problems.push(`produced but not in the topic (x${n}): ${preview(Buffer.from(k.slice(2), 'hex'))}`);
    }
  }
  if (missing > 5) problems.push(`… ${missing} produced messages missing from the topic in all`);
  if (expectedDeadLetters.length !== bad.length) {
    problems.push(`topic holds ${expectedDeadLetters.length} of the ${bad.length} bad messages produced`);
  }
  return { dump, expectedDeadLetters, problems };
}

export { compareDeadLetters };
