'use strict';
// Inside jest's realm, every error we emit or throw is `instanceof Error` (and of its subclass):
// errors are always built in JS by the module's own copy, never by the addon.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const cp = require('..');
const { gated } = require('./helpers/pending');
const { liveChildren } = require('./helpers/jest-children');

const errorEvent = (child) => new Promise((resolve) => child.on('error', resolve));
const closed = (child) => new Promise((resolve) => child.on('close', (code, signal) => resolve([code, signal])));

afterAll(() => expect(liveChildren()).toEqual([]));

test('ENOENT emitted as \'error\'', async () => {
  const err = await errorEvent(cp.spawn('no-such-program-cprs'));
  expect(err).toBeInstanceOf(Error);
  expect(err.code).toBe('ENOENT');
});

test('EACCES emitted as \'error\'', async () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cprs-jest-')), 'not-executable');
  fs.writeFileSync(file, '#!/bin/sh\n', { mode: 0o644 });
  const err = await errorEvent(cp.spawn(file));
  expect(err).toBeInstanceOf(Error);
  expect(err.code).toBe('EACCES');
  fs.rmSync(path.dirname(file), { recursive: true });
});

test('argument errors thrown synchronously: ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE', () => {
  const thrown = (fn) => { try { fn(); } catch (e) { return e; } throw new Error('did not throw'); };
  const type = thrown(() => cp.spawn(42));
  expect(type).toBeInstanceOf(TypeError);
  expect(type).toBeInstanceOf(Error);
  expect(type.code).toBe('ERR_INVALID_ARG_TYPE');
  const value = thrown(() => cp.spawn(''));
  expect(value).toBeInstanceOf(TypeError);
  expect(value.code).toBe('ERR_INVALID_ARG_VALUE');
  const nul = thrown(() => cp.spawn('ls', ['a\0b']));
  expect(nul.code).toBe('ERR_INVALID_ARG_VALUE');
});

test('kill() with an unknown signal throws ERR_UNKNOWN_SIGNAL', async () => {
  const c = cp.spawn('sleep', ['5']);
  let err;
  try { c.kill('SIGNOPE'); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(TypeError);
  expect(err.code).toBe('ERR_UNKNOWN_SIGNAL');
  c.kill();
  expect(await closed(c)).toEqual([null, 'SIGTERM']);
});

test('AbortSignal: AbortError emitted as \'error\'', async () => {
  const ac = new AbortController();
  const c = cp.spawn('sleep', ['5'], { signal: ac.signal });
  const pending = errorEvent(c);
  ac.abort();
  const err = await pending;
  expect(err).toBeInstanceOf(Error);
  expect(err.name).toBe('AbortError');
  expect(await closed(c)).toEqual([null, 'SIGTERM']);
});

gated(test, 'exec/execFile/spawnSync/execSync errors', ['exec', 'execFile', 'spawnSync', 'execSync'], async () => {
  const execErr = await new Promise((resolve) => cp.exec('exit 3', (e) => resolve(e)));
  expect(execErr).toBeInstanceOf(Error);
  expect(execErr.code).toBe(3);
  const maxBuf = await new Promise((resolve) => cp.execFile('sh', ['-c', 'yes | head -c 100000'], { maxBuffer: 10 }, (e) => resolve(e)));
  expect(maxBuf).toBeInstanceOf(RangeError);
  expect(maxBuf.code).toBe('ERR_CHILD_PROCESS_STDIO_MAXBUFFER');
  const timedOut = cp.spawnSync('sleep', ['5'], { timeout: 50 });
  expect(timedOut.error).toBeInstanceOf(Error);
  expect(timedOut.error.code).toBe('ETIMEDOUT');
  let thrown;
  try { cp.execSync('exit 4', { stdio: 'pipe' }); } catch (e) { thrown = e; }
  expect(thrown).toBeInstanceOf(Error);
  expect(thrown.status).toBe(4);
});

gated(test, 'fork: send() after disconnect errors with ERR_IPC_CHANNEL_CLOSED', ['fork'], async () => {
  const child = cp.fork('-e', [], { execArgv: ['-e', 'process.on("message", () => process.disconnect())'] });
  await new Promise((resolve) => child.on('spawn', resolve));
  child.disconnect();
  const err = await new Promise((resolve) => child.send('x', resolve));
  expect(err).toBeInstanceOf(Error);
  expect(err.code).toBe('ERR_IPC_CHANNEL_CLOSED');
  // Not 'close': after the parent's own disconnect(), Node never emits it (the channel's close is
  // not counted), and neither do we.
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill();
  await exited;
});
