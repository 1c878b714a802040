// Starts `lambdaflow broker` on a free port for a test and stops it again.
//
//   const broker = await startBroker({ topics: ['devices'], partitions: 8 });
//   ... broker.brokers is 'host:port' for clients ...
//   assert.equal(await broker.stop(), 0);   // SIGTERM, resolves to the exit code
//
// The process is SIGKILLed when node exits, so a failed test never leaves a broker behind.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_BROKER, startKafka } from './kafka.mjs';

export { TEST_BROKER };

const SOURCE_DIR =
  process.env.LF_SOURCE_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN =
  process.env.LAMBDAFLOW_BIN ?? path.join(SOURCE_DIR, 'build/e2e/src/cli/lambdaflow');

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {}
  }
});

// Resolves once the broker printed its address: { brokers, proc, stderr(), stop(signal) }.
// Rejects with the broker's stderr if it exits first or is not ready within `timeoutMs`.
// With LF_TEST_BROKER=kafka it starts a real Apache Kafka instead (tests/lib/kafka.mjs) and
// resolves to the same shape; stop() then resolves to 0 once every node stopped.
export function startBroker({
  listen = '127.0.0.1:0', topics = ['devices'], partitions = 8, extraArgs = [], timeoutMs = 30000,
} = {}) {
  if (TEST_BROKER === 'kafka') return startKafkaBroker({ topics, partitions });
  const args = ['broker', '--listen', listen, '--partitions', String(partitions)];
  for (const t of topics) args.push('--topic', t);
  args.push(...extraArgs);
  const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let stdout = '';
  let stderr = '';
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      resolve(code ?? `signal ${signal}`);
    });
  });
  proc.stderr.on('data', (b) => (stderr += b));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`broker not ready after ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`broker exited ${code} before it was ready:\n${stderr}`));
    });
    proc.stdout.on('data', (b) => {
      stdout += b;
      const m = stdout.match(/^broker: listening on (\S+)\n/m);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        brokers: m[1],
        proc,
        stdout: () => stdout,
        stderr: () => stderr,
        exited,
        stop: (signal = 'SIGTERM') => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
          return exited;
        },
      });
    });
  });
}

async function startKafkaBroker({ topics, partitions }) {
  const kafka = await startKafka({ topics, partitions, name: 'broker' });
  let stopped;
  return {
    kind: 'kafka',
    brokers: kafka.brokers,
    kafka,
    stop: () => {
      stopped ??= kafka.destroy().then(() => 0);
      return stopped;
    },
  };
}
