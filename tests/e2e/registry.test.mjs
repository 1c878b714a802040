// `lambdaflow registry`: the Confluent Schema Registry API (SPEC §6.4) driven by an independent
// client, npm's @kafkajs/confluent-schema-registry (registration, look-ups, its config handshake,
// Avro encode/decode in the Confluent wire format through avsc), plus raw HTTP for the error codes
// and the content type, two registry processes registering at once against one PostgreSQL, and
// a restart that keeps every schema.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import registryClient from '@kafkajs/confluent-schema-registry';
import { Scope, query } from '../lib/harness.mjs';

const { SchemaRegistry, SchemaType } = registryClient;

const scope = new Scope('registry');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const SUBJECT = 'sales_orders-value';
const s = {};

// SPEC §6.1's sales order; v2 adds a field with a default (BACKWARD compatible).
const ORDER_V1 = {
  type: 'record',
  name: 'Order',
  namespace: 'farmia.sales',
  fields: [
    { name: 'order_id', type: 'string' },
    { name: 'customer_id', type: 'string' },
    { name: 'product_id', type: 'string' },
    { name: 'quantity', type: 'long' },
    { name: 'unit_price', type: 'double' },
    { name: 'currency', type: 'string' },
    { name: 'order_ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
};
const ORDER_V2 = { ...ORDER_V1, fields: [...ORDER_V1.fields, { name: 'channel', type: 'string', default: 'web' }] };
// Not BACKWARD compatible with v2: a new field without a default cannot be read from v2 data.
const ORDER_BAD = { ...ORDER_V2, fields: [...ORDER_V2.fields, { name: 'discount', type: 'double' }] };

async function startRegistry(pgUri, name = 'registry') {
  const proc = scope.start(['registry', '--pg', pgUri, '--listen', '127.0.0.1:0'], { name });
  const m = await proc.waitForLine(/^registry: listening on (http:\/\/127\.0\.0\.1:(\d+)\/)$/, 30000);
  return { url: m[1].replace(/\/$/, ''), port: Number(m[2]), proc };
}

async function call(url, method, path, body, { contentType = CONTENT_TYPE } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = contentType;
  const res = await fetch(url + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, contentType: res.headers.get('content-type'), text, json };
}
const api = (method, path, body, opts) => call(s.reg.url, method, path, body, opts);

async function expectError(promise, status, code) {
  const r = await promise;
  assert.equal(r.status, status, r.text);
  assert.equal(r.json?.error_code, code, r.text);
  assert.equal(typeof r.json.message, 'string');
  assert.equal(r.contentType, CONTENT_TYPE);
  return r;
}

before(async () => {
  s.pg = await scope.startPostgres();
  s.reg = await startRegistry(s.pg.uri);
  s.client = new SchemaRegistry({ host: s.reg.url, retry: { retries: 0 } });
});

test('the kafkajs client registers two versions, reads them back and round-trips Avro', async () => {
  const v1 = await s.client.register({ type: SchemaType.AVRO, schema: JSON.stringify(ORDER_V1) }, { subject: SUBJECT });
  // Idempotent, also for the same schema written differently.
  const again = await s.client.register({ type: SchemaType.AVRO, schema: JSON.stringify(ORDER_V1, null, 2) }, { subject: SUBJECT });
  assert.equal(again.id, v1.id);
  const v2 = await s.client.register({ type: SchemaType.AVRO, schema: JSON.stringify(ORDER_V2) }, { subject: SUBJECT });
  assert.notEqual(v2.id, v1.id);
  s.ids = { v1: v1.id, v2: v2.id };

  assert.equal(await s.client.getLatestSchemaId(SUBJECT), v2.id);
  assert.equal(await s.client.getRegistryId(SUBJECT, 1), v1.id);
  assert.equal(await s.client.getRegistryId(SUBJECT, 2), v2.id);
  assert.equal(await s.client.getRegistryIdBySchema(SUBJECT, { type: SchemaType.AVRO, schema: JSON.stringify(ORDER_V1) }), v1.id);

  // The client set the subject's level after its first registration (GET /config/{s} was 404).
  const cfg = await api('GET', `/config/${SUBJECT}`);
  assert.deepEqual(cfg.json, { compatibilityLevel: 'BACKWARD' });

  // The same schema under another subject keeps its global id.
  const copy = await s.client.register({ type: SchemaType.AVRO, schema: JSON.stringify(ORDER_V2) }, { subject: 'orders_copy-value' });
  assert.equal(copy.id, v2.id);

  // Encode with v1 and decode with a fresh client (schema fetched by id from the registry).
  const order = {
    order_id: 'o-1', customer_id: 'c-9', product_id: 'p-3', quantity: 4, unit_price: 2.5, currency: 'EUR',
    order_ts: Date.parse('2026-11-22T09:00:00.123Z'),
  };
  const buf = await s.client.encode(v1.id, order);
  assert.equal(buf[0], 0);
  assert.equal(buf.readUInt32BE(1), v1.id);
  const fresh = new SchemaRegistry({ host: s.reg.url, retry: { retries: 0 } });
  assert.deepEqual({ ...(await fresh.decode(buf)) }, order); // avsc decodes into a record class
  const withChannel = await fresh.encode(v2.id, { ...order, channel: 'shop' });
  assert.equal((await fresh.decode(withChannel)).channel, 'shop');
  const schema2 = await fresh.getSchema(v2.id);
  assert.deepEqual(schema2.fields.map((f) => f.name), [...ORDER_V1.fields.map((f) => f.name), 'channel']);
});

test('compatibility: checked per level, an incompatible schema is refused with 409', async () => {
  const check = await s.client.api.Subject.compatible({ subject: SUBJECT, version: 'latest', body: { schema: JSON.stringify(ORDER_V2) } });
  assert.deepEqual(check.data(), { is_compatible: true });
  const bad = await api('POST', `/compatibility/subjects/${SUBJECT}/versions/latest`, { schema: JSON.stringify(ORDER_BAD) });
  assert.equal(bad.status, 200, bad.text);
  assert.equal(bad.json.is_compatible, false);
  assert.match(bad.json.messages.join(' '), /discount/);
  // Against version 1 specifically; and a version that does not exist.
  const vs1 = await api('POST', `/compatibility/subjects/${SUBJECT}/versions/1`, { schema: JSON.stringify(ORDER_V2) });
  assert.deepEqual(vs1.json, { is_compatible: true });
  await expectError(api('POST', `/compatibility/subjects/${SUBJECT}/versions/7`, { schema: JSON.stringify(ORDER_V2) }), 404, 40402);

  await assert.rejects(
    s.client.register({ type: SchemaType.AVRO, schema: JSON.stringify(ORDER_BAD) }, { subject: SUBJECT }),
    (e) => e.status === 409,
  );
  const refused = await expectError(api('POST', `/subjects/${SUBJECT}/versions`, { schema: JSON.stringify(ORDER_BAD) }), 409, 409);
  assert.match(refused.json.message, /incompatible/);
  assert.deepEqual((await api('GET', `/subjects/${SUBJECT}/versions`)).json, [1, 2]);

  // A type change is refused too; with the subject at NONE anything valid goes in.
  const retyped = { ...ORDER_V1, fields: ORDER_V1.fields.map((f) => (f.name === 'quantity' ? { ...f, type: 'string' } : f)) };
  await expectError(api('POST', '/subjects/loose-value/versions', { schema: JSON.stringify(ORDER_V1) }).then(() =>
    api('POST', '/subjects/loose-value/versions', { schema: JSON.stringify(retyped) })), 409, 409);
  assert.deepEqual((await api('PUT', '/config/loose-value', { compatibility: 'NONE' })).json, { compatibility: 'NONE' });
  const loose = await api('POST', '/subjects/loose-value/versions', { schema: JSON.stringify(retyped) });
  assert.equal(loose.status, 200, loose.text);
  assert.deepEqual((await api('GET', '/subjects/loose-value/versions')).json, [1, 2]);
});

test('raw HTTP: bodies, error codes and the content type', async () => {
  const subjects = await api('GET', '/subjects');
  assert.equal(subjects.status, 200);
  assert.equal(subjects.contentType, CONTENT_TYPE);
  assert.deepEqual(subjects.json, ['loose-value', 'orders_copy-value', SUBJECT]);

  const latest = await api('GET', `/subjects/${SUBJECT}/versions/latest`);
  assert.deepEqual(Object.keys(latest.json).sort(), ['id', 'schema', 'subject', 'version']);
  assert.equal(latest.json.version, 2);
  assert.equal(latest.json.id, s.ids.v2);
  assert.deepEqual(JSON.parse(latest.json.schema), ORDER_V2);
  assert.deepEqual(JSON.parse((await api('GET', `/schemas/ids/${s.ids.v1}`)).json.schema), ORDER_V1);
  const lookup = await api('POST', `/subjects/${SUBJECT}`, { schema: JSON.stringify(ORDER_V2) });
  assert.deepEqual({ ...lookup.json, schema: undefined }, { subject: SUBJECT, id: s.ids.v2, version: 2, schema: undefined });
  const uses = await api('GET', `/schemas/ids/${s.ids.v2}/versions`);
  assert.deepEqual(uses.json, [{ subject: 'orders_copy-value', version: 1 }, { subject: SUBJECT, version: 2 }]);

  await expectError(api('GET', '/subjects/nope/versions'), 404, 40401);
  await expectError(api('GET', '/subjects/nope/versions/latest'), 404, 40401);
  await expectError(api('GET', `/subjects/${SUBJECT}/versions/99`), 404, 40402);
  await expectError(api('GET', `/subjects/${SUBJECT}/versions/0`), 422, 42202);
  await expectError(api('GET', `/subjects/${SUBJECT}/versions/two`), 422, 42202);
  await expectError(api('GET', '/schemas/ids/999999'), 404, 40403);
  await expectError(api('POST', `/subjects/${SUBJECT}`, { schema: JSON.stringify(ORDER_BAD) }), 404, 40403);
  await expectError(api('POST', '/subjects/nope', { schema: JSON.stringify(ORDER_V1) }), 404, 40401);
  await expectError(api('POST', '/subjects/x-value/versions', { schema: '{"type":"record","name":"R"}' }), 422, 42201);
  await expectError(api('POST', '/subjects/x-value/versions', { schema: '{"type": "integer"}' }), 422, 42201);
  await expectError(api('POST', '/subjects/x-value/versions', { schema: '"int"', schemaType: 'PROTOBUF' }), 422, 42201);
  await expectError(api('POST', '/subjects/x-value/versions', '{"schema": '), 400, 400);
  await expectError(api('POST', '/subjects/x-value/versions', { schema: '"int"' }, { contentType: 'text/plain' }), 415, 415);
  await expectError(api('POST', `/subjects/${'s'.repeat(300)}/versions`, { schema: '"int"' }), 422, 42208);
  await expectError(api('POST', '/subjects/x-value/versions', { schema: ' '.repeat(1100000) + '"int"' }), 413, 413);
  await expectError(api('GET', '/no/such/path'), 404, 404);
  await expectError(api('DELETE', '/subjects'), 405, 405);
  assert.equal((await api('GET', '/subjects')).json.includes('x-value'), false);

  // Plain application/json and octet-stream bodies are accepted (clients send either).
  const plain = await api('POST', '/subjects/plain-value/versions', { schema: '"string"' }, { contentType: 'application/json' });
  assert.equal(plain.status, 200, plain.text);
  const octets = await api('POST', '/subjects/plain-value/versions', { schema: '"string"' }, { contentType: 'application/octet-stream' });
  assert.deepEqual(octets.json, plain.json);

  // Config: global get/put, a subject without its own level, an invalid level.
  assert.deepEqual((await api('GET', '/config')).json, { compatibilityLevel: 'BACKWARD' });
  assert.deepEqual((await api('PUT', '/config', { compatibility: 'FULL' })).json, { compatibility: 'FULL' });
  assert.deepEqual((await api('GET', '/config')).json, { compatibilityLevel: 'FULL' });
  await expectError(api('GET', '/config/plain-value'), 404, 40408);
  assert.deepEqual((await api('GET', '/config/plain-value?defaultToGlobal=true')).json, { compatibilityLevel: 'FULL' });
  await expectError(api('PUT', '/config', { compatibility: 'SIDEWAYS' }), 422, 42203);
  assert.deepEqual((await api('PUT', '/config', { compatibility: 'BACKWARD' })).json, { compatibility: 'BACKWARD' });
});

test('two registry processes registering at once stay consistent', async () => {
  const other = await startRegistry(s.pg.uri, 'registry-2');
  const urls = [s.reg.url, other.url];
  const subject = 'race-value';
  await call(urls[0], 'PUT', `/config/${subject}`, { compatibility: 'NONE' });
  const schemaN = (n) => JSON.stringify({ type: 'record', name: `R${n}`, fields: [{ name: 'f', type: 'long' }] });
  const shared = JSON.stringify({ type: 'record', name: 'Shared', fields: [{ name: 'g', type: 'string' }] });
  const requests = [];
  for (let n = 0; n < 12; n++) {
    requests.push(call(urls[n % 2], 'POST', `/subjects/${subject}/versions`, { schema: schemaN(n) }));
    // The same schema at both registries and under two subjects, at the same moment.
    requests.push(call(urls[(n + 1) % 2], 'POST', `/subjects/${subject}/versions`, { schema: shared }));
    requests.push(call(urls[n % 2], 'POST', '/subjects/race-other-value/versions', { schema: shared }));
  }
  const replies = await Promise.all(requests);
  for (const r of replies) assert.equal(r.status, 200, r.text);
  const sharedIds = new Set(replies.filter((_, i) => i % 3 !== 0).map((r) => r.json.id));
  assert.equal(sharedIds.size, 1, `one id for the shared schema, got ${[...sharedIds]}`);
  const distinct = new Set(replies.filter((_, i) => i % 3 === 0).map((r) => r.json.id));
  assert.equal(distinct.size, 12);
  assert.equal(distinct.has([...sharedIds][0]), false);
  const versions = (await call(urls[1], 'GET', `/subjects/${subject}/versions`)).json;
  assert.deepEqual(versions, Array.from({ length: 13 }, (_, i) => i + 1));
  const rows = await query(s.pg.uri, `SELECT count(*)::int AS n, count(DISTINCT schema_id)::int AS ids
    FROM lf_registry_subject_versions WHERE subject = $1`, [subject]);
  assert.deepEqual(rows[0], { n: 13, ids: 13 });
  const stopped = await other.proc.stop();
  assert.equal(stopped.code, 0);
});

test('SIGTERM stops it cleanly; a restart serves every schema from PostgreSQL', async () => {
  const exit = await s.reg.proc.stop();
  assert.equal(exit.code, 0, s.reg.proc.stderr);
  s.reg = await startRegistry(s.pg.uri, 'registry-restarted');
  assert.deepEqual(JSON.parse((await api('GET', `/schemas/ids/${s.ids.v1}`)).json.schema), ORDER_V1);
  assert.deepEqual((await api('GET', `/subjects/${SUBJECT}/versions`)).json, [1, 2]);
  // Ids keep counting after a restart: never reused.
  const next = await api('POST', '/subjects/after-restart-value/versions', { schema: '"bytes"' });
  assert.ok(next.json.id > s.ids.v2, next.text);
  const tables = await query(s.pg.uri, `SELECT tablename FROM pg_tables WHERE tablename LIKE 'lf_registry_%' ORDER BY 1`);
  assert.deepEqual(tables.map((t) => t.tablename), ['lf_registry_config', 'lf_registry_schemas', 'lf_registry_subject_versions']);
});
