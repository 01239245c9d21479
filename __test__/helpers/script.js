'use strict';
// Process-level differential testing: run a whole script in its own Node process, once with
// `cp = require('node:child_process')` and once with this module, and compare how the process
// ends (exit status, signal) and what it printed. For properties of the process itself: that it
// exits (or stays alive) when it should. A timeout turns a hang into a failure.
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(__dirname, '..', 'fixtures');

// `source` runs with `cp` (the implementation) and `fixture(name)` in scope.
function runScript(source, impl, { timeout = 20000, env, args = [] } = {}) {
  const prelude = `const cp = require(${JSON.stringify(impl === 'node' ? 'node:child_process' : ROOT)});\n` +
    `const fixture = (name) => require('node:path').join(${JSON.stringify(FIXTURES)}, name);\n`;
  const r = spawnSync(process.execPath, [...args, '-e', prelude + source], {
    cwd: ROOT,
    env: { ...process.env, ...env, CPRS_IMPL: impl === 'node' ? 'node' : ROOT },
    encoding: 'utf8',
    timeout,
  });
  if (r.error) throw new Error(`script under ${impl} failed: ${r.error.message}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

// Asserts that the script ends the same way and prints the same under Node and under us.
function differentialScript(source, options) {
  const expected = runScript(source, 'node', options);
  const actual = runScript(source, ROOT, options);
  const { stderr: _e, ...want } = expected;
  const { stderr: _a, ...got } = actual;
  assert.deepStrictEqual(got, want, `stderr under node:\n${expected.stderr}\nstderr under us:\n${actual.stderr}`);
  return actual;
}

module.exports = { runScript, differentialScript, ROOT };
