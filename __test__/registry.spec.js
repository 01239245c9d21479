'use strict';
// jest gives each test file (and each resetModules/isolateModules) a fresh module registry: our JS
// is evaluated again while the addon, loaded through Node's own require, stays one per process.
// Copies of the module from different registries spawn side by side and each gets its own exits.
const { liveChildren } = require('./helpers/jest-children');

afterAll(() => expect(liveChildren()).toEqual([]));

const run = (cp, code) => new Promise((resolve, reject) => {
  const c = cp.spawn('sh', ['-c', `sleep 0.05; exit ${code}`]);
  c.on('error', reject);
  c.on('close', (exit) => resolve(exit));
});

test('re-requiring after jest.resetModules() gives a working second copy', async () => {
  const a = require('..');
  jest.resetModules();
  const b = require('..');
  expect(b).not.toBe(a);
  expect(b.ChildProcess).not.toBe(a.ChildProcess);
  const codes = await Promise.all([run(a, 1), run(b, 2), run(a, 3), run(b, 4)]);
  expect(codes).toEqual([1, 2, 3, 4]);
});

test('jest.isolateModules copies and the native binding shared by all of them', async () => {
  const copies = [];
  for (let i = 0; i < 3; i++) jest.isolateModules(() => copies.push({ cp: require('..'), binding: require('../lib/binding') }));
  expect(new Set(copies.map((c) => c.cp)).size).toBe(3);
  expect(new Set(copies.map((c) => c.binding)).size).toBe(1);
  const codes = await Promise.all(copies.flatMap((c, i) => [run(c.cp, 10 + i), run(c.cp, 20 + i)]));
  expect(codes).toEqual([10, 20, 11, 21, 12, 22]);
});

test('jest.mock(\'child_process\') with child-process-rs', async () => {
  jest.resetModules();
  jest.doMock('child_process', () => jest.requireActual('..'));
  const cp = require('child_process');
  expect(cp.spawn).toBe(require('..').spawn);
  expect(await run(cp, 5)).toBe(5);
  jest.dontMock('child_process');
});
