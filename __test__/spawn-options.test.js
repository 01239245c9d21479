'use strict';
// spawn() options, one differential case (at least) per option of Node 20.
const { test } = require('node:test');
const { differential } = require('./helpers/differential');

test('cwd: string, URL, Buffer, relative program with cwd, nonexistent cwd', () => {
  differential(async (h) => {
    const { pathToFileURL } = require('node:url');
    const pwd = async (label, cwd, file = 'pwd', args = []) => {
      // Some failures throw synchronously (ENOTDIR), others are emitted (ENOENT).
      const c = h.throws(label, () => h.cp.spawn(file, args, { cwd }));
      if (c) await h.watch(c, label);
    };
    await pwd('string', '/tmp');
    await pwd('url', pathToFileURL('/usr/'));
    await pwd('buffer', Buffer.from('/etc'));
    await pwd('empty string', '');
    await pwd('nonexistent', '/nonexistent/dir/cprs');
    await pwd('not a dir', '/etc/hostname');
    // A program named relative to cwd: ./x is looked up after the chdir.
    await pwd('relative program', '/bin', './sh', ['-c', 'echo rel']);
    await pwd('relative program missing', '/tmp', './no-such-prog-cprs');
  });
});

test('env: given env only, prototype keys, undefined skipped, PATH of the child env finds the program', () => {
  differential(async (h) => {
    const fs = require('node:fs');
    const os = require('node:os');
    const path = require('node:path');
    const dump = async (label, env, file = 'sh', args = ['-c', 'env | grep ^CPRS_ | sort']) => {
      await h.watch(h.cp.spawn(file, args, { env }), label);
    };
    await dump('plain', { CPRS_A: '1', CPRS_B: 'two words', PATH: process.env.PATH });
    const proto = { CPRS_PROTO: 'inherited', PATH: process.env.PATH };
    await dump('prototype', Object.assign(Object.create(proto), { CPRS_OWN: 'own', CPRS_UNDEF: undefined }));
    await dump('number and null values', { CPRS_N: 5, CPRS_NULL: null, CPRS_T: true, PATH: process.env.PATH });
    process.env.CPRS_FROM_PARENT = 'parent';
    process.env.CPRS_DELETED = 'gone';
    delete process.env.CPRS_DELETED;
    await dump('default is process.env', undefined);
    await dump('explicit process.env', process.env);
    await dump('null env is process.env', null);
    // The program is searched on the child's PATH, not ours.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cprs-path-'));
    fs.writeFileSync(path.join(dir, 'cprs-only-here'), '#!/bin/sh\necho found "${0##*/}" "$@"\n', { mode: 0o755 });
    await dump('child PATH', { PATH: `/nonexistent:${dir}` }, 'cprs-only-here', ['x']);
    await dump('parent PATH is not used', { PATH: '/nonexistent' }, 'sh', ['-c', 'true']);
    await dump('no PATH at all', {}, 'sh', ['-c', 'echo default-path']);
    // Not executable on the PATH: EACCES (execvp's rule), unless another entry has it.
    fs.writeFileSync(path.join(dir, 'cprs-noexec'), '#!/bin/sh\necho no\n', { mode: 0o644 });
    await dump('eacces', { PATH: dir }, 'cprs-noexec');
    // A relative PATH entry is relative to the child's cwd.
    await h.watch(h.cp.spawn('cprs-only-here', ['rel'], { env: { PATH: '.' }, cwd: dir }), 'relative PATH');
    fs.rmSync(dir, { recursive: true });
  });
});

test('argv0 replaces argv[0] but not the program', () => {
  differential(async (h) => {
    await h.watch(h.cp.spawn('sh', ['-c', 'echo "$0"'], { argv0: 'custom-zero' }), 'sh');
    const c = h.cp.spawn(process.execPath, ['-e', 'console.log(process.argv0)'], { argv0: 'my-node' });
    h.record('spawnargs', c.spawnargs, c.spawnfile);
    await h.watch(c, 'node');
  });
});

test('shell: true, a path, args joined with spaces as Node does', () => {
  differential(async (h) => {
    const run = async (label, file, args, shell) => {
      const c = h.cp.spawn(file, args, { shell });
      h.record(label, c.spawnfile, c.spawnargs);
      await h.watch(c, label);
    };
    await run('true', 'echo $((1+2)) "a  b"', undefined, true);
    await run('with args', 'echo', ['x', '"y  z"', '$HOME_NOPE'], true);
    await run('path', 'echo $0', [], '/bin/bash');
    await run('false', 'echo', ['not', 'a', 'shell'], false);
    await run('missing shell', 'echo hi', [], '/nonexistent/sh');
  });
});

test('detached: a new session and process group', () => {
  differential(async (h) => {
    const ids = async (label, detached) => {
      const c = h.cp.spawn(process.execPath, ['-e',
        'const fs=require("fs");const s=fs.readFileSync("/proc/self/stat","utf8").split(") ")[1].split(" ");' +
        'console.log(JSON.stringify({pgidIsPid:+s[2]===process.pid, sidIsPid:+s[3]===process.pid, ' +
        'pgidIsParent:+s[2]===Number(process.env.PARENT_PGID)}))'],
      { detached, env: { ...process.env, PARENT_PGID: String(require('node:fs').readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[2]) } });
      await h.watch(c, label);
    };
    await ids('attached', false);
    await ids('detached', true);
  });
});

