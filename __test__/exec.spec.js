'use strict';
// exec/execFile and the sync API under jest: its per-file realm must see real Errors and Buffers.
const util = require('node:util');
const cp = require('..');

test('exec and execFile errors are instanceof Error in the jest realm', async () => {
  const err = await new Promise((resolve) => cp.exec('exit 3', (e) => resolve(e)));
  expect(err).toBeInstanceOf(Error);
  expect(err.code).toBe(3);
  await expect(util.promisify(cp.execFile)('no-such-program-cprs')).rejects.toBeInstanceOf(Error);
  await expect(util.promisify(cp.execFile)('printf', ['abc'], { maxBuffer: 1 })).rejects.toBeInstanceOf(RangeError);
});

test('spawnSync results and execSync throws use the jest realm', () => {
  const r = cp.spawnSync('sh', ['-c', 'echo hi'], { timeout: 10000 });
  expect(Buffer.isBuffer(r.stdout)).toBe(true);
  expect(r.stdout.toString()).toBe('hi\n');
  expect(cp.spawnSync('no-such-program-cprs').error).toBeInstanceOf(Error);
  expect(() => cp.execSync('exit 2', { stdio: 'pipe' })).toThrow(Error);
  expect(() => cp.spawnSync('true', { timeout: -1 })).toThrow(RangeError);
});
