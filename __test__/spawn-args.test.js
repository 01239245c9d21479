'use strict';
// spawn(): synchronous validation of every argument and option, compared with Node's
// ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE / ERR_OUT_OF_RANGE / ERR_UNKNOWN_SIGNAL errors.
const { test } = require('node:test');
const { differential } = require('./helpers/differential');

test('bad file and args', () => {
  differential((h) => {
    const bad = [undefined, null, 0, 1, true, {}, [], () => {}, Symbol('s'), 10n, '', 'a\u0000b', new String('x')];
    for (const [i, v] of bad.entries()) {
      h.throws(`file #${i}`, () => h.cp.spawn(v).kill('SIGKILL'));
    }
    const badArgs = [0, 'str', true, () => {}, Symbol('x'), ['ok', 'nul\u0000'], [null], [1, {}]];
    for (const [i, v] of badArgs.entries()) {
      h.throws(`args #${i}`, () => h.cp.spawn('true', v).kill('SIGKILL'));
    }
  });
});

test('bad options of every kind', () => {
  differential((h) => {
    const cases = {
      options: [0, 'x', true, null, [], () => {}],
      cwd: [0, true, {}, [], 'a\u0000b', Buffer.from('a\u0000b'), Symbol('c')],
      detached: [0, 'yes', {}, null],
      uid: [-1.5, 2 ** 31, '0', true, {}, 1.5, NaN],
      gid: [-1.5, 2 ** 31, '0', true, {}, 1.5, Infinity],
      shell: [0, 1, {}, [], 'sh\u0000', Symbol('s')],
      argv0: [0, true, {}, 'a\u0000'],
      windowsHide: [0, 'true', {}],
      windowsVerbatimArguments: [1, 'no', {}],
      stdio: [0, true, 'pip', 'inherit2', { fd: 'x' }, [{}], ['pipe', 'pipe', 'pipe', 'bogus'], [true],
        ['pipe', 'pipe', 'pipe', 'ipc', 'ipc'], [Buffer.from('in')], ['in-string'], [new Uint8Array(1)]],
      env: [0, 'x', true],
      timeout: [-1, 1.5, '10', NaN, Infinity, true, {}],
      killSignal: ['SIGNOPE', 'sigterm2', 999, -1, 1.5, {}, true, [], ''],
      signal: [0, 'x', {}, null, true, { aborted: false }],
      serialization: ['jsonx', 0, {}, 'JSON', null],
    };
    for (const [name, values] of Object.entries(cases)) {
      for (const [i, v] of values.entries()) {
        h.throws(`${name} #${i}`, () => {
          const c = name === 'options' ? h.cp.spawn('true', [], v) : h.cp.spawn('true', [], { [name]: v });
          c.on('error', () => {});
          c.kill('SIGKILL');
        });
      }
    }
    // env values: NUL bytes in keys and values are rejected; undefined values are skipped.
    h.throws('env value nul', () => h.cp.spawn('true', [], { env: { A: 'x\u0000y' } }));
    h.throws('env key nul', () => h.cp.spawn('true', [], { env: { 'A\u0000B': 'x' } }));
    const proto = Object.create({ INHERITED: 'a\u0000' });
    h.throws('env proto nul', () => h.cp.spawn('true', [], { env: proto }));
  });
});

test('kill() argument validation', () => {
  differential(async (h) => {
    const c = h.cp.spawn('sleep', ['10']);
    for (const v of ['SIGNOPE', 'term', 'sigterm', -1, 1.5, 99999, {}, null, true, '', 'SIGTERM2', NaN]) {
      h.throws(`kill ${String(v)}`, () => h.record('ret', c.kill(v)));
    }
    h.throws('kill SIGKILL', () => h.record('ret', c.kill('SIGKILL')));
    await h.watch(c);
  });
});
