'use strict';
// The advanced serialization's own V8-format writer (lib/internal/ipc_serialization.js) against
// Node's serializer: the same bytes for the values it writes itself, and the same decoded value
// for everything (the values it hands to Node's serializer included).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const v8 = require('node:v8');
const { FrameWriter, serializeFrame, deserializeFrames } = require('../lib/internal/ipc_serialization');

const shared = { s: 1 };
const circular = { a: [] };
circular.a.push(circular, { back: circular });
const plain = [
  null, undefined, true, false, 0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -0, 1.5, NaN, -Infinity,
  '', 'ascii', 'latin1 é\u00ff', 'two-byte €', '𝄞 surrogates', 'x'.repeat(1000), 'é'.repeat(300) + '€',
  [], [1, 'a', [null]], {}, { a: 1, b: { c: [1, 2, 3] } }, { 0: 'a', 1: 'b', x: 'c', 4294967294: 'd', 4294967295: 'e' },
  { [2 ** 31]: 'big index' }, [shared, shared, { shared }], circular, Object.assign(Object.create(null), { k: 'v' }),
  Array.from({ length: 300 }, (_, i) => ({ i, s: String(i) })),
];
const fallback = [
  Buffer.from('buf'), new Uint16Array([1, 2]), new Map([[1, 2]]), new Set(['a']), new Date(5), 10n, [1n],
  [1, , 3], Object.assign([1], { extra: true }), new (class P { constructor() { this.x = 1; } })(), /r/g,
  new Error('e'), { nested: new Map() },
];

function decode(buf) {
  const out = [];
  deserializeFrames(buf, (m) => out.push(m));
  return out;
}

test('plain values: the bytes Node writes', () => {
  for (const value of plain) {
    const w = new FrameWriter();
    w.append(value);
    assert.deepEqual(w.take(), serializeFrame(value), `for ${String(v8.deserialize(v8.serialize(value)))}`);
  }
});

test('every value decodes as Node encodes it; batches hold many frames', () => {
  const w = new FrameWriter();
  const all = [...plain, ...fallback];
  for (const value of all) w.append(value);
  const ours = decode(w.take());
  const nodes = decode(Buffer.concat(all.map(serializeFrame)));
  assert.equal(ours.length, all.length);
  assert.deepEqual(ours, nodes);
});

test('what Node cannot serialize throws the same error, and leaves the batch intact', () => {
  const w = new FrameWriter();
  w.append('before');
  for (const bad of [{ f() {} }, [Symbol('s')], { p: Promise.resolve() }, new Proxy({}, {}), [new Proxy([], {})]]) {
    let expected;
    try {
      serializeFrame(bad);
    } catch (err) {
      expected = err;
    }
    assert.throws(() => w.append(bad), { name: expected.name, message: expected.message });
  }
  w.append('after');
  assert.deepEqual(decode(w.take()), ['before', 'after']);
});
