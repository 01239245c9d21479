'use strict';
// What other branches are adding: Node's child_process functions (issue 4: exec, execFile and the
// sync API; issue 5: fork) and the extras on ChildProcess.prototype that main already has
// ('ChildProcess#name'; their types and README section are written here). Tests that need one of
// them are gated on it: while the name is here and it is missing, the gate checks exactly that (so
// the list cannot go stale); once it exists, the real test runs.
//
// LEAD: after merging those branches, empty this list. The consistency test in
// __test__/exports.test.js fails, naming the entry, until a landed name is removed from here.
const PENDING_FROM_OTHER_BRANCHES = [];
// Files of the repo that another branch writes (issue 3's benchmark table). LEAD: empty this too,
// and run `npm run bench:chart` to draw docs/benchmarks.svg from it (__test__/readme.test.js
// then checks that the chart is current).
const PENDING_FILES_FROM_OTHER_BRANCHES = [];

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const cp = require('../..');

const ROOT = path.join(__dirname, '..', '..');
const isFile = (name) => name.includes('.');

// The needed names that do not exist yet: functions of the module, members of
// ChildProcess.prototype ('ChildProcess#name'), or files (names with a dot).
function exists(name) {
  if (isFile(name)) return fs.existsSync(path.join(ROOT, name));
  if (name.startsWith('ChildProcess#')) return name.slice(13) in cp.ChildProcess.prototype;
  return typeof cp[name] === 'function';
}

function missing(names) {
  return names.filter((name) => !exists(name));
}

// `testFn(name, fn)` when every function in `needs` exists; otherwise a test that proves they are
// still missing and still listed as pending, so nothing is silently skipped. `testFn` is
// node:test's `test` or jest's global `test`.
function gated(testFn, name, needs, fn) {
  const absent = missing(needs);
  if (absent.length === 0) return testFn(name, fn);
  return testFn(`${name} [gated: waiting for ${absent.join(', ')}]`, () => {
    for (const n of absent) {
      const list = isFile(n) ? PENDING_FILES_FROM_OTHER_BRANCHES : PENDING_FROM_OTHER_BRANCHES;
      assert.ok(list.includes(n), `${n} is missing but not listed as pending in __test__/helpers/pending.js`);
    }
  });
}

// node:test flavour; required lazily so that jest files can use `gated` without node:test.
function gatedTest(name, needs, fn) {
  return gated(require('node:test').test, name, needs, fn);
}

module.exports = { PENDING_FROM_OTHER_BRANCHES, PENDING_FILES_FROM_OTHER_BRANCHES, missing, gated, gatedTest };
