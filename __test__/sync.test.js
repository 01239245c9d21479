'use strict';
// spawnSync(), execSync() and execFileSync(), compared with node:child_process: the result object
// (keys in order), every option and every error. Cases ported from Node's
// test/parallel/test-child-process-spawnsync*.js, -execsync*.js and -execfilesync*.js, written
// anew as differential scenarios.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { differential, ROOT } = require('./helpers/differential');

test('spawnSync: the result object, exit codes, signals, ENOENT', () => {
  differential(async (h) => {
    const run = (...args) => h.record(args.slice(0, 2), h.shape(h.cp.spawnSync(...args)));
    run('sh', ['-c', 'echo out; echo err >&2; exit 3']);
    run('/bin/true');
    run('true', {});
    run('sh', ['-c', 'kill -TERM $$']);
    run('sh', ['-c', 'kill -ABRT $$']);
    run('bash', ['-c', 'kill -40 $$']);
    run('no-such-program-cprs', ['a', 'b']);
    run('/tmp');
    run('pwd', { cwd: '/no/such/dir/cprs' });
    run('ls', { env: { PATH: '/nonexistent' } });
  });
});

test('spawnSync input: string, Buffer, TypedArray, DataView, encodings, bad types', () => {
  differential(async (h) => {
    const cat = (label, options) => h.record(label, h.shape(h.cp.spawnSync('od', ['-An', '-tx1'], options)).stdout);
    cat('string', { input: 'héllo' });
    cat('string hex', { input: 'cafe', encoding: 'hex' });
    cat('string latin1', { input: 'é', encoding: 'latin1' });
    cat('Buffer', { input: Buffer.from([0, 1, 255]) });
    cat('Uint8Array', { input: new Uint8Array([1, 2, 3]) });
    cat('Uint16Array', { input: new Uint16Array([0x0102, 0x0304]) });
    cat('Float64Array', { input: new Float64Array([1.5]) });
    cat('subarray', { input: new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 3) });
    cat('DataView', { input: new DataView(new Uint8Array([10, 20, 30, 40]).buffer, 1, 2) });
    cat('empty string', { input: '' });
    cat('empty Buffer', { input: Buffer.alloc(0) });
    h.record('input to an ignored stdin', h.shape(h.cp.spawnSync('cat', { input: 'x', stdio: ['ignore', 'pipe', 'pipe'] })));
    h.throws('input number', () => h.cp.spawnSync('cat', { input: 123 }));
    h.throws('input object', () => h.cp.spawnSync('cat', { input: { a: 1 } }));
    h.throws('input with stdio inherit', () => h.cp.spawnSync('cat', { input: true, stdio: 'inherit' }));
    h.throws('string input, encoding buffer', () => h.cp.spawnSync('cat', { input: 'x', encoding: 'buffer' }));
    // A large input through a child that echoes it: both directions exceed the socket buffers.
    const big = Buffer.alloc(3 * 1024 * 1024, 'xyz');
    const r = h.cp.spawnSync('cat', { input: big, maxBuffer: Infinity });
    h.record('big', r.status, r.error, r.stdout.equals(big));
    // A child that does not read its input: EPIPE, yet the status is its own.
    h.record('unread', h.shape(h.cp.spawnSync('true', { input: Buffer.alloc(4 * 1024 * 1024) })));
  });
});

test('spawnSync stdio: inherit, ignore, fds, extra pipes, ipc, bad values', () => {
  differential(async (h) => {
    const run = (label, stdio, script = 'echo out; echo err >&2; echo three >&3') =>
      h.record(label, h.shape(h.cp.spawnSync('sh', ['-c', script], { stdio })));
    // The scenario's own stdout carries the trace: children write to its stderr instead.
    run('all ignore', 'ignore');
    run('stdout to fd 2', ['pipe', 2, 'pipe']);
    run('inherit stderr', ['pipe', 'pipe', 'inherit']);
    run('extra pipe', ['pipe', 'pipe', 'pipe', 'pipe']);
    run('extra ignore', ['ignore', 'pipe', 'ignore', 'ignore'], 'test -e /proc/self/fd/3 && echo open || echo closed');
    run('stdin pipe by default', [undefined, 'pipe', null], 'cat; echo done');
    run('negative fd is a pipe', [-1, 'pipe', 'pipe'], 'echo x');
    run('object with fd', ['pipe', { fd: 2 }, 'pipe']);
    run('Buffer entry is dropped', ['pipe', Buffer.from('x'), 'pipe']);
    run('closed fd at stdin', [99, 'pipe', 'pipe'], 'true');
    run('closed fd above stderr', ['pipe', 'pipe', 'pipe', 99], 'true');
    h.throws('ipc', () => h.cp.spawnSync('true', { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] }));
    h.throws('bad string', () => h.cp.spawnSync('true', { stdio: 'bogus' }));
    h.throws('bad entry', () => h.cp.spawnSync('true', { stdio: ['pipe', 'nope'] }));
    h.throws('bad type', () => h.cp.spawnSync('true', { stdio: 42 }));
  });
});

