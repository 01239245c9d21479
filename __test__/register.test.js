'use strict';
// child-process-rs/register: every way of loading it routes every way of reaching child_process
// to us, unregister() gives Node its module back, and the package never reaches itself.
// Each case runs in a fresh Node process: the hook is process-wide by design.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const { nodeJSON, node } = require('./helpers/run');
const { projectWithCopy } = require('./helpers/copy-package');

const PROBE = path.join(__dirname, 'fixtures', 'probe.js');
const STATIC = path.join(__dirname, 'fixtures', 'probe-static.mjs');
const ROUTED = { require: true, nodeScheme: true, import: true, othersKept: true, childIsOurs: true, code: 3 };

test('without the hook, child_process is Node\'s', () => {
  assert.deepEqual(nodeJSON([PROBE]), { ...ROUTED, require: false, nodeScheme: false, import: false, childIsOurs: false });
});

test('require(\'child-process-rs/register\') in the program', () => {
  const src = `require('child-process-rs/register');
    require(${JSON.stringify(PROBE)})().then((r) => console.log(JSON.stringify(r)));`;
  assert.deepEqual(nodeJSON(['-e', src]), ROUTED);
});

test('node -r child-process-rs/register app.js', () => {
  assert.deepEqual(nodeJSON(['-r', 'child-process-rs/register', PROBE]), ROUTED);
});

test('NODE_OPTIONS=--require=child-process-rs/register, CommonJS and static ESM imports', () => {
  const env = { NODE_OPTIONS: '--require=child-process-rs/register' };
  assert.deepEqual(nodeJSON([PROBE], { env }), ROUTED);
  assert.deepEqual(nodeJSON([STATIC], { env }), {
    before: { named: true, default: true, bare: true }, after: null, code: 5, childIsOurs: true,
  });
});

test('node --import child-process-rs/register app.mjs', () => {
  assert.deepEqual(nodeJSON(['--import', 'child-process-rs/register', STATIC]), {
    before: { named: true, default: true, bare: true }, after: null, code: 5, childIsOurs: true,
  });
});

test('worker threads of a process started with -r child-process-rs/register are routed too', () => {
  const src = `
    const { Worker } = require('node:worker_threads');
    const w = new Worker(${JSON.stringify(`
      const cp = require('child_process');
      const c = cp.spawn('sh', ['-c', 'exit 8']);
      c.on('close', (code) => require('node:worker_threads').parentPort.postMessage({
        hook: cp[Symbol.for('child-process-rs.register')] !== undefined,
        ours: c instanceof require('child-process-rs').ChildProcess,
        code,
      }));`)}, { eval: true });
    w.on('message', (m) => { console.log(JSON.stringify(m)); w.terminate(); });`;
  assert.deepEqual(nodeJSON(['-r', 'child-process-rs/register', '-e', src]), { hook: true, ours: true, code: 8 });
});

test('unregister() restores Node\'s functions, in CommonJS and in live ESM bindings', () => {
  const out = nodeJSON(['-r', 'child-process-rs/register', STATIC, '--unregister']);
  assert.deepEqual(out, {
    before: { named: true, default: true, bare: true },
    after: { named: false, default: false, bare: false },
    code: 5,
    childIsOurs: false,
  });
  const src = `
    const saved = { ...require('node:child_process') };
    const hook = require('child-process-rs/register');
    const cp = require('child_process');
    const r = { registered: hook.isRegistered(), routed: cp.spawn === require('child-process-rs').spawn };
    r.first = hook.unregister();
    r.restored = Object.keys(saved).every((k) => cp[k] === saved[k]) && Object.keys(cp).length === Object.keys(saved).length;
    r.registeredAfter = hook.isRegistered();
    r.second = hook.unregister();
    r.again = hook.register().includes('spawn') && cp.spawn === require('child-process-rs').spawn;
    r.originals = Object.keys(saved).every((k) => hook.originals()[k] === saved[k]);
    hook.unregister();
    console.log(JSON.stringify(r));`;
  assert.deepEqual(nodeJSON(['-e', src]), {
    registered: true, routed: true, first: true, restored: true, registeredAfter: false, second: false, again: true, originals: true,
  });
});

test('two copies of the package: the later one serves, unregister() restores Node\'s, not the other copy\'s', () => {
  const dir = projectWithCopy('two-copies');
  try {
    const src = `
      const saved = { ...require('node:child_process') };
      const a = require(${JSON.stringify(path.join(__dirname, '..', 'register.js'))});
      const b = require('child-process-rs/register');
      const cp = require('child_process');
      const B = require('child-process-rs');
      const r = { twoCopies: B !== require(${JSON.stringify(path.join(__dirname, '..'))}), servedByB: cp.spawn === B.spawn };
      b.unregister();
      r.restored = Object.keys(saved).every((k) => cp[k] === saved[k]);
      r.aSeesIt = a.isRegistered();
      console.log(JSON.stringify(r));`;
    assert.deepEqual(nodeJSON(['-e', src], { cwd: dir }), { twoCopies: true, servedByB: true, restored: true, aSeesIt: false });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the package never requires child_process by name (it would reach itself under the hook)', () => {
  const trap = path.join(__dirname, 'fixtures', 'no-self-require.js');
  const src = `
    const cp = require('child-process-rs');
    require('child-process-rs/register');
    const c = require('child_process').spawn('true');
    c.on('close', (code) => console.log(JSON.stringify({ code, names: Object.keys(cp).length > 0 })));`;
  assert.deepEqual(nodeJSON(['-r', trap, '-e', src]), { code: 0, names: true });
  // The trap itself works: a package file that asks for child_process is caught.
  const dir = projectWithCopy('trap');
  try {
    const copy = path.join(dir, 'node_modules', 'child-process-rs');
    const lib = path.join(copy, 'lib', 'trap-probe.js');
    fs.writeFileSync(lib, "require('child_process');\n");
    assert.throws(() => node(['-r', trap, lib], { env: { CPRS_TRAP_ROOT: copy } }), /lib\/trap-probe\.js requires 'child_process'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // The build script runs under the hook and leaves a loadable binary alone.
  node(['-r', 'child-process-rs/register', '-r', trap, path.join(__dirname, '..', 'scripts', 'build.js')]);
});
