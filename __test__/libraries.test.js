'use strict';
// Libraries that wrap child_process run unchanged on the register hook: each scenario runs under
// plain Node and under `node -r child-process-rs/register`, the library-visible results must be
// equal (Node is the oracle), and under the hook every child must have been ours.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const { nodeJSON, run } = require('./helpers/run');
const { gatedTest } = require('./helpers/pending');
const { tempDir } = require('./helpers/copy-package');

const RUN = path.join(__dirname, 'fixtures', 'libs', 'run.mjs');

function sameUnderHook(scenario, { spawnsChildren = true } = {}) {
  const plain = nodeJSON([RUN, scenario], { timeout: 60000 });
  const hooked = nodeJSON(['-r', 'child-process-rs/register', RUN, scenario], { timeout: 60000 });
  assert.deepEqual(hooked.result, plain.result);
  assert.deepEqual(hooked.served, {
    spawn: true,
    fork: typeof require('..').fork === 'function' ? true : null,
    children: spawnsChildren ? true : null,
  });
  return hooked.result;
}

test('execa 9: output, input, lines, all, pipe, template, env, cwd, shell', () => {
  sameUnderHook('execa-basics');
});

test('execa 9: exit codes, ENOENT, timeout, cancelSignal, forceKillAfterDelay, reject: false', () => {
  const r = sameUnderHook('execa-errors');
  assert.equal(r.forceKill.error.signal, 'SIGKILL');
});

test('cross-spawn: output, exit code, ENOENT', () => {
  sameUnderHook('cross-spawn');
});

gatedTest('cross-spawn.sync', ['spawnSync'], () => {
  sameUnderHook('cross-spawn-sync', { spawnsChildren: false });
});

gatedTest('execaSync', ['spawnSync'], () => {
  sameUnderHook('execa-sync', { spawnsChildren: false });
});

gatedTest('execaNode IPC: sendMessage/getOneMessage, ipcInput/ipcOutput, channel.refCounted()', ['fork'], () => {
  const r = sameUnderHook('execa-node-ipc');
  assert.deepEqual(r, { refCounting: true, reply: 42, ipcOutput: [42], collected: ['a', 'b'], exitCode: 0 });
});

gatedTest('jest-worker forks its workers through the hook', ['fork'], () => {
  const r = sameUnderHook('jest-worker', { spawnsChildren: false });
  assert.deepEqual(r, { values: [2, 4, 6, 8, 10, 12], forkedWithIpc: true, workersUsed: true, forceExited: false });
});

gatedTest('jest itself, with two workers, under NODE_OPTIONS=--require=child-process-rs/register', ['fork'], () => {
  const cache = tempDir('jest-cache');
  try {
    const jest = require.resolve('jest/bin/jest');
    const r = run(process.execPath, [jest, '--ci', '-w', '2', '--cacheDirectory', cache,
      '--config', path.join(__dirname, 'fixtures', 'jest-project', 'jest.config.js')], {
      env: { NODE_OPTIONS: '--require=child-process-rs/register' },
      timeout: 90000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /Tests:\s+6 passed, 6 total/);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});
