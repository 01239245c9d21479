'use strict';
// The public surface, key for key against node:child_process, through every entry point:
// require('..'), require('child-process-rs') (the exports map) and the ESM entry.
const assert = require('node:assert/strict');
const { test } = require('node:test');
const util = require('node:util');
// A copy: if anything in this process loaded the register hook, the builtin's own object would
// hold our functions and every comparison below would pass vacuously.
const node = { ...require('node:child_process') };
const ours = require('..');
const { PENDING_FROM_OTHER_BRANCHES, missing } = require('./helpers/pending');

// Public names we add on top of Node's: on the module (none), and on ChildProcess.prototype. An
// extra must be listed here on purpose, and be typed in index.d.ts and documented in the README's
// "Extras" (checked below). Those still on their way are in PENDING_FROM_OTHER_BRANCHES.
const EXTRAS = [];
const CHILD_PROCESS_EXTRAS = ['killTree', 'resourceUsage', 'exited'];
const SPAWN_OPTION_EXTRAS = ['killOnParentExit', 'killEscalationDelay'];

const isPublic = (k) => !k.startsWith('_');
const nodeKeys = Object.keys(node).filter(isPublic).sort();

test('the register hook is not active in this test process', () => {
  assert.equal(require('node:child_process')[Symbol.for('child-process-rs.register')], undefined);
  assert.notEqual(node.spawn, ours.spawn);
});

test('PENDING_FROM_OTHER_BRANCHES lists only Node functions and our extras that are still missing', () => {
  for (const name of PENDING_FROM_OTHER_BRANCHES) {
    const member = name.startsWith('ChildProcess#') ? name.slice(13) : null;
    if (member) assert.ok(CHILD_PROCESS_EXTRAS.includes(member), `${name} is not a listed extra`);
    else assert.ok(nodeKeys.includes(name), `${name} is not a node:child_process export`);
    assert.deepEqual(missing([name]), [name],
      `${name} has landed: remove it from PENDING_FROM_OTHER_BRANCHES in __test__/helpers/pending.js`);
  }
});

test('every node:child_process export exists with the same type, name, arity and promisify form', () => {
  for (const key of nodeKeys) {
    if (PENDING_FROM_OTHER_BRANCHES.includes(key)) continue;
    assert.equal(typeof ours[key], typeof node[key], key);
    assert.equal(ours[key].name, node[key].name, `${key}.name`);
    assert.equal(ours[key].length, node[key].length, `${key}.length`);
    assert.equal(typeof ours[key][util.promisify.custom], typeof node[key][util.promisify.custom],
      `${key}[util.promisify.custom]`);
  }
});

test('no public export beyond Node\'s, except the listed extras', () => {
  const extra = Object.keys(ours).filter(isPublic).filter((k) => !nodeKeys.includes(k));
  assert.deepEqual(extra.sort(), [...EXTRAS].sort());
});

test('require through the package name and the exports map', () => {
  assert.equal(require('child-process-rs'), ours);
  assert.equal(require('child-process-rs/package.json').name, 'child-process-rs');
  // Resolve only: loading the hook would route node:child_process to us in this process.
  assert.equal(require.resolve('child-process-rs/register'), require('node:path').join(__dirname, '..', 'register.js'));
  assert.throws(() => require('child-process-rs/lib/binding'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});

test('ESM entry: default export is the CommonJS module, named exports match Node\'s ESM namespace', async () => {
  const ns = await import('child-process-rs');
  const nodeNs = await import('node:child_process');
  assert.equal(ns.default, ours);
  const keys = (n) => Object.keys(n).filter((k) => k !== 'default' && isPublic(k)).sort();
  assert.deepEqual(keys(ns), keys(nodeNs));
  for (const key of keys(ns)) assert.equal(ns[key], ours[key], key);
});

test('ESM static import of the default and named exports', () => {
  const { node: run } = require('./helpers/run');
  const src = `import cp, { spawn, ChildProcess } from 'child-process-rs';
    const c = spawn('sh', ['-c', 'exit 7']);
    c.on('close', (code) => console.log(JSON.stringify([cp.spawn === spawn, c instanceof ChildProcess, code])));`;
  assert.equal(run(['--input-type=module', '-e', src]).trim(), '[true,true,7]');
});

test('ChildProcess.prototype has Node\'s members plus the listed extras', () => {
  const names = (proto) => Reflect.ownKeys(proto).map(String);
  const nodeNames = names(node.ChildProcess.prototype);
  assert.deepEqual(nodeNames.filter((k) => !names(ours.ChildProcess.prototype).includes(k)), []);
  const extra = names(ours.ChildProcess.prototype).filter((k) => !nodeNames.includes(k) && !k.startsWith('_'));
  const landed = CHILD_PROCESS_EXTRAS.filter((k) => missing([`ChildProcess#${k}`]).length === 0);
  assert.deepEqual(extra.sort(), landed.sort());
});

test('every extra is typed in index.d.ts and documented in the README', () => {
  const fs = require('node:fs');
  const path = require('node:path');
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8');
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const extrasSection = readme.slice(readme.indexOf('## Extras'), readme.indexOf('\n## ', readme.indexOf('## Extras') + 1));
  assert.ok(extrasSection.length > 20, 'README has an Extras section');
  for (const name of [...EXTRAS, ...CHILD_PROCESS_EXTRAS, ...SPAWN_OPTION_EXTRAS]) {
    assert.match(dts, new RegExp(`\\b${name}\\b`), `${name} is not declared in index.d.ts`);
    assert.ok(extrasSection.includes(name), `${name} is not documented in the README's Extras`);
  }
  for (const name of ['register', 'unregister', 'isRegistered', 'originals']) {
    assert.match(fs.readFileSync(path.join(__dirname, '..', 'register.js'), 'utf8'), new RegExp(`^function ${name}\\(`, 'm'));
    assert.ok(extrasSection.includes(`${name}()`), `register's ${name}() is not documented`);
  }
});
