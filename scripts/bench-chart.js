#!/usr/bin/env node
'use strict';
// Draws the README's benchmark chart (an SVG) from BENCHMARKS.md:
//
//   node scripts/bench-chart.js [BENCHMARKS.md] [docs/benchmarks.svg]     (npm run bench:chart)
//
// It reads every markdown table whose header has the columns scenario | unit | node | ours |
// ratio (other columns are ignored; header cells may carry emphasis or suffixes, e.g.
// "**node v20**"), and draws one bar per row: our throughput as a multiple of Node's, with a line
// at 1x. No dependencies: the SVG is written by hand.
const fs = require('node:fs');
const path = require('node:path');

const COLUMNS = { scenario: /^scenario/, unit: /^unit/, node: /^node/, ours: /^(ours|child-process-rs)/, ratio: /^ratio/ };

const clean = (cell) => cell.replace(/[*`_]/g, '').trim();

function splitRow(line) {
  const cells = line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|');
  return cells.map(clean);
}

// "1.2k" -> 1200, "1.65M" -> 1650000, "625" -> 625, "1.92x" -> 1.92; NaN when not a number.
function parseNumber(text) {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kKMG]?)\s*x?(?:\s|\(|$)/.exec(text.replace(/,/g, ''));
  if (!m) return NaN;
  return Number(m[1]) * ({ '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9 }[m[2]]);
}

// Rows of every matching table, in document order.
function parseTables(markdown) {
  const rows = [];
  const lines = markdown.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i].trim().startsWith('|') || !/^\s*\|?\s*:?-{3,}/.test(lines[i + 1])) continue;
    const header = splitRow(lines[i]).map((h) => h.toLowerCase());
    const index = {};
    for (const [name, re] of Object.entries(COLUMNS)) index[name] = header.findIndex((h) => re.test(h));
    if (Object.values(index).some((n) => n < 0)) continue;
    for (i += 2; i < lines.length && lines[i].trim().startsWith('|'); i++) {
      const cells = splitRow(lines[i]);
      const node = parseNumber(cells[index.node] ?? '');
      const ours = parseNumber(cells[index.ours] ?? '');
      const ratioCell = (cells[index.ratio] ?? '').replace(/\*/g, '').trim();
      // A ratio cell that states something else (the memory row's "0.98 MB vs node", where lower
      // is better) is no speed ratio: leave that row out of a "higher is better" chart.
      if (ratioCell !== '' && !/^[0-9.,]+\s*x$/.test(ratioCell)) continue;
      let ratio = parseNumber(ratioCell);
      if (Number.isNaN(ratio) && node > 0) ratio = ours / node;
      if (!cells[index.scenario] || Number.isNaN(ratio)) continue;
      rows.push({ scenario: cells[index.scenario], unit: cells[index.unit], node: cells[index.node], ours: cells[index.ours], ratio });
    }
  }
  return rows;
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function renderSvg(rows) {
  if (rows.length === 0) throw new Error('no benchmark rows: expected a table with columns scenario | unit | node | ours | ratio');
  const labelW = 300;
  const barW = 360;
  const rowH = 26;
  const top = 44;
  const width = labelW + barW + 200;
  const height = top + rows.length * rowH + 30;
  const max = Math.max(1, ...rows.map((r) => r.ratio)) * 1.05;
  const x = (v) => labelW + (v / max) * barW;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">child-process-rs vs node:child_process (higher is better)</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const color = r.ratio >= 1 ? '#2f7d32' : '#c62828';
    out.push(
      `<text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(r.scenario)}</text>`,
      `<rect x="${labelW}" y="${y + 4}" width="${(x(r.ratio) - labelW).toFixed(1)}" height="${rowH - 8}" fill="${color}"/>`,
      `<text x="${(x(r.ratio) + 6).toFixed(1)}" y="${y + 17}">${r.ratio.toFixed(2)}x  (${esc(r.ours)} vs ${esc(r.node)} ${esc(r.unit)})</text>`,
    );
  });
  const one = x(1).toFixed(1);
  const bottom = top + rows.length * rowH;
  out.push(
    `<line x1="${one}" y1="${top - 4}" x2="${one}" y2="${bottom + 4}" stroke="#444" stroke-dasharray="4 3"/>`,
    `<text x="${one}" y="${bottom + 20}" text-anchor="middle" fill="#444">1x = node:child_process</text>`,
    '</svg>',
  );
  return out.join('\n') + '\n';
}

function main(argv) {
  const root = path.join(__dirname, '..');
  const input = argv[0] ?? path.join(root, 'BENCHMARKS.md');
  const output = argv[1] ?? path.join(root, 'docs', 'benchmarks.svg');
  const svg = renderSvg(parseTables(fs.readFileSync(input, 'utf8')));
  fs.mkdirSync(path.dirname(output), { recursive: true });
  fs.writeFileSync(output, svg);
}

module.exports = { parseTables, parseNumber, renderSvg };
if (require.main === module) main(process.argv.slice(2));
