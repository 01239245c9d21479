'use strict';
// fork() and the IPC channel under jest: its per-file module registry and realm.
const path = require('node:path');
const cp = require('..');

test('fork, a round trip, and channel errors that are instanceof Error in the jest realm', async () => {
  const c = cp.fork(path.join(__dirname, 'fixtures', 'ipc-child.js'), ['echo'], { serialization: 'advanced' });
  const reply = new Promise((resolve) => c.once('message', resolve));
  c.send({ hello: [1, 2, 3], when: new Date(0) });
  expect(await reply).toEqual({ hello: [1, 2, 3], when: new Date(0) });
  const exited = new Promise((resolve) => c.on('exit', resolve));
  c.disconnect();
  const err = await new Promise((resolve) => c.send('late', resolve));
  expect(err).toBeInstanceOf(Error);
  expect(err.code).toBe('ERR_IPC_CHANNEL_CLOSED');
  expect(await exited).toBe(0);
});
