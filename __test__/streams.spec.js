'use strict';
// Streams and events inside jest: stdio are net.Sockets of the outer realm's net module, data
// arrives, and the 'close' order holds. Also the file that checks nothing leaks between files:
// at its start no child of this jest worker is left over from files that ran before.
const net = require('node:net');
const cp = require('..');
const { liveChildren } = require('./helpers/jest-children');

beforeAll(() => expect(liveChildren()).toEqual([]));
afterAll(() => expect(liveChildren()).toEqual([]));

test('pipes, events and their order', async () => {
  const c = cp.spawn('sh', ['-c', 'read x; echo "got $x"; echo err >&2; exit 2']);
  expect(c.stdout).toBeInstanceOf(net.Socket);
  const events = [];
  let out = '';
  let err = '';
  c.stdout.on('data', (d) => { out += d; });
  c.stderr.on('data', (d) => { err += d; });
  c.on('spawn', () => events.push('spawn'));
  c.on('exit', (code) => events.push(`exit ${code}`));
  c.stdin.end('line\n');
  await new Promise((resolve) => c.on('close', (code) => { events.push(`close ${code}`); resolve(); }));
  expect(events).toEqual(['spawn', 'exit 2', 'close 2']);
  expect([out, err]).toEqual(['got line\n', 'err\n']);
});

test('an unref()ed child is still reaped and reported', async () => {
  const c = cp.spawn('sleep', ['0.05']);
  c.unref();
  const [code] = await new Promise((resolve) => c.on('exit', (...a) => resolve(a)));
  expect(code).toBe(0);
});
