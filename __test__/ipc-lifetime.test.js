'use strict';
// When a process with IPC children lives and dies, compared with node:child_process at the level
// of whole processes (each run in a subprocess with a timeout): the channel keeps the parent
// alive, child.unref() does not unref it, channel.unref() does, a completed async write unrefs it
// (Node's Control counting), messages sent right before process.exit() are delivered, a child can
// fork its own children, and a worker thread can be terminated mid-conversation.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { differentialScript, runScript, ROOT } = require('./helpers/script');

test('child.unref() leaves the channel keeping the parent alive', () => {
  const r = differentialScript(`
    const c = cp.fork(fixture('ipc-child.js'), ['late', '300']);
    c.unref();
    c.on('message', (m) => console.log('message', m));
    process.on('exit', () => console.log('parent exits'));
  `);
  assert.match(r.stdout, /message late/);
});

test('child.unref() and channel.unref(): the parent exits at once', () => {
  const r = differentialScript(`
    const c = cp.fork(fixture('ipc-child.js'), ['late', '300']);
    c.unref();
    c.channel.unref();
    c.on('message', (m) => console.log('message', m));
    process.on('exit', () => console.log('parent exits'));
  `);
  assert.doesNotMatch(r.stdout, /late/);
});

test('channel.unref() then ref(): alive again; no listeners needed', () => {
  differentialScript(`
    const c = cp.fork(fixture('ipc-child.js'), ['late', '300']);
    c.unref();
    c.channel.unref();
    c.channel.ref();
    c.on('exit', (code) => console.log('child exit', code));
  `);
});

test('a completed asynchronous write unrefs the channel (refCounted/unrefCounted)', () => {
  const r = differentialScript(`
    const c = cp.fork(fixture('ipc-child.js'), ['late', '1000']);
    c.unref();
    c.on('message', (m) => console.log('message', m));
    c.send('x'.repeat(2 * 1024 * 1024), (err) => console.log('sent', err));
  `);
  assert.match(r.stdout, /sent null/);
  assert.doesNotMatch(r.stdout, /late/);
});

test('refCounted()/unrefCounted() as execa uses them', () => {
  differentialScript(`
    const c = cp.fork(fixture('ipc-child.js'), ['late', '200']);
    c.unref();
    c.channel.refCounted();
    c.on('message', (m) => {
      console.log('message', m);
      c.channel.unrefCounted();
    });
  `);
});

test('the parent disconnects and exits; a held child ends with it', () => {
  differentialScript(`
    const c = cp.fork(fixture('ipc-child.js'), ['hold']);
    c.on('disconnect', () => console.log('disconnect'));
    c.on('exit', (code, signal) => console.log('exit', code, signal));
    c.on('spawn', () => c.disconnect());
  `);
});

test('messages sent right before process.exit() reach the child', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cprs-ipc-'));
  try {
    const files = {};
    for (const impl of ['node', ROOT]) {
      const file = path.join(dir, impl === 'node' ? 'node.txt' : 'ours.txt');
      runScript(`
        const c = cp.fork(fixture('ipc-child.js'), ['record', ${JSON.stringify(file)}]);
        c.on('spawn', () => {
          for (let i = 0; i < 200; i++) c.send({ i, pad: 'p'.repeat(100) });
          process.exit(0);
        });
      `, impl);
      // The child records until it sees the channel end (it writes END then); wait for that.
      const read = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
      const wait = new Int32Array(new SharedArrayBuffer(4));
      for (let i = 0; i < 500 && !read().endsWith('END\n'); i++) Atomics.wait(wait, 0, 0, 20);
      files[impl] = read().split('\n').filter((l) => l.startsWith('{')).length;
    }
    assert.equal(files.node, 200);
    assert.equal(files[ROOT], files.node);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const serialization of ['json', 'advanced']) {
  test(`${serialization}: a child that uses this module to fork its own child`, () => {
    const r = differentialScript(`
      const c = cp.fork(fixture('ipc-relay.js'), [], {
        serialization: ${JSON.stringify(serialization)},
        env: { ...process.env, RELAY_IMPL: process.env.CPRS_IMPL, RELAY_SERIALIZATION: ${JSON.stringify(serialization)} },
      });
      const values = ['hello', { deep: [1, 2, { three: 3 }] }, 'x'.repeat(100000).length];
      let n = 0;
      c.on('message', (m) => {
        console.log(JSON.stringify(m));
        if (++n === values.length) c.disconnect();
      });
      c.on('exit', (code, signal) => console.log('relay exit', code, signal));
      for (const v of values) c.send(v);
    `);
    assert.match(r.stdout, /relayed/);
  });
}

test('a worker thread that forks and is terminated mid-conversation does not take the process down', () => {
  const r = runScript(`
    const { Worker } = require('node:worker_threads');
    const w = new Worker(\`
      const cp = require(process.env.CPRS_IMPL);
      const { parentPort } = require('node:worker_threads');
      // (execArgv: under -e, a worker's default execArgv would run this very script again:
      // Node's own fork() does the same.)
      const c = cp.fork(\${JSON.stringify(fixture('ipc-child.js'))}, ['echo'], { execArgv: [] });
      let n = 0;
      c.on('message', (m) => {
        if (++n === 100) parentPort.postMessage('busy');
        c.send(m);
      });
      c.send({ start: true });
    \`, { eval: true, env: process.env });
    w.on('message', async () => {
      const code = await w.terminate();
      console.log('worker terminated', code);
      setTimeout(() => console.log('still fine'), 100);
    });
    w.on('error', (e) => console.log('worker error', e.message));
  `, ROOT);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.signal, null);
  assert.match(r.stdout, /worker terminated 1\nstill fine/);
});
