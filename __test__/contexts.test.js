'use strict';
// Several contexts in one process: worker_threads, module copies and Node's own child_process.
// Each scenario runs in a subprocess with a timeout (crash, hang and leak properties).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const { nodeJSON, run, ROOT } = require('./helpers/run');
const { projectWithCopy } = require('./helpers/copy-package');

const FIXTURE = path.join(__dirname, 'fixtures', 'workers.js');

test('two workers and the main thread load the module and spawn at once', () => {
  assert.deepEqual(nodeJSON([FIXTURE, 'two-workers', ROOT]), { ok: true, leftover: [] });
});

test('workers terminated while their children run: no crash, no hang, children reaped, no thread left', () => {
  const r = nodeJSON([FIXTURE, 'terminate', ROOT]);
  assert.ok(r.running > 0, 'the workers\' children should still run after terminate()');
  assert.deepEqual({ ...r, running: 0 }, { running: 0, leftover: [], threadsGrew: 0, stillOk: true });
});

test('module loaded twice, a second copy on disk and node:child_process: no lost or doubled exit', () => {
  const dir = projectWithCopy('copies');
  try {
    const copy = path.join(dir, 'node_modules', 'child-process-rs');
    assert.deepEqual(nodeJSON([FIXTURE, 'copies', ROOT, copy]), { distinct: true, ok: true, leftover: [] });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('exiting while unref()ed children exit (main thread and a worker) never crashes', () => {
  // The reaper thread may be delivering exits while Node tears the env down (the class of
  // nodejs/node#55706): the process must still exit cleanly, every time.
  const src = `
    const cp = require(process.argv[1]);
    const spawnSome = (cp) => { for (let i = 0; i < 10; i++) {
      const c = cp.spawn('sh', ['-c', 'sleep 0.00' + (i % 3)]);
      c.unref(); for (const s of c.stdio) s?.unref?.();
    } };
    spawnSome(cp);
    const { Worker } = require('node:worker_threads');
    new Worker('const cp = require(' + JSON.stringify(process.argv[1]) + '); (' + spawnSome + ')(cp);', { eval: true });
    setTimeout(() => {}, Math.floor(Math.random() * 15));`;
  for (let i = 0; i < 15; i++) {
    const r = run(process.execPath, ['-e', src, ROOT], { timeout: 10000 });
    assert.deepEqual([r.status, r.signal, r.stderr], [0, null, ''], `round ${i}`);
  }
});