test('uid/gid: nobody, and invalid ids', () => {
  differential(async (h) => {
    const run = async (label, opts) => {
      const c = h.cp.spawn('sh', ['-c', 'id -u; id -g; id -G'], { cwd: '/', ...opts });
      await h.watch(c, label);
    };
    await run('uid+gid', { uid: 65534, gid: 65534 });
    await run('gid only', { gid: 65534 });
    await run('uid only', { uid: 65534 });
    if (process.getuid() === 0) {
      // Out of range for the kernel's id type: EINVAL, thrown synchronously by Node.
      h.throws('uid -1', () => h.cp.spawn('true', [], { uid: -1 }));
      h.throws('gid -5', () => h.cp.spawn('true', [], { gid: -5 }));
    }
    // uid/gid with a missing program still reports ENOENT asynchronously.
    await run('enoent', { uid: 65534, gid: 65534, cwd: '/nonexistent-cprs' });
  });
});

test('signal: aborted before, aborted later, reason as cause, with killSignal', () => {
  differential(async (h) => {
    const before = AbortSignal.abort('early reason');
    const a = h.cp.spawn('sleep', ['10'], { signal: before });
    await h.watch(a, 'before');
    h.record('before fields', a.killed, a.signalCode);

    const ac = new AbortController();
    const b = h.cp.spawn('sleep', ['10'], { signal: ac.signal, killSignal: 'SIGINT' });
    b.on('spawn', () => ac.abort(new Error('late reason')));
    await h.watch(b, 'later');
    h.record('later fields', b.killed, b.signalCode);

    const ac2 = new AbortController();
    const c = h.cp.spawn('sleep', ['10'], { signal: ac2.signal });
    c.on('spawn', () => ac2.abort());
    await h.watch(c, 'no reason');

    // Aborted synchronously right after spawn() (port of test-child-process-spawn-controller).
    const ac4 = new AbortController();
    const e = h.cp.spawn('sleep', ['10'], { signal: ac4.signal, killSignal: 'SIGKILL' });
    const watched = h.watch(e, 'sync abort'); // 'error' is emitted inside abort()
    ac4.abort();
    await watched;

    // Aborted in the 'exit' listener, after the child was killed otherwise: no 'error'.
    const ac5 = new AbortController();
    const f = h.cp.spawn('sleep', ['10'], { signal: ac5.signal });
    f.on('exit', () => ac5.abort());
    f.on('spawn', () => f.kill());
    await h.watch(f, 'abort in exit');

    // Aborting after the child exited does nothing.
    const ac3 = new AbortController();
    const d = h.cp.spawn('true', [], { signal: ac3.signal });
    await h.watch(d, 'after exit');
    ac3.abort();
    await new Promise((r) => setTimeout(r, 20));
    h.record('after exit', d.killed);
  });
});

test('timeout + killSignal', () => {
  differential(async (h) => {
    const a = h.cp.spawn('sleep', ['10'], { timeout: 50 });
    await h.watch(a, 'default signal');
    h.record('a', a.killed, a.signalCode);
    const b = h.cp.spawn('sleep', ['10'], { timeout: 50, killSignal: 'SIGUSR1' });
    await h.watch(b, 'SIGUSR1');
    const c = h.cp.spawn('sleep', ['10'], { timeout: 50, killSignal: 9 });
    await h.watch(c, 'number 9');
    // A child that finishes in time is not killed.
    const d = h.cp.spawn('true', [], { timeout: 5000 });
    await h.watch(d, 'in time');
    h.record('d', d.killed);
    // timeout 0 means no timeout.
    const e = h.cp.spawn('sh', ['-c', 'sleep 0.1; echo done'], { timeout: 0 });
    await h.watch(e, 'zero');
  });
});

test('serialization validation and windowsHide / windowsVerbatimArguments accepted', () => {
  differential(async (h) => {
    for (const serialization of ['json', 'advanced', undefined]) {
      await h.watch(h.cp.spawn('echo', [String(serialization)], { serialization }), `ser ${serialization}`);
    }
    h.throws('bad serialization', () => h.cp.spawn('echo', [], { serialization: 'xml' }));
    await h.watch(h.cp.spawn('echo', ['hide'], { windowsHide: true }), 'hide');
    await h.watch(h.cp.spawn('echo', ['"verbatim"'], { windowsVerbatimArguments: true }), 'verbatim');
    await h.watch(h.cp.spawn('echo', ['both'], { windowsHide: false, windowsVerbatimArguments: false }), 'both');
  });
});

test('an executable script without #! runs with /bin/sh, as execvp does in Node', () => {
  differential(async (h) => {
    const fs = require('node:fs');
    const os = require('node:os');
    const path = require('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cprs-noshebang-'));
    fs.writeFileSync(path.join(dir, 'script'), 'echo "no shebang: ${0##*/} $*"\nexit 5\n', { mode: 0o755 });
    await h.watch(h.cp.spawn(path.join(dir, 'script'), ['a', 'b c']), 'by path');
    await h.watch(h.cp.spawn('script', ['on PATH'], { env: { PATH: dir } }), 'on PATH');
    await h.watch(h.cp.spawn('script', [], { cwd: dir, env: { PATH: '.' }, argv0: 'zero' }), 'argv0');
    fs.rmSync(dir, { recursive: true });
  });
});
