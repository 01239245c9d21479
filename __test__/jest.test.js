'use strict';
// The jest suite (__test__/*.spec.js) in one jest process with --detectOpenHandles (which also
// runs the files in band, one registry after another): it passes, reports no open handle, and
// jest exits by itself (no --forceExit) well within the timeout.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const { run, ROOT } = require('./helpers/run');
const { tempDir } = require('./helpers/copy-package');

test('jest --detectOpenHandles: all spec files pass, no open handles, jest exits on its own', () => {
  const cache = tempDir('jest-cache');
  try {
    const r = run(process.execPath, [require.resolve('jest/bin/jest'), '--ci', '--detectOpenHandles', '--cacheDirectory', cache], {
      cwd: ROOT,
      timeout: 120000,
    });
    assert.equal(r.status, 0, r.stderr);
    const specs = fs.readdirSync(__dirname).filter((f) => f.endsWith('.spec.js'));
    assert.ok(specs.length >= 4);
    assert.match(r.stderr, new RegExp(`Test Suites:\\s+${specs.length} passed, ${specs.length} total`));
    assert.doesNotMatch(r.stderr, /open handle/i);
    assert.doesNotMatch(r.stderr, /did not exit/i);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test('the open-handle check can fail: a spec that leaves a child running is reported', () => {
  const dir = tempDir('jest-leak');
  const cache = tempDir('jest-cache');
  try {
    fs.writeFileSync(path.join(dir, 'leak.spec.js'), `
      test('leaves a child running', () => { require(${JSON.stringify(ROOT)}).spawn('sleep', ['3']); });`);
    fs.writeFileSync(path.join(dir, 'jest.config.js'), "module.exports = { testMatch: ['**/*.spec.js'], testEnvironment: 'node' };");
    const r = run(process.execPath, [require.resolve('jest/bin/jest'), '--ci', '--detectOpenHandles', '--cacheDirectory', cache,
      '--config', path.join(dir, 'jest.config.js')], { cwd: dir, timeout: 60000 });
    assert.match(r.stderr, /open handle/i);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(cache, { recursive: true, force: true });
  }
});
