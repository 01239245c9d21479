'use strict';
// exec() and execFile(), compared with node:child_process: results, every option, every error
// path. Cases ported from Node's test/parallel/test-child-process-exec-*.js, -execfile*.js and
// -promisified.js, written anew as differential scenarios.
const { test } = require('node:test');
const { differential } = require('./helpers/differential');

test('exec: output, exit codes, the error and its fields', () => {
  differential(async (h) => {
    const run = (...args) =>
      new Promise((resolve) => {
        const child = h.cp.exec(...args, (err, stdout, stderr) => {
          h.record(args[0], h.shape(err), stdout, stderr);
          resolve();
        });
        h.record('returns a child', typeof child.pid, typeof child.kill, child.stdin !== null);
      });
    await run('echo out; echo err >&2');
    await run('echo out; echo err >&2; exit 3');
    await run('no-such-command-cprs');
    await run('kill -TERM $$');
    await run('kill -ABRT $$');
    await run('exit 0', {});
    await run('printf "%s" "$1"', { shell: '/bin/bash' });
  });
});

test('execFile: args, cmd joining, ENOENT, argument shuffling', () => {
  differential(async (h) => {
    const run = (...args) =>
      new Promise((resolve) => {
        h.cp.execFile(...args, (err, stdout, stderr) => {
          h.record(args.slice(0, 2), h.shape(err), stdout, stderr);
          resolve();
        });
      });
    await run('/bin/echo', ['hello', 'world']);
    await run('sh', ['-c', 'echo "$0 $1" >&2; exit 4', 'a b', 'c']);
    await run('printenv', { env: { X: 'x' } });
    await run('true', null, null);
    await run('false');
    await run('no-such-program-cprs', ['a', 'b']);
    await run('no-such-program-cprs');
    await run('./no-such-relative-cprs', [], { cwd: '/tmp' });
    await run('/tmp');
    await run('sh', ['-c', 'exit 1'], { argv0: 'renamed' });
  });
});

test('encodings: utf8 default, buffer, hex, latin1, base64, unknown names', () => {
  differential(async (h) => {
    const bytes = "printf 'h\\303\\251\\377'; printf 'e\\001' >&2";
    for (const encoding of [undefined, 'utf8', 'buffer', 'hex', 'latin1', 'base64', 'ucs2', 'bogus', null]) {
      await new Promise((resolve) =>
        h.cp.exec(bytes, { encoding }, (err, stdout, stderr) => {
          h.record(String(encoding), err, h.shape(stdout), h.shape(stderr));
          resolve();
        }),
      );
    }
    // Failing command: the message embeds stderr decoded the same way.
    await new Promise((resolve) =>
      h.cp.exec(`${bytes}; exit 2`, { encoding: 'hex' }, (err) => {
        h.record('hex error', h.shape(err));
        resolve();
      }),
    );
    // Output turned into strings by the user's own setEncoding.
    await new Promise((resolve) => {
      const child = h.cp.exec('echo hi; echo ho >&2', { encoding: 'buffer' }, (err, stdout, stderr) => {
        h.record('setEncoding', err, h.shape(stdout), h.shape(stderr));
        resolve();
      });
      child.stdout.setEncoding('utf8');
    });
  });
});

test('maxBuffer is counted per stream and truncates to the limit', () => {
  differential(async (h) => {
    const run = (label, cmd, options) => h.settle(label, (cb) => h.cp.exec(cmd, options, cb));
    await run('stdout over', 'printf abcdef', { maxBuffer: 3 });
    await run('stderr over', 'printf abcdef >&2', { maxBuffer: 3 });
    await run('stdout over, buffer', 'printf abcdef', { maxBuffer: 3, encoding: 'buffer' });
    // Each stream alone is within the limit, their sum is not: exec does not care.
    await run('each under', 'printf abc; printf def >&2', { maxBuffer: 4 });
    await run('exactly at', 'printf abcd', { maxBuffer: 4 });
    await run('zero', 'printf a', { maxBuffer: 0 });
    await run('zero, silent', 'true', { maxBuffer: 0 });
    await new Promise((resolve) =>
      h.cp.exec('head -c 2000000 /dev/zero', { maxBuffer: Infinity, encoding: 'buffer' }, (err, stdout) => {
        h.record('infinity', err, stdout.length);
        resolve();
      }),
    );
    // Bytes are counted, but a string is cut by characters (Node's quirk with multibyte text).
    await run('multibyte', "printf '\\344\\270\\255\\346\\226\\207\\346\\265\\213\\350\\257\\225'", { maxBuffer: 10 });
    for (const size of [1048576, 1048577]) {
      await new Promise((resolve) =>
        h.cp.exec(`head -c ${size} /dev/zero`, { encoding: 'buffer' }, (err, stdout) => {
          h.record(`default 1 MiB: ${size}`, h.shape(err), stdout.length);
          resolve();
        }),
      );
    }
  });
});

