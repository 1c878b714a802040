// Builds the dashboard into dist/: app.js (ECharts and our code bundled by esbuild, minified),
// app.css and index.html copied. `lambdaflow` embeds dist/ at its own build time.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, 'dist');
fs.mkdirSync(dist, { recursive: true });

await build({
  entryPoints: [path.join(here, 'src/app.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'none',
  outfile: path.join(dist, 'app.js'),
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css']) fs.copyFileSync(path.join(here, 'src', f), path.join(dist, f));
