'use strict';
// Routes every user of child_process in this process (and thread) to child-process-rs:
//
//   require('child-process-rs/register')
//   node -r child-process-rs/register app.js
//   NODE_OPTIONS=--require=child-process-rs/register npm test
//
// `require('child_process')`, `require('node:child_process')` and ESM `import ... from
// 'node:child_process'` all hand out one object, the builtin module's exports. We replace its
// functions with ours in place, then `syncBuiltinESMExports()` updates the live bindings of ESM
// importers. Libraries that destructure at load time (`const { spawn } = require(...)`) therefore
// get ours only if they load after this file: preload it with -r, or require it first.
//
// Only Node's public names are replaced, and only with functions we provide: our extras stay off
// Node's object, underscore internals (`_forkChild`, which Node calls during bootstrap) stay
// Node's, and a name we lack keeps Node's function rather than vanishing.
//
// The saved originals live on the builtin object itself (a non-enumerable symbol key), not in
// this module: a second copy of the package, or a re-require in a jest registry, must find them,
// or unregister() would "restore" our own functions. scripts/build.js reads them too, so the
// build never spawns through the module it is rebuilding.
const { syncBuiltinESMExports } = require('node:module');
const builtin = require('node:child_process');

const kState = Symbol.for('child-process-rs.register');
const ours = require('./index.js');

function state() {
  return builtin[kState];
}

function register() {
  let s = state();
  if (s === undefined) {
    s = { originals: { ...builtin } };
    Object.defineProperty(builtin, kState, { value: s, configurable: true, enumerable: false });
  }
  const routed = [];
  for (const key of Object.keys(s.originals)) {
    if (key.startsWith('_') || typeof ours[key] !== 'function') continue;
    builtin[key] = ours[key];
    routed.push(key);
  }
  syncBuiltinESMExports();
  return routed;
}

// Gives child_process back to Node. Returns false when nothing was registered.
function unregister() {
  const s = state();
  if (s === undefined) return false;
  for (const key of Object.keys(builtin)) {
    if (!Object.prototype.hasOwnProperty.call(s.originals, key)) delete builtin[key];
  }
  Object.assign(builtin, s.originals);
  delete builtin[kState];
  syncBuiltinESMExports();
  return true;
}

function isRegistered() {
  return state() !== undefined;
}

// Node's own functions, whether or not the hook is active.
function originals() {
  return { ...(state()?.originals ?? builtin) };
}

register();

module.exports = { register, unregister, isRegistered, originals };