test('spawnSync timeout and killSignal', () => {
  differential(async (h) => {
    const run = (label, cmd, args, options) => h.record(label, h.shape(h.cp.spawnSync(cmd, args, options)));
    run('expires', 'sh', ['-c', 'echo before; exec sleep 10'], { timeout: 1000 });
    run('SIGKILL', 'sleep', ['10'], { timeout: 100, killSignal: 'SIGKILL' });
    run('numeric', 'sleep', ['10'], { timeout: 100, killSignal: 9 });
    run('lowercase name', 'sleep', ['10'], { timeout: 100, killSignal: 'sigint' });
    run('child exited, grandchild holds the pipe', 'sh', ['-c', 'echo a; sleep 3 & exit 0'], { timeout: 1000 });
    run('not expired', 'echo', ['quick'], { timeout: 5000 });
    run('zero is none', 'sh', ['-c', 'sleep 0.1; echo done'], { timeout: 0 });
  });
});

test('spawnSync maxBuffer counts all output pipes together', () => {
  differential(async (h) => {
    const run = (label, script, options) => h.record(label, h.shape(h.cp.spawnSync('sh', ['-c', script], options)));
    // Each stream alone is under the limit, the sum is over: ENOBUFS (exec would not care).
    run('sum over', 'printf abc; printf def >&2; exec sleep 10', { maxBuffer: 5 });
    run('sum at limit', 'printf abc; printf def >&2', { maxBuffer: 6 });
    // The whole chunk read is kept, beyond the limit.
    run('one stream over', 'printf abcdef; exec sleep 10', { maxBuffer: 2 });
    run('fractional', 'printf abc; exec sleep 10', { maxBuffer: 2.5 });
    run('extra pipe counts', 'printf ab; printf cd >&3; exec sleep 10', { maxBuffer: 3, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    run('zero is unlimited', 'printf abc', { maxBuffer: 0 });
    run('Infinity', 'printf abc', { maxBuffer: Infinity });
    const length = (label, script, options) => {
      const r = h.cp.spawnSync('sh', ['-c', script], options);
      h.record(label, r.error, r.status, r.signal, r.stdout.length);
    };
    length('undefined is unlimited', 'head -c 1100000 /dev/zero', { maxBuffer: undefined });
    length('default 1 MiB: at', 'head -c 1048576 /dev/zero');
    // Over the default: how much was read before the kill depends on chunking; record the facts.
    const r = h.cp.spawnSync('cat', ['/dev/zero']);
    h.record('default 1 MiB: over', r.error.code, r.status, r.signal, r.stdout.length > 1024 * 1024);
    run('timeout stopped by the overflow', 'printf abc; exec sleep 1', { maxBuffer: 1, timeout: 5000 });
  });
});

test('spawnSync encoding, shell, cwd, env, argv0, uid/gid, detached', () => {
  differential(async (h) => {
    const run = (label, ...args) => h.record(label, h.shape(h.cp.spawnSync(...args)));
    const bytes = ['-c', "printf 'h\\303\\251\\377'; printf 'e\\001' >&2"];
    for (const encoding of ['utf8', 'buffer', 'hex', 'latin1', 'base64', undefined, null, '']) {
      run(`encoding ${encoding}`, 'sh', bytes, { encoding });
    }
    h.throws('encoding bogus', () => h.cp.spawnSync('sh', bytes, { encoding: 'bogus' }));
    run('shell true', 'echo $((1+2)) "$0"', { shell: true });
    run('shell with args', 'echo', ['a', '$((2+3))'], { shell: true });
    run('shell string', 'echo ${BASH_VERSION:+bash}', { shell: '/bin/bash' });
    run('shell missing', 'echo', { shell: '/no/such/shell' });
    run('cwd', 'pwd', { cwd: '/tmp' });
    run('cwd URL', 'pwd', { cwd: new URL('file:///usr') });
    run('cwd Buffer', 'pwd', { cwd: Buffer.from('/tmp') });
    run('cwd empty', 'pwd', { cwd: '' });
    run('args are ToString()ed', 'echo', [1, true, null, { a: 1 }]);
    run('env', 'sh', ['-c', 'echo "$FOO|$HOME"'], { env: { FOO: 'bar' } });
    run('env inherited', 'sh', ['-c', 'echo "$CPRS_MARK"']);
    run('argv0', 'sh', ['-c', 'echo $0'], { argv0: 'custom-name' });
    run('uid/gid', 'id', ['-u'], { uid: process.getuid(), gid: process.getgid() });
    // Another user: works as root, EPERM in the result otherwise.
    run('uid/gid nobody', 'id', ['-u', '-g'], { uid: 65534, gid: 65534 });
    run('detached', 'sh', ['-c', 'test "$(ps -o sid= -p $$)" -eq $$ && echo leader'], { detached: true });
    run('windowsHide', 'echo', ['hidden'], { windowsHide: true });
  }, { env: { CPRS_MARK: 'inherited' } });
});

test('spawnSync bad arguments throw Node ERR_* errors', () => {
  differential(async (h) => {
    const s = (label, ...args) => h.throws(label, () => h.cp.spawnSync(...args));
    s('file type', 42);
    s('file empty', '');
    s('file null byte', 'a\0b');
    s('args type', 'echo', 'str');
    s('args null byte', 'echo', ['a\0']);
    s('options type', 'echo', [], 'str');
    s('cwd type', 'echo', { cwd: 42 });
    s('cwd null byte', 'echo', { cwd: '/tmp\0' });
    s('detached type', 'echo', { detached: 'yes' });
    s('uid type', 'echo', { uid: '0' });
    s('gid float', 'echo', { gid: 1.5 });
    s('shell type', 'echo', { shell: 5 });
    s('argv0 type', 'echo', { argv0: 5 });
    s('windowsHide type', 'echo', { windowsHide: 1 });
    s('windowsVerbatimArguments type', 'echo', { windowsVerbatimArguments: 1 });
    s('env null byte', 'echo', { env: { A: '\0' } });
    for (const timeout of [-1, 1.5, '10', NaN, Infinity]) s(`timeout ${String(timeout)}`, 'echo', { timeout });
    for (const maxBuffer of [-1, '10', NaN, null]) s(`maxBuffer ${String(maxBuffer)}`, 'echo', { maxBuffer });
    for (const killSignal of ['SIGNOPE', 0, 999, {}, false]) s(`killSignal ${String(killSignal)}`, 'echo', { killSignal });
  });
});

test('execSync and execFileSync: output, thrown errors with the result fields, stderr to process.stderr', () => {
  differential(async (h) => {
    // Capture what the call writes to our stderr (Node writes the child's stderr there).
    const written = [];
    const write = process.stderr.write;
    process.stderr.write = (chunk) => written.push(h.shape(chunk)) > 0;
    const run = (label, call) => {
      try {
        h.record(label, 'returned', h.shape(call()));
      } catch (err) {
        h.record(label, 'threw', h.shape(err), h.shape(err.output), typeof err.pid, err.error === err);
      }
      h.record(label, 'stderr written', written.splice(0));
    };
    const execSync = (label, ...args) => run(`execSync ${label}`, () => h.cp.execSync(...args));
    execSync('ok', 'echo out; echo err >&2');
    execSync('utf8', 'echo out', { encoding: 'utf8' });
    execSync('fails', 'echo out; echo err >&2; exit 3');
    execSync('fails silently', 'exit 3');
    execSync('not found', 'no-such-command-cprs');
    execSync('killed', 'kill -KILL $$');
    execSync('stdio given: nothing written', 'echo err >&2; exit 1', { stdio: 'pipe' });
    execSync('stdio inherit', 'true', { stdio: 'inherit' });
    execSync('input', 'cat', { input: 'fed in' });
    execSync('timeout', 'exec sleep 10', { timeout: 100 });
    execSync('maxBuffer', 'printf abcdef; exec sleep 10', { maxBuffer: 2 });
    execSync('shell', 'echo ${BASH_VERSION:+bash}', { shell: '/bin/bash', encoding: 'latin1' });
    execSync('missing shell', 'true', { shell: '/no/such/shell' });
    h.throws('execSync command type', () => h.cp.execSync(42));
    h.throws('execSync command null byte', () => h.cp.execSync('echo \0'));

    const execFileSync = (label, ...args) => run(`execFileSync ${label}`, () => h.cp.execFileSync(...args));
    execFileSync('ok', '/bin/echo', ['hello']);
    execFileSync('options in the args place', 'printenv', { env: { X: 'y' }, encoding: 'utf8' });
    execFileSync('null args', 'echo', null, { encoding: 'utf8' });
    execFileSync('fails', 'sh', ['-c', 'echo err >&2; exit 2', 'arg0']);
    execFileSync('argv0', 'sh', ['-c', 'exit 2'], { argv0: 'renamed' });
    execFileSync('ENOENT', 'no-such-program-cprs', ['a']);
    execFileSync('EACCES', '/tmp');
    execFileSync('signal', 'sh', ['-c', 'kill -USR1 $$']);
    execFileSync('timeout', 'sleep', ['10'], { timeout: 100, killSignal: 'SIGKILL' });
    execFileSync('maxBuffer', 'sh', ['-c', 'printf abc; printf def >&2; exec sleep 10'], { maxBuffer: 5 });
    execFileSync('input DataView', 'od', ['-An', '-tx1'], { input: new DataView(new ArrayBuffer(2)), encoding: 'latin1' });
    execFileSync('shell true', 'echo', ['$((4*5))'], { shell: true });
    h.throws('execFileSync file type', () => h.cp.execFileSync(42));
    h.throws('execFileSync options type', () => h.cp.execFileSync('echo', [], 'str'));
    h.throws('execFileSync argv0 type', () => h.cp.execFileSync('echo', [], { argv0: 1 }));
    process.stderr.write = write;
  });
});

test('spawnSync beside async children: neither steals the other\'s exit', () => {
  differential(async (h) => {
    const async = h.cp.spawn('sh', ['-c', 'sleep 0.2; exit 4']);
    const done = new Promise((resolve) => async.on('exit', (code) => resolve(code)));
    const sync = h.cp.spawnSync('sh', ['-c', 'sleep 0.4; exit 5']);
    h.record('sync', sync.status);
    h.record('async', await done);
    // Node's own children too: both implementations live in one process.
    const node = require('node:child_process').spawnSync('sh', ['-c', 'exit 6']);
    h.record('node', node.status, h.cp.spawnSync('sh', ['-c', 'exit 7']).status);
  });
});

test('many spawnSync calls leave no fds and no children behind', () => {
  // Runs in its own process so that the counts are exact.
  const script = `
    const fs = require('node:fs');
    const cp = require(${JSON.stringify(ROOT)});
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const children = () => fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
      try { return fs.readFileSync('/proc/' + p + '/stat', 'utf8').split(') ')[1].split(' ')[1] === String(process.pid); }
      catch { return false; }
    });
    cp.spawnSync('true');
    const before = fds();
    for (let i = 0; i < 150; i++) {
      cp.spawnSync('sh', ['-c', 'echo out; echo err >&2'], { input: 'in' });
      cp.spawnSync('no-such-program-cprs');
      cp.spawnSync('sh', ['-c', 'printf abc; exec sleep 5'], { maxBuffer: 1 });
      if (i % 30 === 0) cp.spawnSync('sleep', ['5'], { timeout: 20 });
      try { cp.execSync('exit 1', { stdio: 'pipe' }); } catch {}
    }
    // Count before touching process.stdout: its lazy setup opens an fd of Node's own.
    const result = JSON.stringify({ before, after: fds(), children: children() });
    process.stdout.write(result);
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  const { before, after, children } = JSON.parse(r.stdout);
  assert.equal(after, before);
  assert.deepEqual(children, []);
});

test('a process that used spawnSync exits at once: nothing keeps the loop alive', () => {
  const script = `
    const cp = require(${JSON.stringify(ROOT)});
    cp.spawnSync('true');
    cp.execSync('true');
    cp.spawnSync('sleep', ['5'], { timeout: 10 });
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 3000 });
  assert.equal(r.error, undefined);
  assert.equal(r.status, 0, r.stderr);
});

test('the sync API and exec work inside a worker thread', () => {
  differential(async (h) => {
    const { Worker } = require('node:worker_threads');
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const cp = require(workerData === 'node' ? 'node:child_process' : workerData);
      const r = cp.spawnSync('sh', ['-c', 'echo in worker; exit 2'], { encoding: 'utf8' });
      let thrown;
      try { cp.execFileSync('sh', ['-c', 'exit 3'], { stdio: 'pipe' }); } catch (e) { thrown = [e.message, e.status]; }
      cp.exec('echo async in worker', (err, stdout) => parentPort.postMessage([r.status, r.stdout, thrown, err, stdout]));
      // Stay until terminated: a message posted right before a worker exits can be lost.
      parentPort.on('message', () => {});
    `;
    const worker = new Worker(source, { eval: true, workerData: h.impl });
    h.record(await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject)));
    await worker.terminate();
  });
});
