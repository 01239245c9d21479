#!/usr/bin/env node
'use strict';
// `npm run bench`: child-process-rs against node:child_process, side by side in ONE run.
//
// The measuring is done by cp-bench.js, ipc-worker.js and scenarios.json in this folder. They are
// unmodified copies of the project's reference harness (../shared/bench/ on the machine where
// ANCHORS.md was measured), vendored so that a clone can run the benchmark and so that our numbers
// stay comparable with ANCHORS.md. Do not edit them; change this driver instead.
//
// Order: rep → scenario → impl, with the impl order rotated every rep, and every single
// measurement in a fresh worker process (`cp-bench.js --worker`), so that heap, fds and the
// 2 GiB "bigheap" never leak from one measurement into the next and a noisy moment on the VM hits
// both impls alike. The table shows medians over the reps and the ratio ours/node (for the memory
// scenario, whose figure is an RSS growth, lower is better).
//
//   node bench/run.js                                   # the default scenario set, 3 reps
//   node bench/run.js --only a,b,i --reps 5            # letters or names, see --list
//   node bench/run.js --scale 0.1 --reps 1             # smoke run
//   node bench/run.js --all                             # every scenario, also exec/sync/ipc
//   options: --only <list> --all --reps <R> --scale <f> --n <N> --max-seconds <s>
//            --out <file.jsonl> (raw measurements) --md <file> (write the markdown table)
//
// A scenario that our module cannot run (a function not written yet, a throw, a hang) shows up as
// an error in its cell; the run goes on.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const HERE = __dirname;
const ROOT = path.join(HERE, '..');
const HARNESS = path.join(HERE, 'cp-bench.js');
const SCEN = JSON.parse(fs.readFileSync(path.join(HERE, 'scenarios.json'), 'utf8'));
delete SCEN._comment;
const DEFAULT_ONLY = 'spawn-seq,spawn-seq-ignore,spawn-par,spawn-bigheap,pipe-throughput,stdin-throughput,memory';

const IMPLS = [
  { label: 'node', impl: 'node' },
  { label: 'ours', impl: ROOT },
];

function parseArgs(argv) {
  const o = { only: DEFAULT_ONLY, reps: 3, scale: 1, n: null, maxSeconds: 30, out: null, md: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--only': o.only = v(); break;
      case '--all': o.only = Object.keys(SCEN).join(','); break;
      case '--reps': o.reps = positive(v(), a); break;
      case '--scale': o.scale = positive(v(), a); break;
      case '--n': o.n = positive(v(), a); break;
      case '--max-seconds': o.maxSeconds = positive(v(), a); break;
      case '--out': o.out = v(); break;
      case '--md': o.md = v(); break;
      case '--list':
        for (const [k, s] of Object.entries(SCEN)) console.log(`${s.key.padEnd(3)} ${k.padEnd(18)} n=${s.n} ${s.unit}`);
        process.exit(0);
        break;
      case '-h': case '--help':
        console.log(fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n'));
        process.exit(0);
        break;
      default:
        usage(`unknown argument ${a}`);
    }
  }
  o.scenarios = selectScenarios(o.only);
  return o;
}

function usage(msg) {
  console.error(`bench/run.js: ${msg} (see --help)`);
  process.exit(2);
}

function positive(s, name) {
  const x = Number(s);
  if (!(x > 0)) usage(`${name} must be a positive number`);
  return x;
}

function selectScenarios(only) {
  const names = Object.keys(SCEN);
  const out = [];
  for (const tok of only.split(',').map((s) => s.trim()).filter(Boolean)) {
    const hit = names.find((k) => k === tok || SCEN[k].key === tok);
    if (!hit) usage(`unknown scenario ${tok}`);
    if (!out.includes(hit)) out.push(hit);
  }
  return out;
}