test('timeout and killSignal', () => {
  differential(async (h) => {
    const run = h.settle;
    await run('expires', (cb) => h.cp.exec('echo started; exec sleep 10', { timeout: 1000 }, cb));
    await run('SIGKILL', (cb) => h.cp.execFile('sleep', ['10'], { timeout: 100, killSignal: 'SIGKILL' }, cb));
    await run('numeric', (cb) => h.cp.execFile('sleep', ['10'], { timeout: 100, killSignal: 9 }, cb));
    await run('TERM trapped, then exits', (cb) =>
      h.cp.exec("trap 'kill $!; echo got TERM; exit 7' TERM; sleep 10 & wait", { timeout: 1000 }, cb),
    );
    await run('not expired', (cb) => h.cp.exec('echo quick', { timeout: 5000 }, cb));
    await run('zero is none', (cb) => h.cp.exec('sleep 0.1; echo done', { timeout: 0 }, cb));
  });
});

test('AbortSignal: aborted before, aborted later, with a reason', () => {
  differential(async (h) => {
    const run = (label, fn) =>
      new Promise((resolve) => {
        const child = fn((err, stdout, stderr) => {
          h.record(label, h.shape(err), stdout, stderr, child.killed);
          resolve();
        });
      });
    await run('already aborted', (cb) => h.cp.execFile('sleep', ['10'], { signal: AbortSignal.abort() }, cb));
    const later = new AbortController();
    setTimeout(() => later.abort(), 100);
    await run('aborted later', (cb) => h.cp.exec('exec sleep 10', { signal: later.signal }, cb));
    const reason = new AbortController();
    setTimeout(() => reason.abort(new Error('why')), 50);
    await run('reason', (cb) => h.cp.execFile('sleep', ['10'], { signal: reason.signal, killSignal: 'SIGKILL' }, cb));
    const unused = new AbortController();
    await run('never aborted', (cb) => h.cp.execFile('echo', ['fine'], { signal: unused.signal }, cb));
    unused.abort();
  });
});

test('util.promisify: resolve, reject with stdout/stderr, promise.child, abort', () => {
  differential(async (h) => {
    const util = require('node:util');
    const exec = util.promisify(h.cp.exec);
    const execFile = util.promisify(h.cp.execFile);
    h.record('custom', exec === h.cp.exec[util.promisify.custom], execFile === h.cp.execFile[util.promisify.custom]);
    h.record('enumerable', Object.keys(h.cp.exec), Object.keys(h.cp.execFile));
    const settle = async (label, promise) => {
      h.record(label, 'child', typeof promise.child.pid, Object.keys(promise));
      try {
        h.record(label, 'resolved', h.shape(await promise));
      } catch (err) {
        h.record(label, 'rejected', h.shape(err));
      }
    };
    await settle('exec ok', exec('echo out; echo err >&2'));
    await settle('exec fails', exec('echo out; echo err >&2; exit 5'));
    await settle('exec buffer', exec('echo out', { encoding: 'buffer' }));
    await settle('execFile ok', execFile('/bin/echo', ['a', 'b']));
    await settle('execFile ENOENT', execFile('no-such-program-cprs', ['x']));
    await settle('execFile maxBuffer', execFile('printf', ['abcdef'], { maxBuffer: 2 }));
    await settle('exec timeout', exec('exec sleep 10', { timeout: 100 }));
    await settle('exec aborted', exec('exec sleep 10', { signal: AbortSignal.abort('gone') }));
    const later = new AbortController();
    const p = execFile('sleep', ['10'], { signal: later.signal });
    setTimeout(() => later.abort(), 50);
    await settle('execFile aborted later', p);
  });
});

