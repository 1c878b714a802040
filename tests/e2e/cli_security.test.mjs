// The command line's edges: --help everywhere, hostile --table values refused without touching the
// database, bad flags rejected with a clear message, and passwords (in a URI, in PGPASSWORD, in the
// seeds' positional jdbc form, right or wrong) never printed.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  Scope, query, createRoleWithPassword, waitFor, WaitAbort, produceRaw,
} from '../lib/harness.mjs';

const PASSWORD = 'Zq7mK2-s3cret_pw';
const WRONG = 'Xw9vN4-wrong_pw';
const SECRET_TOKENS = ['Zq7mK2', 'Xw9vN4', 's3cret_pw', 'wrong_pw'];
const TOPIC = 'devices';

const scope = new Scope('cli_security');
after(() => scope.cleanup());
afterEach((t) => scope.noteResult(t));

let pg, broker, tmp, storage;
const roleUri = (pw, db = 'lfsecdb') => `postgresql://lfsec:${encodeURIComponent(pw)}@127.0.0.1:${pg.port}/${db}`;
const jdbcUri = (db = 'lfsecdb') => `jdbc:postgresql://127.0.0.1:${pg.port}/${db}`;

before(async () => {
  tmp = scope.tmpdir();
  storage = path.join(tmp, 'storage');
  [pg, broker] = await Promise.all([scope.startPostgres(), scope.startBroker({ topic: TOPIC, partitions: 4 })]);
  await createRoleWithPassword(pg.uri, 'lfsec', PASSWORD, { database: 'lfsecdb' });
});

function assertNoSecret(r, what) {
  const out = `${r.stdout}\n${r.stderr}`;
  for (const tok of SECRET_TOKENS) {
    assert.ok(!out.includes(tok), `${what}: output reveals the password (${tok}):\n${out.slice(0, 3000)}`);
  }
}

test('--help works for the binary and every subcommand', async () => {
  const expect = {
    '': ['broker', 'provision', 'simulate', 'speed'],
    broker: ['--listen', '--topic', '--partitions'],
    provision: ['--pg'],
    simulate: ['--brokers', '--topic', '--antennas', '--devices', '--events', '--rate', '--start', '--interval', '--seed', '--out'],
    speed: ['--brokers', '--topic', '--pg', '--storage', '--group', '--exit-when-idle'],
  };
  const problems = [];
  for (const [sub, words] of Object.entries(expect)) {
    const r = await scope.run([...(sub ? [sub] : []), '--help'], { timeoutMs: 20000, name: `help-${sub || 'top'}` });
    if (r.code !== 0) problems.push(`${sub} --help exited ${r.code}`);
    const missing = words.filter((w) => !r.stdout.includes(w));
    if (missing.length) problems.push(`${sub || 'lambdaflow'} --help lacks ${missing.join(' ')}`);
    if (sub === 'broker' && !/memory/i.test(r.stdout)) problems.push('broker --help does not state its in-memory limits');
  }
  assert.deepEqual(problems, []);
});

test('hostile --table values are refused and the database is untouched', async () => {
  const prov = await scope.run(['provision', '--pg', pg.uri], { timeoutMs: 60000 });
  assert.equal(prov.code, 0, `provision: ${prov.stderr}`);
  await query(pg.uri, 'CREATE TABLE x (a int); INSERT INTO x VALUES (1)');
  for (const table of ['bytes; drop table x', 'bytes"; drop table x; --', "x' OR '1'='1", 'bytes drop']) {
    const r = await scope.run(['speed', '--brokers', broker.brokers, '--topic', TOPIC, '--pg', pg.uri, '--storage', storage,
      '--exit-when-idle', '3s', '--table', table], { timeoutMs: 60000, name: 'speed-hostile-table' });
    assert.notEqual(r.code, 0, `--table ${JSON.stringify(table)} must be refused`);
    assert.match(r.stdout + r.stderr, /--table/, `the error must name --table: ${r.stderr}`);
    const x = await query(pg.uri, 'SELECT a FROM x');
    assert.deepEqual(x, [{ a: 1 }], `table x must survive --table ${JSON.stringify(table)}`);
  }
  assert.equal((await query(pg.uri, `SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'bytes'`))[0].n, 1);
});

test('bad flags give a clear message and a non-zero exit', async () => {
  const base = ['speed', '--brokers', broker.brokers, '--topic', TOPIC, '--storage', storage];
  const cases = [
    { args: [...base, '--pg', pg.uri, '--exit-when-idle', 'banana'], re: /exit-when-idle|banana/ },
    { args: [...base, '--pg', pg.uri, '--exit-when-idle', '3s', '--frobnicate', '1'], re: /frobnicate/ },
    { args: [...base, '--exit-when-idle', '3s'], re: /--pg/ },
    { args: ['simulate', '--brokers', broker.brokers, '--events', 'many'], re: /--events|many/ },
    { args: ['simulate', '--brokers', broker.brokers, '--events', '1', '--start', 'yesterday'], re: /--start|yesterday/ },
    { args: ['provision'], re: /--pg/ },
    { args: ['broker', '--partitions', 'zero'], re: /--partitions|zero/ },
    { args: ['nosuchcommand'], re: /nosuchcommand|subcommand/ },
  ];
  const problems = [];
  for (const c of cases) {
    const r = await scope.run(c.args, { timeoutMs: 60000, name: 'bad-flags' });
    const cmd = c.args.filter((a) => !a.startsWith('/tmp/') && !a.startsWith('postgresql:') && !a.startsWith('127.')).join(' ');
    if (r.code === 0) problems.push(`${cmd}: exit code 0`);
    if (!c.re.test(r.stdout + r.stderr)) problems.push(`${cmd}: message does not match ${c.re}: ${(r.stdout + r.stderr).trim().slice(0, 300)}`);
  }
  assert.deepEqual(problems, []);
});