// One measurement: one scenario, one impl, one rep, in a fresh process. Returns its JSON records
// (one scenario may yield several, e.g. ipc-pingpong gives -json and -advanced).
function measure(o, scenario, impl, rep) {
  const args = ['--expose-gc', HARNESS, '--worker', '--rep', String(rep), '--only', scenario,
    '--impl', impl.impl, '--label', impl.label, '--scale', String(o.scale), '--max-seconds', String(o.maxSeconds)];
  if (o.n != null) args.push('--n', String(o.n));
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    timeout: (o.maxSeconds * 3 + 90) * 1000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 << 20,
  });
  const recs = [];
  for (const line of String(r.stdout || '').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      recs.push(JSON.parse(line));
    } catch {
      // a partial line from a killed worker
    }
  }
  if (recs.length === 0) {
    recs.push({ impl: impl.label, rep, scenario,
      error: `worker failed: status=${r.status} signal=${r.signal} ${r.error ? r.error.message : ''}`.trim() });
  }
  return recs;
}

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(x) {
  if (x == null || Number.isNaN(x)) return '–';
  const ax = Math.abs(x);
  return ax >= 1000 ? Math.round(x).toLocaleString('en-US') : ax >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function notesOf(r) {
  if (!r) return [];
  const notes = [];
  if (r.scenario === 'memory') {
    notes.push(`RSS ${r.rssBeforeMB}→${r.rssAfterMB} MB, fds ${r.fdsBefore}→${r.fdsAfter}, zombies ${r.zombiesAfter}, ${r.spawnsPerSec} spawns/s`);
  }
  if (r.parentRssMB) notes.push(`parent RSS ${r.parentRssMB} MB`);
  if (r.avgChunk) notes.push(`avg chunk ${r.avgChunk} B`);
  if (r.sendReturnedFalse != null) notes.push(`send()=false ×${r.sendReturnedFalse}`);
  if (r.capped) notes.push('capped');
  return notes;
}

function table(results, o) {
  const byScenario = new Map();
  for (const r of results) {
    if (!byScenario.has(r.scenario)) byScenario.set(r.scenario, { node: [], ours: [] });
    const slot = byScenario.get(r.scenario)[r.impl];
    if (slot) slot.push(r);
  }
  const lines = [
    '| scenario | unit | node:child_process (median) | child-process-rs (median) | ratio ours/node | median of per-rep ratios | reps ok (node/ours) | notes |',
    '|---|---|---:|---:|---:|---:|---|---|',
  ];
  for (const [scenario, { node, ours }] of byScenario) {
    const ok = (rs) => rs.filter((r) => r.error == null && typeof r.rate === 'number');
    const nodeOk = ok(node);
    const oursOk = ok(ours);
    const m = (rs) => (rs.length ? median(rs.map((r) => r.rate)) : null);
    const mn = m(nodeOk);
    const mo = m(oursOk);
    const unit = (nodeOk[0] || oursOk[0] || {}).unit || SCEN[scenario]?.unit || '';
    // The memory figure is an RSS growth: lower is better, so the ratio is node/ours there.
    const lowerIsBetter = scenario === 'memory';
    let ratio = '–';
    if (mn != null && mo != null) {
      ratio = lowerIsBetter ? `${fmt(mo - mn)} MB vs node` : `**${(mo / mn).toFixed(2)}x**`;
    }
    // The two impls of one rep run back to back, so the ratio within a rep cancels slow drifts of
    // the machine's load; its median is the steadier figure on a shared VM.
    const perRep = [];
    for (const o of oursOk) {
      const n = nodeOk.find((r) => r.rep === o.rep);
      if (n && n.rate > 0) perRep.push(o.rate / n.rate);
    }
    const repRatio = perRep.length && !lowerIsBetter ? `${median(perRep).toFixed(2)}x` : '–';
    const notes = [];
    const err = ours.find((r) => r.error) || node.find((r) => r.error);
    if (err) notes.push(`${err.impl} ERROR: ${String(err.error).replace(/\|/g, '/').slice(0, 100)}`);
    const on = notesOf(nodeOk[nodeOk.length - 1]);
    const oo = notesOf(oursOk[oursOk.length - 1]);
    if (on.length) notes.push(`node: ${on.join(', ')}`);
    if (oo.length) notes.push(`ours: ${oo.join(', ')}`);
    lines.push(`| ${scenario} | ${unit} | ${fmt(mn)} | ${fmt(mo)} | ${ratio} | ${repRatio} | ${nodeOk.length}/${oursOk.length} of ${o.reps} | ${notes.join('; ')} |`);
  }
  return lines.join('\n');
}

function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  return `${os.cpus().length} CPUs (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, ` +
    `node ${process.version} (libuv ${process.versions.uv})`;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const results = [];
  const started = new Date();
  console.error(`bench: ${o.scenarios.join(', ')}; ${o.reps} reps; scale ${o.scale}; ${machine()}`);
  for (let rep = 0; rep < o.reps; rep++) {
    for (const scenario of o.scenarios) {
      // Rotate the impl order every rep so that neither always runs first.
      const order = IMPLS.map((_, i) => IMPLS[(i + rep) % IMPLS.length]);
      for (const impl of order) {
        for (const rec of measure(o, scenario, impl, rep)) {
          rec.impl = impl.label;
          results.push(rec);
          const line = JSON.stringify(rec);
          console.error(line);
          if (o.out) fs.appendFileSync(o.out, line + '\n');
        }
      }
    }
  }
  const md = [
    `Run ${started.toISOString()}; ${machine()}.`,
    `${o.reps} reps, scale ${o.scale}${o.n != null ? `, n ${o.n}` : ''}; order rep → scenario → impl, impl order rotated per rep, one fresh process per measurement. Higher is better except memory.`,
    '',
    table(results, o),
  ].join('\n');
  console.log(md);
  if (o.md) fs.writeFileSync(o.md, md + '\n');
}

main();
