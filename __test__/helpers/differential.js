'use strict';
// Differential testing: run one scenario against node:child_process and against this module, each
// in its own Node process, and compare the traces. Node is the oracle; no expected values are
// written by hand.
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..', '..');
const SCENARIO = path.join(__dirname, 'scenario.js');

// Runs `fn` (a function of the helper object `h`, serialised with its source) against one
// implementation and returns its parsed trace.
function runScenario(fn, impl, { timeout = 20000, env, cwd } = {}) {
  const r = spawnSync(process.execPath, [SCENARIO, impl], {
    cwd: cwd ?? ROOT,
    env: { ...process.env, ...env, SCENARIO_FN: fn.toString() },
    encoding: 'utf8',
    timeout,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`scenario under ${impl} failed: ${r.error.message}\n${r.stderr}`);
  if (r.status !== 0 || !r.stdout) {
    throw new Error(`scenario under ${impl} exited ${r.status} ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return JSON.parse(r.stdout);
}

// Asserts that `fn` leaves the same trace under Node and under us; returns our trace.
function differential(fn, options) {
  const expected = runScenario(fn, 'node', options);
  // A scenario that throws under Node is almost always a broken test (a typo, a missing
  // require) that would then "pass" by throwing the same way twice.
  const threw = expected.events.find((e) => e[0] === 'scenario threw');
  if (threw && !options?.allowThrow) {
    throw new Error(`the scenario itself threw under node: ${JSON.stringify(threw[1])}`);
  }
  const actual = runScenario(fn, ROOT, options);
  assert.deepStrictEqual(actual, expected);
  return actual;
}

module.exports = { differential, runScenario, ROOT };
