// Helpers of the `lambdaflow serve` tests: starting the server, a Prometheus text-format parser,
// a Server-Sent Events reader and raw HTTP requests (paths sent exactly as written).

import net from 'node:net';

// Starts `lambdaflow serve --pg URI --listen 127.0.0.1:0 …` and waits for its address.
export async function startServe(scope, pgUri, extraArgs = []) {
  const proc = scope.start(['serve', '--pg', pgUri, '--listen', '127.0.0.1:0', ...extraArgs], { name: 'serve' });
  const m = await proc.waitForLine(/^serve: listening on (http:\/\/127\.0\.0\.1:(\d+)\/)$/, 30000);
  return { url: m[1].replace(/\/$/, ''), port: Number(m[2]), proc };
}

// Sends `request` (the whole request head, CRLFs added) over a fresh TCP connection and resolves
// with { status, headers, body } of the response (connection closed by us after it).
export function rawRequest(port, lines, { timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no response to ${JSON.stringify(lines[0])} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      const text = buf.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const head = text.slice(0, end < 0 ? text.length : end).split('\r\n');
      const status = Number((head[0].match(/^HTTP\/1\.[01] (\d{3})/) ?? [])[1]);
      const headers = {};
      for (const h of head.slice(1)) {
        const i = h.indexOf(':');
        if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
      }
      resolve({ status, headers, body: end < 0 ? '' : text.slice(end + 4) });
    };
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
    });
    sock.on('end', done);
    sock.on('error', (e) => {
      clearTimeout(timer);
      if (buf.length) done();
      else reject(e);
    });
    sock.write(Buffer.from([...lines, 'Host: 127.0.0.1', 'Connection: close', '', ''].join('\r\n'), 'latin1'));
  });
}

// ---------------------------------------------------------------------------------------------
// Prometheus text exposition format 0.0.4, parsed by a small tokenizer (not a regex over the
// whole line): returns { families: Map name → { type, help, samples: [{ name, labels, value }] } }
// and throws on anything the format does not allow.
export function parsePrometheus(text) {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map();
  const seenSeries = new Set();
  const nameRe = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const labelRe = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
  const family = (name) => {
    if (!families.has(name)) families.set(name, { type: undefined, help: undefined, samples: [] });
    return families.get(name);
  };
  const lines = text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1} (${JSON.stringify(line)})`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const parts = line.split(' ');
      if (parts[1] === 'HELP' || parts[1] === 'TYPE') {
        const name = parts[2];
        if (!nameRe.test(name ?? '')) throw new Error(`${where}: bad metric name`);
        const rest = parts.slice(3).join(' ');
        const f = family(name);
        if (parts[1] === 'TYPE') {
          if (f.type) throw new Error(`${where}: second TYPE for ${name}`);
          if (f.samples.length) throw new Error(`${where}: TYPE after samples of ${name}`);
          if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`${where}: bad type`);
          f.type = rest;
        } else {
          if (f.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
          f.help = rest.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
        }
      }
      return;
    }
    // sample: name [{labels}] value [timestamp]
    let pos = 0;
    while (pos < line.length && /[a-zA-Z0-9_:]/.test(line[pos])) pos += 1;
    const name = line.slice(0, pos);
    if (!nameRe.test(name)) throw new Error(`${where}: bad sample name`);
    const labels = {};
    if (line[pos] === '{') {
      pos += 1;
      for (;;) {
        if (line[pos] === '}') {
          pos += 1;
          break;
        }
        let start = pos;
        while (pos < line.length && line[pos] !== '=') pos += 1;
        const lname = line.slice(start, pos);
        if (!labelRe.test(lname)) throw new Error(`${where}: bad label name ${JSON.stringify(lname)}`);
        if (line[pos + 1] !== '"') throw new Error(`${where}: label value must be quoted`);
        pos += 2;
        let value = '';
        for (;;) {
          if (pos >= line.length) throw new Error(`${where}: unterminated label value`);
          const c = line[pos];
          if (c === '\\') {
            const n = line[pos + 1];
            if (n === 'n') value += '\n';
            else if (n === '\\' || n === '"') value += n;
            else throw new Error(`${where}: bad escape \\${n}`);
            pos += 2;
          } else if (c === '"') {
            pos += 1;
            break;
          } else {
            value += c;
            pos += 1;
          }
        }
        if (lname in labels) throw new Error(`${where}: label ${lname} twice`);
        labels[lname] = value;
        if (line[pos] === ',') pos += 1;
        else if (line[pos] !== '}') throw new Error(`${where}: expected , or } after a label`);
      }
    }
    if (line[pos] !== ' ') throw new Error(`${where}: expected a space before the value`);
    const fields = line.slice(pos + 1).split(' ');
    if (fields.length > 2 || fields[0] === '') throw new Error(`${where}: expected value [timestamp]`);
    const raw = fields[0];
    let value;
    if (raw === 'NaN') value = NaN;
    else if (raw === '+Inf') value = Infinity;
    else if (raw === '-Inf') value = -Infinity;
    else if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) value = Number(raw);
    else throw new Error(`${where}: bad value ${raw}`);
    if (fields.length === 2 && !/^-?\d+$/.test(fields[1])) throw new Error(`${where}: bad timestamp`);
    // The family a sample belongs to: its own name, or the name without a histogram/summary suffix.
    let fname = name;
    if (!families.has(fname)) {
      const base = name.replace(/_(sum|count|bucket)$/, '');
      if (families.has(base)) fname = base;
    }
    const f = families.get(fname);
    if (!f || !f.type) throw new Error(`${where}: sample of ${name} without a TYPE line before it`);
    const series = name + JSON.stringify(Object.entries(labels).sort());
    if (seenSeries.has(series)) throw new Error(`${where}: duplicate series`);
    seenSeries.add(series);
    if (f.type === 'counter' && !(value >= 0)) throw new Error(`${where}: counter must be >= 0`);
    f.samples.push({ name, labels, value });
  });
  return { families };
}

// ---------------------------------------------------------------------------------------------
// Reads an SSE stream: `events` fills as they arrive; next(pred, ms) waits for a matching one.
export function openEventStream(url, headers = {}) {
  const controller = new AbortController();
  const events = [];
  const waiters = [];
  const comments = [];
  const ready = fetch(url, { headers: { Accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const done = (async () => {
    const res = await ready;
    if (!res.ok) throw new Error(`event stream: HTTP ${res.status}`);
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk, { stream: true });
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const ev = { event: 'message', data: '', id: undefined };
          let isComment = true;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) {
              comments.push(line);
              continue;
            }
            isComment = false;
            const i = line.indexOf(':');
            const k = i < 0 ? line : line.slice(0, i);
            const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
            if (k === 'event') ev.event = v;
            else if (k === 'data') ev.data += (ev.data ? '\n' : '') + v;
            else if (k === 'id') ev.id = v;
          }
          if (isComment) continue;
          events.push(ev);
          for (const w of [...waiters]) {
            if (w.pred(ev)) {
              waiters.splice(waiters.indexOf(w), 1);
              clearTimeout(w.timer);
              w.resolve(ev);
            }
          }
        }
      }
    } catch (e) {
      if (e.name !== 'AbortError') throw e;
    }
  })();
  done.catch(() => {});
  return {
    events,
    comments,
    response: ready,
    done,
    next(pred, timeoutMs = 15000) {
      const found = events.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no matching server-sent event within ${timeoutMs} ms (got ${JSON.stringify(events)})`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    close() {
      controller.abort();
    },
  };
}
