'use strict';
// Properties of the process as a whole, each run in a fresh Node process with a timeout: what
// keeps the event loop alive, coexistence with node:child_process, no leaked fds, zombies or
// threads, and exceptions thrown by listeners. Where Node can be the oracle, the same program
// runs against node:child_process too and the outcomes must match.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { ROOT } = require('./helpers/differential');

// Runs `code` in a fresh node with `cp` bound to the implementation. Never hangs: a program
// that does not exit within `timeout` ms is killed and reported as such.
// impl 'ours-reaper' is ours with exits watched by the reaper thread instead of the event loop
// (the fallback when no pidfd can be polled).
function run(code, impl, timeout = 15000) {
  const prelude = `const cp = require(${JSON.stringify(impl === 'node' ? 'node:child_process' : ROOT)});\n`;
  const env = { ...process.env };
  if (impl === 'ours-reaper') env.CHILD_PROCESS_RS_REAPER_THREAD = '1';
  const r = spawnSync(process.execPath, ['-e', prelude + code], { encoding: 'utf8', timeout, killSignal: 'SIGKILL', env });
  return {
    timedOut: r.error?.code === 'ETIMEDOUT',
    status: r.status,
    signal: r.signal,
    stdout: r.stdout,
    // Only the first line of an uncaught exception's report: the stack differs in paths.
    uncaught: (r.stderr.match(/^(?:\w*Error|Uncaught)[^\n]*/m) || [null])[0],
  };
}

function sameAsNode(code, timeout) {
  const expected = run(code, 'node', timeout);
  for (const impl of ['ours', 'ours-reaper']) {
    const actual = run(code, impl, timeout);
    assert.deepStrictEqual(actual, expected, impl);
  }
  return expected;
}

test("a ref'd child keeps the parent alive until it exits, and the parent then exits", () => {
  const r = sameAsNode(`
    const c = cp.spawn('sleep', ['0.3'], { stdio: 'ignore' });
    c.on('exit', (code) => console.log('exit', code));
    process.on('exit', () => console.log('bye'));`);
  assert.equal(r.stdout, 'exit 0\nbye\n');
});

test("an unref()'d child does not keep the parent alive (stdio ignore)", () => {
  const r = sameAsNode(`
    const c = cp.spawn('sleep', ['30'], { stdio: 'ignore' });
    c.unref();
    c.on('exit', () => console.log('exit seen'));
    process.on('exit', () => { console.log('bye'); c.kill('SIGKILL'); });`);
  assert.equal(r.timedOut, false);
  assert.equal(r.stdout, 'bye\n');
});

test('unref() then ref() keeps the parent alive again; ref() twice and unref() twice balance', () => {
  const r = sameAsNode(`
    const c = cp.spawn('sleep', ['0.3'], { stdio: 'ignore' });
    c.unref(); c.ref();
    const d = cp.spawn('sleep', ['30'], { stdio: 'ignore' });
    d.ref(); d.ref(); d.unref(); d.unref();
    c.on('exit', (code) => console.log('exit', code));
    process.on('exit', () => { console.log('bye'); d.kill('SIGKILL'); });`);
  assert.equal(r.stdout, 'exit 0\nbye\n');
});

test("an unref()'d child with pipes: the open stdout still keeps the parent alive, as in Node", () => {
  const r = sameAsNode(`
    const c = cp.spawn('sh', ['-c', 'sleep 0.3; echo late']);
    c.unref();
    c.stdout.on('data', (d) => console.log('data', String(d).trim()));
    process.on('exit', () => console.log('bye'));`);
  assert.equal(r.stdout, 'data late\nbye\n');
});

test("node:child_process children spawned in the same process still get 'exit' (50 + 50 at once)", () => {
  const code = `
    const real = require('node:child_process');
    let pending = 0; const bad = [];
    const go = (impl, name, i) => {
      pending++;
      const c = impl.spawn('sh', ['-c', 'exit ' + (i % 7)], { stdio: 'ignore' });
      c.on('exit', (code) => { if (code !== i % 7) bad.push(name + i + ':' + code); if (--pending === 0) done(); });
    };
    for (let i = 0; i < 50; i++) { go(cp, 'ours', i); go(real, 'node', i); }
    const t = setTimeout(() => { console.log('stuck', pending); process.exit(1); }, 10000);
    function done() { clearTimeout(t); console.log('bad', JSON.stringify(bad)); }`;
  for (const impl of ['ours', 'ours-reaper']) {
    const r = run(code, impl);
    assert.deepEqual([r.status, r.stdout], [0, 'bad []\n'], impl);
    // And the same mix with a spawnSync of node:child_process in between.
    const r2 = run(code.replace("go(real, 'node', i); }", "go(real, 'node', i); } real.spawnSync('true');"), impl);
    assert.deepEqual([r2.status, r2.stdout], [0, 'bad []\n'], impl);
  }
});

