// The seed-004 notebooks' own client libraries against Lambdaflow (SPEC §6.4): Python's
// confluent-kafka with its SchemaRegistryClient and fastavro (from scripts/pyenv.sh) produce Avro
// sales orders through `lambdaflow registry` — half with confluent-kafka's AvroSerializer, which
// registers schema v1 itself, half framed by hand (magic byte, big-endian schema id, fastavro's
// schemaless encoding) with a v2 that adds an optional `coupon` the definition does not know — into
// the embedded broker and into a real Apache Kafka. `lambdaflow ingest --once --pipeline
// pipelines/farmia/sales_orders.yaml` must land every order in bronze exactly once: DuckDB reads
// bronze and every value (UTF-8 text, longs past 2^53, doubles bit for bit, millisecond times before
// and after the epoch), the schema id, the Kafka partition and offset the producer's delivery report
// gave, and `_rescued_data` must equal what the Python producer wrote.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { Scope, SOURCE_DIR, TEST_BROKER, query, withDuckDB } from '../lib/harness.mjs';

const execFileP = promisify(execFile);
const scope = new Scope('peers_seed_clients');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

const ORDERS = path.join(SOURCE_DIR, 'pipelines/farmia/sales_orders.yaml');
const TOPIC = 'sales_orders';
const PARTITIONS = 3;
const COUNT = 3000;
const s = {};

// argv: brokers, registry URL, topic, partitions, count, truth file. Produces the orders and writes
// what it sent, one JSON object per order, with the delivery report's partition and offset.
const PRODUCER = String.raw`
import datetime as dt, io, json, struct, sys
from confluent_kafka import Producer
from confluent_kafka.serialization import SerializationContext, MessageField, StringSerializer
from confluent_kafka.schema_registry import SchemaRegistryClient, Schema
from confluent_kafka.schema_registry.avro import AvroSerializer
import fastavro

brokers, url, topic, partitions, count, out = sys.argv[1:7]
partitions, count = int(partitions), int(count)
fields = [
    {'name': 'order_id', 'type': 'string'},
    {'name': 'customer_id', 'type': 'string'},
    {'name': 'product_id', 'type': 'string'},
    {'name': 'quantity', 'type': 'long'},
    {'name': 'unit_price', 'type': 'double'},
    {'name': 'currency', 'type': 'string'},
    {'name': 'order_ts', 'type': {'type': 'long', 'logicalType': 'timestamp-millis'}},
    {'name': 'channel', 'type': 'string'},
]
v1 = {'type': 'record', 'name': 'Order', 'namespace': 'farmia.sales', 'fields': fields}
v2 = dict(v1, fields=fields + [{'name': 'coupon', 'type': ['null', 'string'], 'default': None}])

# The same schemas with order_ts as a plain long: to read back the exact millis that were sent.
def plain(schema):
    return fastavro.parse_schema(dict(schema, name='Plain', fields=[
        dict(f, type='long') if f['name'] == 'order_ts' else f for f in schema['fields']]))

registry = SchemaRegistryClient({'url': url})
serializer = AvroSerializer(registry, json.dumps(v1), to_dict=lambda order, ctx: order)
v2_parsed, plain_v1, plain_v2 = fastavro.parse_schema(v2), plain(v1), plain(v2)
keys = StringSerializer('utf_8')

epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
start = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.timezone.utc)
customers = ['C-ñandú', 'C-Zoë', 'C-東京', 'C-"quoted", comma', 'C-tab\there', 'C-😀']
quantities = [1, 7, 12, 2**53 + 1, 2**62 + 3, 0, 9223372036854775807, 250]
prices = [0.1, 19.99, 1e-310, 1.7976931348623157e308, 2.5, 1 / 3, 1234567.891, 0.0]

def order(i):
    when = start + dt.timedelta(milliseconds=i * 1537)
    if i == 5: when = epoch - dt.timedelta(milliseconds=1)          # just before the epoch
    if i == 6: when = dt.datetime(1900, 1, 1, 0, 0, 0, 1000, tzinfo=dt.timezone.utc)
    return {'order_id': 'ORD-%06d' % i, 'customer_id': customers[i % len(customers)] + str(i % 37),
            'product_id': 'P%d' % (i % 11), 'quantity': quantities[i % len(quantities)],
            'unit_price': prices[i % len(prices)], 'currency': ['EUR', 'USD', 'COP'][i % 3],
            'order_ts': when, 'channel': ['web', 'app', 'store'][i % 3]}

sent, errors = {}, []
def delivered(err, msg):
    if err is not None: errors.append(str(err)); return
    sent[msg.key().decode('utf-8')].update(partition=msg.partition(), offset=msg.offset())

producer = Producer({'bootstrap.servers': brokers, 'enable.idempotence': True, 'linger.ms': 20})
v1_id = v2_id = None
for i in range(count):
    o = order(i)
    ctx = SerializationContext(topic, MessageField.VALUE)
    if i % 2 == 0:
        value = serializer(o, ctx)                                  # registers v1 on first use
        schema_id = struct.unpack('>I', value[1:5])[0]
        v1_id = schema_id
    else:
        if v2_id is None:                                           # after v1: it is version 2
            v2_id = registry.register_schema(topic + '-value', Schema(json.dumps(v2), 'AVRO'))
        o['coupon'] = None if i % 3 == 0 else 'SAVE%d' % (i % 7)
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, v2_parsed, o)
        value = b'\x00' + struct.pack('>I', v2_id) + buf.getvalue()
        schema_id = v2_id
    # What was sent, read back from the bytes themselves.
    sent_record = fastavro.schemaless_reader(io.BytesIO(value[5:]), plain_v2 if i % 2 else plain_v1, None)
    assert {k: v for k, v in sent_record.items() if k != 'order_ts'} == {k: v for k, v in o.items() if k != 'order_ts'}
    assert abs(sent_record['order_ts'] - (o['order_ts'] - epoch) / dt.timedelta(milliseconds=1)) < 1, sent_record
    truth = dict(sent_record, quantity=str(o['quantity']), unit_price=struct.pack('>d', o['unit_price']).hex(),
                 schema_id=schema_id)
    sent[o['order_id']] = truth
    producer.produce(topic, key=keys(o['order_id']), value=value, partition=i % partitions, on_delivery=delivered)
    producer.poll(0)
left = producer.flush(60)
assert left == 0 and not errors, (left, errors[:3])
assert all('offset' in t for t in sent.values()), 'a delivery report is missing'
with open(out, 'w', encoding='utf-8') as f:
    for t in sent.values(): f.write(json.dumps(t, ensure_ascii=False) + '\n')
print(json.dumps({'v1': v1_id, 'v2': v2_id, 'subjects': registry.get_subjects(),
                  'versions': registry.get_versions(topic + '-value')}))
`;