test('cwd, env, shell, uid/gid, windowsHide', () => {
  differential(async (h) => {
    const run = h.settle;
    await run('cwd', (cb) => h.cp.exec('pwd', { cwd: '/tmp' }, cb));
    await run('cwd URL', (cb) => h.cp.execFile('pwd', { cwd: new URL('file:///usr') }, cb));
    await run('cwd missing', (cb) => h.cp.execFile('pwd', { cwd: '/no/such/dir/cprs' }, cb));
    await run('env', (cb) => h.cp.exec('echo "$FOO|$HOME"', { env: { FOO: 'bar' } }, cb));
    await run('env PATH', (cb) => h.cp.execFile('ls', ['/'], { env: { PATH: '/nonexistent' } }, cb));
    await run('shell string', (cb) => h.cp.exec('echo ${BASH_VERSION:+bash}', { shell: '/bin/bash' }, cb));
    await run('execFile shell true', (cb) => h.cp.execFile('echo', ['$((1+2))', '|', 'cat'], { shell: true }, cb));
    await run('execFile shell string', (cb) => h.cp.execFile('echo $0', [], { shell: '/bin/bash' }, cb));
    await run('execFile shell missing', (cb) => h.cp.execFile('echo', ['x'], { shell: '/no/such/shell' }, cb));
    await run('uid/gid', (cb) => h.cp.execFile('id', ['-u'], { uid: process.getuid(), gid: process.getgid() }, cb));
    // Another user: works as root, a synchronous EPERM throw otherwise.
    await new Promise((resolve) => {
      const started = h.throws('uid nobody', () => h.cp.exec('id -u', { uid: 65534 }, (err, stdout) => resolve(h.record(err, stdout))));
      if (!started) resolve();
    });
    await run('windowsHide', (cb) => h.cp.exec('echo hidden', { windowsHide: true }, cb));
  });
});

test('exec() reaches execFile through the exports; a throwing kill is the error', () => {
  differential(async (h) => {
    const original = h.cp.execFile;
    h.cp.execFile = (...args) => {
      h.record('patched execFile', args.length, args[0], h.shape(args[1]), typeof args[2]);
      return original(...args);
    };
    await new Promise((resolve) => h.cp.exec('echo via', { cwd: '/' }, (err, out) => resolve(h.record(err, out))));
    h.cp.execFile = original;

    // test-child-process-exec-kill-throws: kill() on maxBuffer throws; that error is reported.
    await new Promise((resolve) => {
      const child = h.cp.exec('printf 0123456789abcdef; exec sleep 1', { maxBuffer: 4 }, (err, stdout) => {
        h.record('kill threw', h.shape(err), stdout);
        resolve();
      });
      child.kill = () => {
        throw new Error('mock error');
      };
    });
    // No callback at all: the child still runs to its end.
    await h.watch(h.cp.exec('echo nobody listens'));
  });
});

test('bad arguments throw Node ERR_* errors synchronously', () => {
  differential(async (h) => {
    const { exec, execFile } = h.cp;
    const cb = () => {};
    h.throws('command type', () => exec(123, cb));
    h.throws('command null byte', () => exec('echo \0', cb));
    h.throws('file type', () => execFile(123, cb));
    h.throws('file empty', () => execFile('', cb));
    h.throws('file null byte', () => execFile('a\0b', cb));
    h.throws('args type', () => execFile('echo', 'notanarray', {}, cb));
    h.throws('args null byte', () => execFile('echo', ['a\0'], cb));
    h.throws('options type', () => execFile('echo', [], 'str', cb));
    h.throws('options array', () => execFile('echo', [], [], cb));
    h.throws('callback type', () => execFile('echo', [], {}, 'notfn'));
    h.throws('exec callback type', () => exec('echo', {}, 42));
    for (const timeout of [-1, 1.5, '10', NaN, Infinity]) {
      h.throws(`timeout ${String(timeout)}`, () => exec('echo', { timeout }, cb));
    }
    for (const maxBuffer of [-1, '10', NaN, {}]) {
      h.throws(`maxBuffer ${String(maxBuffer)}`, () => exec('echo', { maxBuffer }, cb));
    }
    for (const killSignal of ['SIGNOPE', 0, 999, {}, true]) {
      h.throws(`killSignal ${String(killSignal)}`, () => execFile('echo', [], { killSignal }, cb));
    }
    h.throws('signal type', () => execFile('echo', [], { signal: 'abort' }, cb));
    h.throws('argv0 type', () => execFile('echo', [], { argv0: 1 }, cb));
    h.throws('argv0 null byte', () => execFile('echo', [], { argv0: 'a\0' }, cb));
    h.throws('cwd type', () => exec('echo', { cwd: 42 }, cb));
    h.throws('uid type', () => exec('echo', { uid: 'root' }, cb));
    h.throws('gid type', () => exec('echo', { gid: 1.5 }, cb));
    h.throws('shell type', () => execFile('echo', [], { shell: 1 }, cb));
    h.throws('env null byte', () => exec('echo', { env: { A: 'b\0' } }, cb));
    h.throws('windowsHide ignored type', () => exec('true', { windowsHide: 'yes' }).kill());
  });
});