for (const impl of ['ours', 'ours-reaper']) test(`no fd growth, no zombies and no leftover threads after many spawns (${impl})`, () => {
  const r = run(`
    const fs = require('node:fs');
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const threads = () => fs.readdirSync('/proc/self/task').length;
    const children = () => {
      let all = 0, zombies = 0;
      for (const p of fs.readdirSync('/proc')) {
        if (!/^\\d+$/.test(p)) continue;
        let st; try { st = fs.readFileSync('/proc/' + p + '/stat', 'utf8'); } catch { continue; }
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        if (Number(f[1]) === process.pid) { all++; if (f[0] === 'Z') zombies++; }
      }
      return { all, zombies };
    };
    const once = (stdio) => new Promise((resolve, reject) => {
      const c = cp.spawn('sh', ['-c', 'echo x; echo y >&2'], { stdio });
      c.on('error', reject);
      c.on('close', resolve);
    });
    (async () => {
      // Warm up (first net.Socket, first spawn), then measure.
      await once('pipe');
      await new Promise((r) => setTimeout(r, 1500));
      const before = { fds: fds(), threads: threads(), ...children() };
      for (let round = 0; round < 10; round++) {
        await Promise.all(Array.from({ length: 20 }, (_, i) => once(i % 2 ? 'pipe' : 'ignore')));
      }
      const spawnErr = await new Promise((r) => cp.spawn('/nonexistent/cprs').on('error', (e) => r(e.code)));
      // Let the reaper's idle period pass.
      await new Promise((r) => setTimeout(r, 1500));
      const after = { fds: fds(), threads: threads(), ...children() };
      console.log(JSON.stringify({ before, after, spawnErr }));
    })();`, impl, 60000);
  assert.equal(r.status, 0, JSON.stringify(r));
  const { before, after, spawnErr } = JSON.parse(r.stdout);
  assert.equal(spawnErr, 'ENOENT');
  assert.deepEqual(after, before);
  assert.deepEqual([after.all, after.zombies], [0, 0]);
});

test('the child gets no fds beyond its stdio', () => {
  const r = run(`
    const fs = require('node:fs');
    const unrelated = fs.openSync('/dev/null', 'r'); // an fd of ours that is not the child's
    // ls lists its own fds: 0-3 from us, and 4, its handle on the directory it lists.
    const c = cp.spawn('sh', ['-c', 'exec ls /proc/self/fd'], { stdio: ['ignore', 'pipe', 'ignore', 'pipe'] });
    let out = ''; c.stdout.on('data', (d) => out += d);
    c.on('close', () => console.log(out.split('\\n').join(' ').trim()));`, 'ours');
  assert.equal(r.stdout, '0 1 2 3 4\n');
});

test("an exception thrown in an 'exit' listener is an uncaught exception, as in Node", () => {
  const handled = sameAsNode(`
    process.on('uncaughtException', (e) => console.log('caught', e.message));
    const c = cp.spawn('true');
    c.on('exit', () => { throw new Error('boom in exit'); });
    c.on('close', (code) => console.log('close still emitted', code));`);
  assert.equal(handled.stdout, 'caught boom in exit\n');
  const crash = sameAsNode(`
    const c = cp.spawn('true', [], { stdio: 'ignore' });
    c.on('exit', () => { throw new TypeError('unhandled boom'); });
    setTimeout(() => console.log('not reached'), 2000);`);
  assert.equal(crash.status, 1);
  assert.equal(crash.uncaught, 'TypeError: unhandled boom');
});

test("an exception thrown in an 'error' listener of a failed spawn is uncaught too", () => {
  const r = sameAsNode(`
    const c = cp.spawn('/nonexistent/cprs');
    c.on('error', (e) => { throw new Error('rethrown ' + e.code); });`);
  assert.equal(r.uncaught, 'Error: rethrown ENOENT');
});

test('AsyncLocalStorage: the store at spawn() time is seen in exit and close listeners', () => {
  const r = sameAsNode(`
    const { AsyncLocalStorage } = require('node:async_hooks');
    const als = new AsyncLocalStorage();
    cp.spawn('true'); // the first spawn, outside the store, sets up the machinery
    als.run({ id: 42 }, () => {
      const c = cp.spawn('true');
      c.on('exit', () => console.log('exit store', JSON.stringify(als.getStore())));
      c.on('close', () => console.log('close store', JSON.stringify(als.getStore())));
    });`);
  assert.match(r.stdout, /exit store/);
});

test('worker threads: spawn in a worker, and a worker terminated while its child runs', () => {
  const r = sameAsNode(`
    const { Worker } = require('node:worker_threads');
    const src = (code) => 'const cp = require(' + JSON.stringify(cp === require('node:child_process') ? 'node:child_process' : ${JSON.stringify(ROOT)}) + ');' + code;
    const w = new Worker(src("const { parentPort } = require('node:worker_threads');" +
      "cp.spawn('sh', ['-c', 'exit 3']).on('exit', (c) => parentPort.postMessage('child exit ' + c));"), { eval: true });
    w.on('message', (m) => console.log(m));
    w.on('exit', (code) => {
      console.log('worker exit', code);
      const w2 = new Worker(src("cp.spawn('sleep', ['30'], { stdio: 'ignore' }); require('node:worker_threads').parentPort.postMessage('spawned');"), { eval: true });
      w2.on('message', () => w2.terminate());
      w2.on('exit', (code) => console.log('terminated worker exit', code));
    });`);
  assert.equal(r.stdout, 'child exit 3\nworker exit 0\nterminated worker exit 1\n');
});
