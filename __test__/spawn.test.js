'use strict';
// spawn(): lifecycle, events and errors compared with node:child_process.
const { test } = require('node:test');
const { differential } = require('./helpers/differential');

test('exit code, stdout, stderr, event order', () => {
  differential(async (h) => {
    const c = h.cp.spawn('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    h.record('pid is number', typeof c.pid);
    await h.watch(c);
    h.record('fields', c.exitCode, c.signalCode, c.killed, c.spawnfile, c.spawnargs);
  });
});

test('missing program: async ENOENT with Node error fields', () => {
  differential(async (h) => {
    const c = h.cp.spawn('no-such-program-cprs', ['a', 'b']);
    h.record('pid', c.pid, 'streams', !!c.stdin, !!c.stdout, !!c.stderr);
    await h.watch(c);
  });
});

test('argument errors: the stack starts with Node\'s "TypeError [ERR_X]: message" line', () => {
  differential(async (h) => {
    h.throws('args not an array', () => h.cp.spawn('sh', 42));
    h.throws('empty file', () => h.cp.spawn(''));
    h.throws('bad stdio', () => h.cp.spawn('sh', [], { stdio: 'bogus' }));
  });
});

test('a child that writes and exits at once: its output comes before its exit, as in Node', () => {
  differential(async (h) => {
    const order = [];
    const c = h.cp.spawn('sh', ['-c', 'echo out; echo err >&2']);
    c.stdout.on('data', () => order.push('stdout data'));
    c.stderr.on('data', () => order.push('stderr data'));
    c.on('exit', () => order.push('exit'));
    await h.watch(c);
    h.record('data before exit', order.indexOf('exit') === order.length - 1);
  });
});
