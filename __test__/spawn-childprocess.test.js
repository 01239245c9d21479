'use strict';
// The ChildProcess object: fields, streams, kill(), ref/unref, Symbol.dispose and the order of
// its events, compared with node:child_process.
const { test } = require('node:test');
const { differential } = require('./helpers/differential');

test('ChildProcess is exported, instanceof works, fields before and after exit', () => {
  differential(async (h) => {
    const { ChildProcess } = h.cp;
    const EventEmitter = require('node:events');
    const net = require('node:net');
    h.record('exported', typeof ChildProcess, ChildProcess.name);
    const c = h.cp.spawn('sh', ['-c', 'read x; echo "got $x"; exit 7'], { argv0: 'mysh' });
    h.record('instanceof', c instanceof ChildProcess, c instanceof EventEmitter);
    const fields = (c) => ({
      pid: typeof c.pid,
      exitCode: c.exitCode,
      signalCode: c.signalCode,
      killed: c.killed,
      connected: c.connected,
      spawnfile: c.spawnfile,
      spawnargs: c.spawnargs,
      stdioLength: c.stdio.length,
      same: [c.stdio[0] === c.stdin, c.stdio[1] === c.stdout, c.stdio[2] === c.stderr],
      streams: [c.stdin, c.stdout, c.stderr].map((s) => ({
        socket: s instanceof net.Socket,
        readable: s.readable,
        writable: s.writable,
        destroyed: s.destroyed,
        allowHalfOpen: s.allowHalfOpen,
      })),
    });
    h.record('before', fields(c));
    c.stdin.end('hello\n');
    await h.watch(c);
    h.record('after', fields(c));
  });
});

test('ChildProcess constructed directly', () => {
  differential((h) => {
    const c = new h.cp.ChildProcess();
    h.record('fresh', c.pid, c.exitCode, c.signalCode, c.killed, c.connected, c.spawnfile, c.stdin, c.stdio);
    // (kill() before spawn() is not compared: Node's handle has pid 0 there and libuv's kill(0, sig)
    // signals the whole process group, the test runner included. Ours returns false.)
    h.throws('spawn without options', () => c.spawn());
    h.throws('spawn bad file', () => c.spawn({ file: 1 }));
    h.throws('spawn bad args', () => new h.cp.ChildProcess().spawn({ file: 'true', args: 'x' }));
    h.throws('spawn bad stdio', () => new h.cp.ChildProcess().spawn({ file: 'true', stdio: 'nope' }));
  });
});

test('events: spawn, exit, close in order; error instead of spawn for ENOENT and EACCES', () => {
  differential(async (h) => {
    const order = (c, label) => {
      for (const ev of ['spawn', 'exit', 'close', 'error']) c.on(ev, () => h.record(label, ev));
      return new Promise((r) => c.on('close', r));
    };
    await order(h.cp.spawn('true'), 'ok');
    await order(h.cp.spawn('/nonexistent/prog'), 'enoent');
    await order(h.cp.spawn('/etc/hostname'), 'eacces-file');
    await order(h.cp.spawn('/tmp'), 'eacces-dir');
    const c = h.cp.spawn('/nonexistent/prog', ['x']);
    h.record('enoent sync', c.pid, c.exitCode, !!c.stdin, !!c.stdout, c.stdio.length);
    await h.watch(c, 'enoent-watch');
    h.record('enoent after', c.pid, c.exitCode, c.signalCode, c.killed, c.stdin.destroyed, c.stdout.destroyed);
  });
});

test("'close' waits for every stdio stream: a grandchild holding stdout delays it", () => {
  differential(async (h) => {
    // sh exits at once; the background subshell keeps stdout open until we close fd 3, which we
    // do only once 'exit' has been seen (so the order does not depend on timing).
    const c = h.cp.spawn('sh', ['-c', 'echo start; (cat <&3 >/dev/null; echo late) & exit 0'], {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    const seen = [];
    c.on('exit', (code) => {
      seen.push(['exit', code]);
      c.stdio[3].end();
    });
    c.stdout.on('data', (d) => seen.push(['data', String(d)]));
    // Whether stdout had closed when 'close' came: not the order of a 'close' listener on stdout,
    // because when stdout is the last stream to close, the child's own listener (added at spawn)
    // emits 'close' before ours runs, in Node as here, while stderr may close last instead.
    await new Promise((r) => c.on('close', (code) => r(seen.push(['close', code, 'stdout closed', c.stdout.closed]))));
    // The data chunk "start" may come before or after 'exit'; everything else is ordered.
    h.record(seen.filter((e) => !(e[0] === 'data' && e[1] === 'start\n')));
    h.record('start seen', seen.some((e) => e[1] === 'start\n'));
  });
});

test('kill(): names, numbers, 0, default SIGTERM, after exit, return values', () => {
  differential(async (h) => {
    const run = async (label, sig) => {
      const c = h.cp.spawn('sleep', ['10']);
      await new Promise((r) => c.on('spawn', r));
      h.record(label, 'ret', sig === undefined ? c.kill() : c.kill(sig), c.killed);
      if (sig === 0) h.record(label, 'kill 9', c.kill(9));
      await h.watch(c, label);
      h.record(label, 'fields', c.killed, c.exitCode, c.signalCode);
      h.record(label, 'after exit', c.kill(), c.kill('SIGKILL'), c.kill(0), c.killed);
    };
    await run('default');
    await run('name', 'SIGINT');
    await run('lower', 'sigusr1');
    await run('number', 15);
    await run('number kill', 9);
    await run('zero', 0);
    await run('hup', 'SIGHUP');
    // a child that handles the signal and exits by itself
    const c = h.cp.spawn('sh', ['-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.05; done']);
    await new Promise((r) => c.stdout.once('data', r));
    h.record('trapped kill', c.kill());
    await h.watch(c, 'trap');
    h.record('trap fields', c.killed, c.exitCode, c.signalCode);
  });
});

test('kill() of a child killed by someone else, and a self-signalled child', () => {
  differential(async (h) => {
    const c = h.cp.spawn('sh', ['-c', 'kill -USR2 $$']);
    await h.watch(c);
    h.record('self', c.killed, c.exitCode, c.signalCode);
    const d = h.cp.spawn('sleep', ['10']);
    await new Promise((r) => d.on('spawn', r));
    process.kill(d.pid, 'SIGKILL');
    await h.watch(d, 'external');
    h.record('external', d.killed, d.exitCode, d.signalCode);
  });
});

test('Symbol.dispose kills a running child once; ref() and unref() exist and return undefined', () => {
  differential(async (h) => {
    const c = h.cp.spawn('sleep', ['10']);
    h.record('has dispose', typeof c[Symbol.dispose]);
    h.record('unref', c.unref(), 'ref', c.ref());
    c[Symbol.dispose]();
    h.record('killed', c.killed);
    c[Symbol.dispose]();
    await h.watch(c);
    h.record('after', c.signalCode);
    c[Symbol.dispose]();
    h.record('ref after exit', c.ref(), c.unref());
  });
});

test("an 'error' from kill() with EPERM-free path; 'error' listener absent for ENOENT throws", () => {
  differential(async (h) => {
    // Without an 'error' listener the ENOENT error becomes an uncaught exception.
    const err = await new Promise((resolve) => {
      process.once('uncaughtException', resolve);
      h.cp.spawn('no-such-program-cprs-2');
    });
    h.record('uncaught', h.errorShape(err));
  });
});
