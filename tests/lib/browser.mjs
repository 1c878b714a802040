// Checks of the dashboard in a real browser (playwright-core pages), shared by the browser tests.

// Pixels drawn on the canvas of each chart matching `selector` (an empty chart stays transparent).
export const inkPerChart = (page, selector = '.chart') => page.evaluate((sel) => Object.fromEntries(
  [...document.querySelectorAll(sel)].map((div) => {
    const c = div.querySelector('canvas');
    if (!c) return [div.id, 0];
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n += 1;
    return [div.id, n];
  })), selector);

// What does not fit, as readable lines (empty when all is well): the page wider than the screen,
// a large figure wider than its card, a table wider than its box (outside the scrolling per-day
// table), a cell wrapped over several lines, a name or id column squeezed narrow.
export const overflows = (page) => page.evaluate(() => {
  const bad = [];
  const vw = document.documentElement.clientWidth;
  const name = (e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${e.className ? `.${e.className}` : ''}`;
  if (document.documentElement.scrollWidth > vw) {
    const wide = [...document.querySelectorAll('body *')]
      .filter((e) => !e.closest('.table-wrap') && e.getBoundingClientRect().right > vw)
      .map((e) => `${name(e)} ${Math.round(e.getBoundingClientRect().right)}`);
    bad.push(`page ${document.documentElement.scrollWidth} > ${vw}: ${wide.slice(0, 5).join(', ')}`);
  }
  for (const b of document.querySelectorAll('.kpi b')) {
    if (b.offsetParent && b.scrollWidth > b.clientWidth + 1) bad.push(`figure "${b.textContent}" ${b.scrollWidth} > ${b.clientWidth}`);
  }
  for (const t of document.querySelectorAll('.card table')) {
    if (!t.offsetParent || t.closest('.table-wrap')) continue;
    if (t.offsetWidth > t.parentElement.clientWidth) {
      bad.push(`table in "${t.closest('.card').querySelector('h2')?.textContent}" ${t.offsetWidth} > ${t.parentElement.clientWidth}`);
    }
  }
  for (const td of document.querySelectorAll('td')) {
    if (!td.offsetParent || !td.textContent.trim()) continue;
    const r = td.getBoundingClientRect();
    if (r.height > 40) bad.push(`cell "${td.textContent}" is ${Math.round(r.height)}px tall`);
    if (td.classList.contains('ellipsis') && r.width < 50) bad.push(`cell "${td.textContent}" is ${Math.round(r.width)}px wide`);
  }
  return bad;
});
