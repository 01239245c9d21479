'use strict';
// The README runs: every ```js block is executed in its own Node process (ES module when it
// imports, a jest test file when it uses jest) with a timeout, and each `// prints: X` comment must
// match a line of its output, in order. Blocks preceded by `<!-- needs: a, b -->` are gated on
// those functions (see __test__/helpers/pending.js). Shell blocks are pinned to a known list, and
// the benchmark chart script is tested on a fixture table (and on BENCHMARKS.md once it exists).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const { run, node, ROOT } = require('./helpers/run');
const { gatedTest, PENDING_FILES_FROM_OTHER_BRANCHES } = require('./helpers/pending');
const { tempDir } = require('./helpers/copy-package');
const chart = require('../scripts/bench-chart');

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

function blocks(markdown) {
  const out = [];
  const re = /(?:<!--\s*needs:\s*([^>]*?)\s*-->\s*\n)?```(\w*)\n([\s\S]*?)\n```/g;
  for (let m; (m = re.exec(markdown)); ) {
    const line = markdown.slice(0, m.index).split('\n').length;
    out.push({ needs: m[1] ? m[1].split(',').map((s) => s.trim()) : [], lang: m[2], code: m[3], line });
  }
  return out;
}

const all = blocks(README);
const js = all.filter((b) => b.lang === 'js');

test('the README has runnable examples and keeps the two developer commands', () => {
  assert.ok(js.length >= 6);
  const shells = all.filter((b) => b.lang === 'sh').map((b) => b.code);
  // Shell blocks: installing the package, the register hook's command lines (run by
  // __test__/register.test.js), and the "Build and test" commands that CI (.ci/run) runs.
  assert.deepEqual(shells.map((c) => c.split('\n').map((l) => l.replace(/\s+#.*$/, '')).join('\n')), [
    'npm install child-process-rs',
    'node -r child-process-rs/register app.js\nnode --import child-process-rs/register app.mjs\nNODE_OPTIONS=--require=child-process-rs/register npm test',
    'npm install\nnpm test',
  ]);
  assert.match(README, /## Build and test\n\n```sh\nnpm install .*\nnpm test .*\n```/);
  const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
  assert.match(ci, /^npm install\b/m);
  assert.match(ci, /^npm test$/m);
  assert.ok(all.every((b) => ['js', 'sh'].includes(b.lang)), 'every code block is js or sh');
});

function expectPrints(block, stdout) {
  const expected = [...block.code.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1].trim());
  const lines = stdout.split('\n').map((l) => l.trim());
  let at = 0;
  for (const want of expected) {
    const found = lines.indexOf(want, at);
    assert.ok(found >= 0, `README line ${block.line}: expected a line "${want}" in order, got:\n${stdout}`);
    at = found + 1;
  }
}

function runJestBlock(block) {
  const dir = tempDir('readme-jest');
  const cache = tempDir('jest-cache');
  try {
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'child-process-rs'), 'dir');
    fs.writeFileSync(path.join(dir, 'readme.test.js'), block.code);
    fs.writeFileSync(path.join(dir, 'jest.config.js'), "module.exports = { testEnvironment: 'node', testMatch: ['**/readme.test.js'] };");
    const r = run(process.execPath, [require.resolve('jest/bin/jest'), '--ci', '--cacheDirectory', cache, '--config', path.join(dir, 'jest.config.js')], { cwd: dir, timeout: 60000 });
    assert.equal(r.status, 0, `README line ${block.line}:\n${r.stderr}`);
    assert.match(r.stderr, /Tests:\s+1 passed, 1 total/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(cache, { recursive: true, force: true });
  }
}

for (const block of js) {
  const title = `README example at line ${block.line}`;
  gatedTest(title, block.needs, () => {
    if (/\bjest\.mock\(/.test(block.code)) return runJestBlock(block);
    const esm = /^import /m.test(block.code);
    const stdout = node([...(esm ? ['--input-type=module'] : []), '-e', block.code], { cwd: ROOT, timeout: 20000 });
    expectPrints(block, stdout);
  });
}

test('bench-chart draws one bar per benchmark row of a scenario | unit | node | ours | ratio table', () => {
  const md = fs.readFileSync(path.join(__dirname, 'fixtures', 'bench', 'BENCHMARKS.md'), 'utf8');
  const rows = chart.parseTables(md);
  assert.deepEqual(rows.map((r) => [r.scenario, r.ratio]), [['spawn-seq', 2], ['ipc-stream, json', 5], ['slower <thing>', 0.5]]);
  const dir = tempDir('chart');
  try {
    const out = path.join(dir, 'chart.svg');
    node([path.join(ROOT, 'scripts', 'bench-chart.js'), path.join(__dirname, 'fixtures', 'bench', 'BENCHMARKS.md'), out]);
    const svg = fs.readFileSync(out, 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>/);
    assert.match(svg, /<\/svg>\n$/);
    const bars = [...svg.matchAll(/<rect x="\d+" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.equal(bars.length, 3);
    // Bars are proportional to the ratios.
    assert.ok(Math.abs(bars[1] / bars[0] - 2.5) < 0.01 && Math.abs(bars[2] / bars[0] - 0.25) < 0.01, String(bars));
    assert.match(svg, /slower &lt;thing&gt;/);
    assert.doesNotMatch(svg, /<thing>/);
    assert.match(svg, /5\.00x {2}\(2\.54M vs 508k msgs\/s\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => chart.renderSvg(chart.parseTables('| a | b |\n|---|---|\n| 1 | 2 |')), /no benchmark rows/);
});

test('PENDING_FILES_FROM_OTHER_BRANCHES lists only files that are still missing', () => {
  for (const f of PENDING_FILES_FROM_OTHER_BRANCHES) {
    assert.ok(!fs.existsSync(path.join(ROOT, f)), `${f} exists now: remove it from PENDING_FILES_FROM_OTHER_BRANCHES and run npm run bench:chart`);
  }
});

gatedTest('docs/benchmarks.svg (the README\'s chart) is drawn from the current BENCHMARKS.md', ['BENCHMARKS.md'], () => {
  const expected = chart.renderSvg(chart.parseTables(fs.readFileSync(path.join(ROOT, 'BENCHMARKS.md'), 'utf8')));
  const svg = path.join(ROOT, 'docs', 'benchmarks.svg');
  assert.ok(fs.existsSync(svg), 'run npm run bench:chart');
  assert.equal(fs.readFileSync(svg, 'utf8'), expected, 'docs/benchmarks.svg is stale: run npm run bench:chart');
});
