'use strict';
// Runs inside a subprocess: loads the implementation named on the command line (node's own
// child_process or ours), runs one scenario function against it and prints its trace as JSON.
// See differential.js for the parent side.
const path = require('node:path');
const util = require('node:util');

const impl = process.argv[2];
const cp = require(impl === 'node' ? 'node:child_process' : impl);
const events = [];

// The fields of an Error that a user can observe; the constructor and realm checks included.
function errorShape(e) {
  if (!(e instanceof Object)) return { notAnObject: util.inspect(e) };
  const shape = {
    isError: e instanceof Error,
    ctor: e.constructor && e.constructor.name,
    name: e.name,
    message: e.message,
    ownKeys: Object.keys(e).sort(),
    toString: String(e),
    stackHead: typeof e.stack === 'string' ? e.stack.split('\n')[0] : typeof e.stack,
  };
  for (const k of ['code', 'errno', 'syscall', 'path', 'spawnargs', 'killed', 'signal', 'cmd', 'stdout', 'stderr', 'status']) {
    if (k in e) shape[k] = Buffer.isBuffer(e[k]) ? { buffer: e[k].toString('latin1') } : e[k];
  }
  if (e.cause !== undefined) shape.cause = e.cause instanceof Error ? errorShape(e.cause) : util.inspect(e.cause);
  return shape;
}

// A JSON-able picture of any value: Buffers and other views by content (and type), Errors by
// errorShape, objects with their own keys in order. A `pid` is recorded by type only: it differs
// from run to run.
function shape(v) {
  if (Buffer.isBuffer(v)) return { buffer: v.toString('latin1') };
  if (ArrayBuffer.isView(v)) return { [v.constructor.name]: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1') };
  if (v instanceof Error) return errorShape(v);
  if (Array.isArray(v)) return v.map(shape);
  if (v === undefined) return { undefined: true };
  if (v === null || typeof v !== 'object') return v;
  const out = { keys: Object.keys(v) };
  for (const k of out.keys) out[k] = k === 'pid' ? typeof v[k] : shape(v[k]);
  return out;
}

const h = {
  cp,
  impl,
  // The scenario is compiled outside any module: it gets `require` and fixture paths from here.
  require,
  fixture: (name) => path.join(__dirname, '..', 'fixtures', name),
  record: (...e) => events.push(e),
  errorShape,
  shape,
  // Starts an exec-style call with start(callback) and records what the callback gets
  // (err, stdout, stderr); resolves once it was called.
  settle(label, start) {
    return new Promise((resolve) =>
      start((err, stdout, stderr) => {
        events.push([label, shape(err), shape(stdout), shape(stderr)]);
        resolve();
      }),
    );
  },
  // Runs fn, recording what it throws (synchronously) or 'ok'.
  throws(label, fn) {
    try {
      const v = fn();
      events.push([label, 'ok']);
      return v;
    } catch (e) {
      events.push([label, 'threw', errorShape(e)]);
    }
  },
  // Records a child's lifecycle events in order. Stream data is concatenated per stream and
  // recorded when the stream ends, so that the (racy) interleaving of data and 'exit' does not
  // count, while the order spawn → exit → close does.
  watch(child, label = 'child') {
    const out = {};
    child.on('spawn', () => events.push([label, 'spawn']));
    child.on('error', (e) => events.push([label, 'error', errorShape(e)]));
    child.on('exit', (code, signal) => events.push([label, 'exit', code, signal]));
    child.on('close', (code, signal) => {
      for (const [k, v] of Object.entries(out)) events.push([label, k, v]);
      events.push([label, 'close', code, signal]);
    });
    child.stdio.forEach((s, i) => {
      if (s && s.readable) {
        out[`fd${i}`] = '';
        s.on('data', (d) => (out[`fd${i}`] += d));
      }
    });
    return new Promise((resolve) => child.on('close', resolve));
  },
  done(extra) {
    process.stdout.write(JSON.stringify({ events, extra }));
  },
};

const fnSource = process.env.SCENARIO_FN;
// eslint-disable-next-line no-new-func
// `require` is passed in so that a scenario can load node: modules (new Function has none).
const fn = new Function('h', 'require', `return (${fnSource})(h)`);
Promise.resolve()
  .then(() => fn(h, require))
  .then(
  (extra) => h.done(extra),
  (e) => {
    events.push(['scenario threw', errorShape(e)]);
    h.done();
  },
);