test('provision: password in the URI, right or wrong, never printed', async () => {
  const ok = await scope.run(['--log-level', 'debug', 'provision', '--pg', roleUri(PASSWORD)], { timeoutMs: 60000, name: 'provision-pw' });
  assertNoSecret(ok, 'provision with password');
  assert.equal(ok.code, 0, `provision as lfsec: ${ok.stderr}`);
  assert.equal((await query(pg.withDatabase('lfsecdb'), 'SELECT count(*)::int AS n FROM user_metadata'))[0].n, 20);

  const bad = await scope.run(['--log-level', 'debug', 'provision', '--pg', roleUri(WRONG)], { timeoutMs: 60000, name: 'provision-wrong-pw' });
  assertNoSecret(bad, 'provision with a wrong password');
  assert.notEqual(bad.code, 0, 'a wrong password must fail');
  assert.ok((bad.stdout + bad.stderr).trim().length > 0, 'a wrong password must be reported');
});

test('PGPASSWORD, right or wrong, never printed', async () => {
  const uri = `postgresql://lfsec@127.0.0.1:${pg.port}/lfsecdb`;
  const ok = await scope.run(['--log-level', 'debug', 'provision', '--pg', uri], { timeoutMs: 60000, env: { PGPASSWORD: PASSWORD }, name: 'provision-pgpassword' });
  assertNoSecret(ok, 'provision with PGPASSWORD');
  assert.equal(ok.code, 0, `provision with PGPASSWORD: ${ok.stderr}`);
  const bad = await scope.run(['--log-level', 'debug', 'provision', '--pg', uri], { timeoutMs: 60000, env: { PGPASSWORD: WRONG }, name: 'provision-pgpassword-wrong' });
  assertNoSecret(bad, 'provision with a wrong PGPASSWORD');
  assert.notEqual(bad.code, 0);
});

test('speed: password in --pg, right or wrong, never printed', async () => {
  const ok = await scope.run(['--log-level', 'debug', 'speed', '--brokers', broker.brokers, '--topic', TOPIC, '--pg', roleUri(PASSWORD),
    '--storage', storage, '--group', 'sec-uri', '--exit-when-idle', '3s'], { timeoutMs: 90000, name: 'speed-pw' });
  assertNoSecret(ok, 'speed with password');
  assert.equal(ok.code, 0, `speed as lfsec: ${ok.stderr.slice(-2000)}`);

  const bad = await scope.run(['--log-level', 'debug', 'speed', '--brokers', broker.brokers, '--topic', TOPIC, '--pg', roleUri(WRONG),
    '--storage', storage, '--group', 'sec-uri-wrong', '--exit-when-idle', '3s'], { timeoutMs: 90000, name: 'speed-wrong-pw' });
  assertNoSecret(bad, 'speed with a wrong password');
  assert.notEqual(bad.code, 0, 'speed with a wrong password must fail');
});

test('speed: seeds positional jdbc form, right or wrong password, never printed', async () => {
  const ev = `{"bytes":777,"timestamp":1795327200,"app":"SKYPE","id":"00000000-0000-0000-0000-000000000001","antenna_id":"a-1"}`;
  await produceRaw(broker.brokers, TOPIC, 0, [ev]);
  const okProc = scope.start(['--log-level', 'debug', 'speed', broker.brokers, TOPIC, jdbcUri(), 'bytes', 'lfsec', PASSWORD, storage],
    { name: 'speed-positional-pw' });
  try {
    await waitFor(async () => {
      if (!okProc.running) throw new WaitAbort(`exited: ${okProc.stderr.slice(-1500)}`);
      const rows = await query(pg.withDatabase('lfsecdb'), `SELECT value::text AS v FROM bytes WHERE type = 'app_bytes_total' AND id = 'SKYPE'`);
      return rows.length === 1 && rows[0].v === '777';
    }, { timeoutMs: 60000, what: 'the positional speed run to write the event into lfsecdb.bytes' });
  } finally {
    await okProc.stop(15000);
  }
  assertNoSecret(okProc, 'positional speed with password');
  assert.equal(okProc.exitInfo.code, 0, 'SIGTERM ends speed with exit 0');

  const bad = await scope.run(['--log-level', 'debug', 'speed', broker.brokers, TOPIC, jdbcUri(), 'bytes', 'lfsec', WRONG, storage],
    { timeoutMs: 90000, name: 'speed-positional-wrong-pw' });
  assertNoSecret(bad, 'positional speed with a wrong password');
  assert.notEqual(bad.code, 0, 'a wrong password must fail');
});