before(async () => {
  s.python = execFileSync(path.join(SOURCE_DIR, 'scripts/pyenv.sh'), { encoding: 'utf8' }).trim().split('\n').pop();
  s.pg = await scope.startPostgres();
  s.tmp = scope.tmpdir();
});

// One broker: a registry on its own database, the Python producer, ingest --once, then bronze
// against the producer's record.
async function roundTrip(t, broker, label) {
  const db = `reg_${label}`;
  await query(s.pg.uri, `CREATE DATABASE ${db}`);
  const pg = s.pg.withDatabase(db);
  const reg = scope.start(['registry', '--pg', pg, '--listen', '127.0.0.1:0'], { name: `registry-${label}` });
  const url = (await reg.waitForLine(/^registry: listening on (http:\/\/127\.0\.0\.1:\d+)\/$/, 30000))[1];
  const truthFile = path.join(s.tmp, `${label}-orders.ndjson`);
  let produced;
  try {
    produced = await execFileP(s.python, ['-c', PRODUCER, broker.brokers, url, TOPIC, String(PARTITIONS), String(COUNT),
      truthFile], { timeout: 180000, maxBuffer: 1 << 24 });
  } catch (e) {
    throw new Error(`the confluent-kafka producer failed: ${e.message}\n${(e.stderr ?? '').slice(-4000)}`);
  }
  const reply = JSON.parse(produced.stdout.trim().split('\n').pop());
  assert.notEqual(reply.v1, reply.v2, 'two schema versions, two ids');
  assert.deepEqual(reply.subjects, [`${TOPIC}-value`]);
  assert.deepEqual(reply.versions, [1, 2]);
  const truth = fs.readFileSync(truthFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(truth.length, COUNT);

  const storage = path.join(s.tmp, `${label}-storage`);
  const started = Date.now();
  const ing = await scope.run(['ingest', '--once', '--pipeline', ORDERS, '--brokers', broker.brokers,
    '--schema-registry', url, '--storage', storage, '--pg', pg], { timeoutMs: 180000, name: `ingest-${label}` });
  assert.equal(ing.code, 0, ing.stderr.slice(-2000));
  const today = new Set([new Date(started).toISOString().slice(0, 10), new Date().toISOString().slice(0, 10)]);

  const rows = await withDuckDB(async (conn) => (await conn.runAndReadAll(`SELECT order_id, customer_id, product_id,
      quantity::VARCHAR AS quantity, unit_price, currency, epoch_ms(order_ts) AS order_ts, channel,
      _schema_id AS schema_id, _topic, _partition AS partition, _offset AS "offset", _rescued_data, _source_file,
      _source_row, ingest_date::VARCHAR AS ingest_date
    FROM read_parquet('${storage}/bronze/sales_orders/*/*.parquet', hive_partitioning = true)`)).getRowObjectsJS());
  assert.equal(rows.length, truth.length, 'bronze holds as many rows as orders were sent');
  const byId = new Map(rows.map((r) => [r.order_id, r]));
  assert.equal(byId.size, truth.length, 'no order twice');
  const bits = Buffer.alloc(8);
  const problems = [];
  for (const o of truth) {
    const r = byId.get(o.order_id);
    if (!r) {
      problems.push(`${o.order_id}: missing`);
      continue;
    }
    bits.writeDoubleBE(r.unit_price);
    const got = {
      order_id: r.order_id, customer_id: r.customer_id, product_id: r.product_id, quantity: r.quantity,
      unit_price: bits.toString('hex'), currency: r.currency, order_ts: Number(r.order_ts), channel: r.channel,
      schema_id: r.schema_id, partition: r.partition, offset: Number(r.offset),
      ...(r._rescued_data === null ? {} : JSON.parse(r._rescued_data)),
    };
    const want = { ...o };
    if (want.coupon === undefined) delete want.coupon;
    try {
      assert.deepEqual(got, want);
    } catch {
      problems.push(`${o.order_id}: bronze ${JSON.stringify(got)}\n    sent ${JSON.stringify(want)}`);
    }
    if (r._topic !== TOPIC || r._source_file !== null || r._source_row !== null || !today.has(r.ingest_date)) {
      problems.push(`${o.order_id}: metadata ${JSON.stringify([r._topic, r._source_file, r._source_row, r.ingest_date])}`);
    }
  }
  assert.deepEqual(problems.slice(0, 6), [], `${problems.length} of ${truth.length} orders differ from what was sent`);
  const dead = await query(pg, `SELECT count(*)::int AS n FROM dead_letters WHERE topic = $1`, [TOPIC]);
  assert.equal(dead[0].n, 0, 'no order became a dead letter');
  const summary = ing.stdout.trim().split('\n').pop();
  t.diagnostic(`${label}: ${COUNT} orders (schema ids ${reply.v1}, ${reply.v2}); ingest ${((Date.now() - started) / 1000).toFixed(1)} s: ${summary}`);
  reg.kill('SIGTERM');
  await reg.wait(30000);
}

test(`confluent-kafka + fastavro orders through lambdaflow registry and the ${TEST_BROKER} broker land in bronze exactly`,
  { timeout: 300000 }, async (t) => {
    const broker = await scope.startBroker({ topic: TOPIC, partitions: PARTITIONS });
    await roundTrip(t, broker, 'default');
    await broker.stop();
  });

test('the same through a real Apache Kafka', { timeout: 300000 }, async (t) => {
  const kafka = await scope.startKafka({ topics: [TOPIC], partitions: PARTITIONS });
  await roundTrip(t, kafka, 'kafka');
});
