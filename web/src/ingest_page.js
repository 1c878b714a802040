// The ingestion engine's page (#ingest): per landing pipeline the files taken and refused, rows,
// bad rows and bytes, the last file; rows per dataset; the newest files of the manifest
// (lf_ingested_files) with their status. Updated when `lambdaflow ingest` commits a batch.
import {
  el, api, fillTable, drawBars, fmtInt, fmtBytes, fmtCompact, exact, utc,
} from './common.js';

let parts = null;
// A landing path by its file name (the cell cuts a long one with an ellipsis; the title has it all).
const baseName = (p) => p.split('/').pop();

function layout(main) {
  const kpis = el('section', null, 'kpis');
  const chartCard = el('section', null, 'card wide');
  chartCard.append(el('h2', 'Rows in bronze per dataset'));
  const chartDiv = el('div', null, 'chart');
  chartDiv.id = 'chart-ingest-rows';
  chartCard.append(chartDiv);
  const totals = el('section', null, 'card wide');
  totals.append(el('h2', 'Per pipeline'));
  const totalsTable = el('table');
  totalsTable.dataset.testid = 'ingest-pipelines';
  totalsTable.append(el('thead'), el('tbody'));
  const head = el('tr');
  for (const [t, cls] of [['pipeline', 'col-name'], ['files', 'num'], ['unreadable', 'num'], ['rows', 'num'],
    ['bad rows', 'num'], ['bytes', 'num']]) head.append(el('th', t, cls));
  totalsTable.tHead.append(head);
  totals.append(totalsTable);
  const recent = el('section', null, 'card wide');
  recent.append(el('h2', 'Newest files'));
  recent.append(el('p', 'From the manifest lf_ingested_files: each landing file is taken once, its rows committed with it; unreadable files go to _error/ with the reason.', 'note'));
  const wrap = el('div', null, 'table-wrap');
  const recentTable = el('table');
  recentTable.dataset.testid = 'ingest-recent';
  recentTable.append(el('thead'), el('tbody'));
  const rh = el('tr');
  for (const [t, cls] of [['taken (UTC)', ''], ['pipeline', ''], ['file', 'col-name'], ['status', ''], ['rows', 'num'],
    ['bad rows', 'num'], ['bytes', 'num'], ['reason', '']]) rh.append(el('th', t, cls || undefined));
  recentTable.tHead.append(rh);
  wrap.append(recentTable);
  recent.append(wrap);
  main.replaceChildren(kpis, chartCard, totals, recent);
  main.dataset.pipeline = '#ingest';
  return { kpis, chartDiv, totalsTable, recentTable };
}

export async function drawIngestPage(main) {
  if (!parts || main.dataset.pipeline !== '#ingest') parts = layout(main);
  const data = await api('ingest', { limit: 100 });
  parts.kpis.replaceChildren(...data.pipelines.map((p) => {
    const box = el('div', null, 'kpi');
    box.dataset.ingest = p.pipeline;
    const rows = el('b', fmtCompact(p.rows));
    rows.title = `${exact(p.rows)} rows`;
    rows.dataset.value = String(p.rows);
    const last = el('small', p.last_file ? `${fmtInt(p.files)} files · last ${baseName(p.last_file)}` : 'no file yet');
    last.title = p.last_file ? `${p.last_file} at ${utc(Date.parse(p.last_at))} UTC` : '';
    box.append(el('span', `${p.dataset ?? p.pipeline} · rows`), rows, last);
    return box;
  }));
  const topics = data.topics ?? [];
  parts.kpis.append(...topics.map((t) => {
    const box = el('div', null, 'kpi');
    box.dataset.ingest = t.pipeline;
    const rows = el('b', fmtCompact(t.rows));
    rows.title = `${exact(t.rows)} messages`;
    rows.dataset.value = String(t.rows);
    box.append(el('span', `${t.dataset} · from topic ${t.topic}`), rows,
      el('small', `${fmtInt(t.bad_rows)} bad · lag ${t.lag === null ? '–' : fmtInt(t.lag)}`));
    return box;
  }));
  drawBars(parts.chartDiv, [...data.pipelines.map((p) => ({ label: p.dataset ?? p.pipeline, title: p.pipeline, value: p.rows })),
    ...topics.map((t) => ({ label: t.dataset, title: `${t.pipeline} (topic ${t.topic})`, value: t.rows }))],
  { color: '#2b8a3e' });
  fillTable(parts.totalsTable, [...data.pipelines.map((p) => [
    { text: p.pipeline, cls: 'ellipsis', title: p.dataset ?? '' },
    { text: fmtInt(p.files), cls: 'num', value: p.files },
    { text: fmtInt(p.error_files), cls: `num${p.error_files ? ' warn' : ''}`, value: p.error_files },
    { text: fmtCompact(p.rows), cls: 'num', value: p.rows, title: exact(p.rows) },
    { text: fmtInt(p.bad_rows), cls: 'num', value: p.bad_rows },
    { text: fmtBytes(p.bytes), cls: 'num', value: p.bytes, title: exact(p.bytes, 'bytes') },
  ]), ...(data.topics ?? []).map((t) => [
    // A Kafka topic: messages instead of files, and its consumer lag instead of bytes.
    { text: t.pipeline, cls: 'ellipsis', title: `Kafka topic ${t.topic} → ${t.dataset}` },
    { text: `topic ${t.topic}`, cls: 'num ellipsis', title: t.topic },
    { text: '–', cls: 'num' },
    { text: fmtCompact(t.rows), cls: 'num', value: t.rows, title: exact(t.rows) },
    { text: fmtInt(t.bad_rows), cls: 'num', value: t.bad_rows },
    { text: t.lag === null ? 'lag –' : `lag ${fmtInt(t.lag)}`, cls: 'num', value: t.lag ?? '' },
  ])]);
  if (!data.pipelines.length && !(data.topics ?? []).length) fillTable(parts.totalsTable, [[{ text: 'no landing pipeline yet', colSpan: 6 }]]);
  fillTable(parts.recentTable, data.recent.map((f) => [
    { text: utc(Date.parse(f.at)), cls: 'nowrap' },
    { text: f.pipeline, cls: 'ellipsis' },
    { text: baseName(f.path), title: f.path, cls: 'ellipsis' },
    el('span', f.status, `tag ${f.status === 'ok' ? 'batch' : 'open'}`),
    { text: fmtInt(f.rows), cls: 'num', value: f.rows },
    { text: fmtInt(f.bad_rows), cls: 'num', value: f.bad_rows },
    { text: fmtBytes(f.bytes), cls: 'num', value: f.bytes, title: exact(f.bytes, 'bytes') },
    { text: f.error ?? '', cls: 'ellipsis', title: f.error ?? undefined },
  ]));
  if (!data.recent.length) fillTable(parts.recentTable, [[{ text: 'no file taken yet', colSpan: 8 }]]);
}
