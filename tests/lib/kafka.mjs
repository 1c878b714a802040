// Real Apache Kafka for the end-to-end tests, through scripts/kafka.sh (KRaft, 1 or 3 nodes on
// free loopback ports, data in a temp dir).
//
//   const kafka = await startKafka({ topics: ['devices'], partitions: 8, nodes: 1 });
//   ... kafka.brokers is the bootstrap address ...
//   await kafka.nodeKill(2); await kafka.nodeStart(2);     // one node of a 3-node cluster
//   await kafka.destroy();                                // stops every node, removes the data
//
// LF_TEST_BROKER=embedded|kafka picks the broker of the Kafka-facing tests (embedded by default);
// ctest runs those tests once with each.

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const SOURCE_DIR =
  process.env.LF_SOURCE_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const KAFKA_SH = path.join(SOURCE_DIR, 'scripts/kafka.sh');

export const TEST_BROKER = process.env.LF_TEST_BROKER ?? 'embedded';
if (!['embedded', 'kafka'].includes(TEST_BROKER)) {
  throw new Error(`LF_TEST_BROKER must be embedded or kafka, not ${TEST_BROKER}`);
}

// Clusters still running: stopped when node exits, also after a failed test.
const live = new Set();
process.on('exit', () => {
  for (const dir of live) {
    try {
      execFileSync(KAFKA_SH, ['stop', '--dir', dir], { timeout: 90000, stdio: 'ignore' });
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {}
  }
});

async function kafkaSh(args, timeoutMs = 300000) {
  try {
    return (await execFileP(KAFKA_SH, args, { timeout: timeoutMs, maxBuffer: 1 << 26 })).stdout;
  } catch (e) {
    throw new Error(`scripts/kafka.sh ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

export class KafkaCluster {
  constructor(dir, brokers, nodes) {
    this.dir = dir;
    this.brokers = brokers;
    this.nodes = nodes;
    this.kind = 'kafka';
  }

  // Every node down with a controlled shutdown; start() brings the same cluster back.
  async stop() {
    await kafkaSh(['stop', '--dir', this.dir]);
    return 0;
  }

  async start() {
    await kafkaSh(['start', '--dir', this.dir]);
  }

  nodeStop(n) {
    return kafkaSh(['node-stop', String(n), '--dir', this.dir]);
  }

  nodeKill(n) {
    return kafkaSh(['node-kill', String(n), '--dir', this.dir]);
  }

  nodeStart(n) {
    return kafkaSh(['node-start', String(n), '--dir', this.dir]);
  }

  // kafka-topics.sh with these arguments; returns its stdout.
  topics(args) {
    return kafkaSh(['topics', '--dir', this.dir, '--', ...args]);
  }

  async createTopic(topic, partitions, configs = {}) {
    const args = ['--create', '--topic', topic, '--partitions', String(partitions),
      '--replication-factor', String(this.nodes > 1 ? 3 : 1)];
    for (const [k, v] of Object.entries(configs)) args.push('--config', `${k}=${v}`);
    await this.topics(args);
  }

  // Any class of the Kafka jars (the project's own tools): { stdout, stderr }.
  runClass(cls, args, { timeoutMs = 120000 } = {}) {
    return execFileP(KAFKA_SH, ['run-class', cls, ...args], { timeout: timeoutMs, maxBuffer: 1 << 28 });
  }

  // The server log of node n (for assertions on what the broker did).
  serverLog(n = 1) {
    return fs.readFileSync(path.join(this.dir, `node${n}`, 'server.log'), 'utf8');
  }

  async destroy() {
    if (!live.has(this.dir)) return;
    try {
      await this.stop();
    } finally {
      live.delete(this.dir);
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

// Starts a fresh cluster with `topics` created (`partitions` each, also the default of topics
// created on first use). `settings` are extra broker properties ('key=value').
export async function startKafka({ topics = ['devices'], partitions = 8, nodes = 1, settings = [], name = 'test' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lf-kafka-${name}-`));
  live.add(dir);
  const args = ['start', '--dir', dir, '--nodes', String(nodes), '--partitions', String(partitions)];
  for (const t of topics.flatMap((t) => t.split(','))) args.push('--topic', t);
  for (const s of settings) args.push('--set', s);
  let stdout;
  try {
    stdout = await kafkaSh(args);
  } catch (e) {
    live.delete(dir);
    try {
      execFileSync(KAFKA_SH, ['stop', '--dir', dir], { timeout: 90000, stdio: 'ignore' });
    } catch {}
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const brokers = stdout.trim().split('\n').pop();
  return new KafkaCluster(dir, brokers, nodes);
}
