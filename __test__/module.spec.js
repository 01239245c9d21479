'use strict';
// Proves the module works under jest: its per-file module registry and realm.
const cp = require('..');

test('spawn works and errors are instanceof Error in the jest realm', async () => {
  const c = cp.spawn('no-such-program-cprs');
  const err = await new Promise((resolve) => c.on('error', resolve));
  expect(err).toBeInstanceOf(Error);
  expect(err.code).toBe('ENOENT');
  const ok = cp.spawn('sh', ['-c', 'exit 4']);
  const code = await new Promise((resolve) => ok.on('close', resolve));
  expect(code).toBe(4);
});
