'use strict';
// fork() and the IPC channel against node:child_process, with unmodified Node children
// (__test__/fixtures/ipc-child.js uses only Node's own process.send / process.on('message')).
// Ports of Node's test-child-process-fork*.js, -send-*.js, -ipc*.js and -disconnect.js cases.
const { test } = require('node:test');
const { differential } = require('./helpers/differential');

for (const serialization of ['json', 'advanced']) {
  test(`${serialization}: messages both ways, event order, channel fields`, () => {
    differential(async (h) => {
      const serialization = process.env.SERIALIZATION;
      const c = h.cp.fork(h.fixture('ipc-child.js'), ['echo'], { serialization });
      h.record('connected', c.connected, typeof c.send, typeof c.disconnect);
      const ch = c.channel;
      h.record('channel', typeof ch.ref, typeof ch.unref, typeof ch.refCounted, typeof ch.unrefCounted,
               typeof ch.fd, ch.fd > 2, ch === c.channel);
      const values = ['', 'plain', 'new\nline "quoted" \\ \u2028 é € 𝄞', 0, -1.5, 2 ** 53, true, false, null,
        [], {}, [1, 'two', [3, { four: 4 }]], { a: { b: { c: [null, true] } }, 'x y': 1, 10: 'ten' }];
      const got = [];
      c.on('message', (m, handle) => got.push([m, handle]));
      const returns = values.map((v) => c.send(v));
      await new Promise((resolve) => {
        const check = () => (got.length === values.length ? resolve() : setTimeout(check, 5));
        check();
      });
      h.record('returns', returns);
      h.record('echoed', got);
      c.disconnect();
      h.record('after disconnect', c.connected, c.channel);
      await new Promise((resolve) => c.on('exit', resolve));
    }, { env: { SERIALIZATION: serialization } });
  });

  test(`${serialization}: the child sends many messages and leaves at once: none is lost`, () => {
    differential(async (h) => {
      const serialization = process.env.SERIALIZATION;
      const c = h.cp.fork(h.fixture('ipc-child.js'), ['burst', '3000', '100'], { serialization });
      let count = 0;
      let inOrder = true;
      c.on('message', (m) => {
        if (m.i !== count) inOrder = false;
        count++;
      });
      await h.watch(c);
      h.record('received', count, inOrder, c.connected);
      const d = h.cp.fork(h.fixture('ipc-child.js'), ['burst-exit', '2000'], { serialization });
      let n = 0;
      d.on('message', () => n++);
      await h.watch(d, 'burst-exit');
      h.record('received after exit', n);
    }, { env: { SERIALIZATION: serialization } });
  });

  test(`${serialization}: large messages both ways`, () => {
    differential(async (h) => {
      const serialization = process.env.SERIALIZATION;
      const c = h.cp.fork(h.fixture('ipc-child.js'), ['echo'], { serialization });
      const big = 'x'.repeat(8 * 1024 * 1024) + '€';
      const arr = Array.from({ length: 20000 }, (_, i) => ({ i, s: String(i) }));
      const returns = [c.send(big), c.send(arr), c.send('small')];
      const got = [];
      await new Promise((resolve) => c.on('message', (m) => got.push(m) === 3 && resolve()));
      h.record('returns', returns);
      h.record('sizes', got[0].length, got[0] === big, got[1].length, JSON.stringify(got[1]) === JSON.stringify(arr), got[2]);
      c.disconnect();
      await new Promise((resolve) => c.on('exit', resolve));
    }, { env: { SERIALIZATION: serialization } });
  });
}

test('advanced: what the child decodes, for the types advanced serialization carries', () => {
  differential(async (h) => {
    const c = h.cp.fork(h.fixture('ipc-child.js'), ['describe'], { serialization: 'advanced' });
    const circular = { name: 'root', list: [] };
    circular.self = circular;
    circular.list.push(circular, { back: circular });
    const shared = { shared: true };
    const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const extra = [1, 2];
    extra.prop = 'x';
    class Point {
      constructor() {
        this.x = 1;
        this.y = 2;
      }
    }
    const values = [
      Buffer.from('buffer bytes'), new Uint8Array([1, 2, 3]), new Float64Array([1.5, -0, NaN]),
      new Int32Array(new ArrayBuffer(16), 4, 2), new DataView(new ArrayBuffer(4)),
      new Map([[1, 'one'], ['two', { 2: 2 }]]), new Set([1, 'a', null]), new Date(86400000),
      { big: 123456789012345678901234567890n, neg: -1n }, circular, [shared, shared, { shared }],
      sparse, extra, new Point(), Object.create(null), /re/gi, new Error('boom'),
      { undef: undefined, neg0: -0, nan: NaN, inf: -Infinity, big: 2 ** 31, small: -(2 ** 31), str: '\u0000\u00ff' },
      [1.5, 2, 3.25], { 0: 'a', 4294967294: 'b', 4294967295: 'c', 2147483648: 'd', name: 'e' },
      'Ω two-byte string with € and 𝄞', 'x'.repeat(70000), new Array(3).fill(7),
      [new Boolean(false), new Number(3), new String('s')],
    ];
    const got = [];
    c.on('message', (m) => got.push(m));
    for (const v of values) c.send(v);
    await new Promise((resolve) => {
      const check = () => (got.length === values.length ? resolve() : setTimeout(check, 5));
      check();
    });
    h.record('decoded by the child', got);
    c.disconnect();
    await new Promise((resolve) => c.on('exit', resolve));
  });
});

test('advanced: what the parent decodes from the child', () => {
  differential(async (h) => {
    const c = h.cp.fork(h.fixture('ipc-child.js'), ['echo'], { serialization: 'advanced' });
    const util = h.require('node:util');
    const values = [Buffer.from('abc'), new Map([[1, new Set([2])]]), new Date(0), [5n], { a: [1, { b: 2 }] },
      new Uint16Array([1, 2, 3]), 'é€𝄞'];
    const got = [];
    c.on('message', (m) => got.push(util.inspect(m, { depth: Infinity, sorted: true }) +
      ` ${Buffer.isBuffer(m)} ${m?.constructor?.name}`));
    for (const v of values) c.send(v);
    await new Promise((resolve) => {
      const check = () => (got.length === values.length ? resolve() : setTimeout(check, 5));
      check();
    });
    h.record('decoded by the parent', got);
    c.disconnect();
    await new Promise((resolve) => c.on('exit', resolve));
  });
});

test('send(): argument validation and errors that throw', () => {
  differential(async (h) => {
    const c = h.cp.fork(h.fixture('ipc-child.js'), ['hold']);
    h.throws('undefined message', () => c.send(undefined));
    h.throws('no message', () => c.send());
    h.throws('symbol', () => c.send(Symbol('s')));
    h.throws('function', () => c.send(() => {}));
    h.throws('bigint', () => c.send(1n));
    h.throws('bad handle', () => c.send('x', {}));
    h.throws('bad handle string', () => c.send('x', 'handle'));
    h.throws('bad options', () => c.send('x', null, 'options'));
    h.throws('bad options number', () => c.send('x', undefined, 42));
    h.throws('circular json', () => {
      const o = {};
      o.o = o;
      c.send(o);
    });
    h.record('still connected', c.connected);
    const d = h.cp.fork(h.fixture('ipc-child.js'), ['hold'], { serialization: 'advanced' });
    h.throws('advanced function', () => d.send({ f() {} }));
    h.throws('advanced symbol', () => d.send({ s: Symbol('x') }));
    h.throws('advanced bigint ok', () => d.send(1n));
    c.disconnect();
    d.disconnect();
    await Promise.all([c, d].map((x) => new Promise((resolve) => x.on('exit', resolve))));
  });
});

test('send() callbacks in order; errors after disconnect; disconnect twice', () => {
  differential(async (h) => {
    const c = h.cp.fork(h.fixture('ipc-child.js'), ['hold']);
    const order = [];
    const big = 'y'.repeat(300000);
    for (let i = 0; i < 50; i++) c.send(i % 10 === 0 ? big : { i }, (err) => order.push([i, err]));
    await new Promise((resolve) => c.send('last', () => resolve()));
    h.record('callback order', order.map(([i]) => i).join(','), order.every(([, err]) => err === null));
    const errors = [];
    c.on('error', (e) => errors.push(['error event', h.errorShape(e)]));
    c.on('disconnect', () => h.record('disconnect event', c.connected));
    c.disconnect();
    h.record('send after disconnect returns', c.send('x'));
    await new Promise((resolve) => c.send('y', (err) => {
      errors.push(['callback', h.errorShape(err)]);
      resolve();
    }));
    c.disconnect();
    await new Promise((resolve) => setImmediate(resolve));
    h.record('errors', errors);
    await new Promise((resolve) => c.on('exit', resolve));
  });
});

test('messages wait for a listener; internal messages go to internalMessage', () => {
  differential(async (h) => {
    const c = h.cp.fork(h.fixture('ipc-child.js'), ['burst', '5', '1']);
    const internal = [];
    c.on('internalMessage', (m) => internal.push(m));
    // No 'message' listener while the child sends and exits.
    await new Promise((resolve) => c.on('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const got = [];
    c.on('message', (m) => got.push(m));
    await new Promise((resolve) => setImmediate(resolve));
    h.record('queued messages', got, 'internal', internal);
    const d = h.cp.fork(h.fixture('ipc-child.js'), ['internal']);
    const both = [];
    d.on('message', (m) => both.push(['message', m]));
    d.on('internalMessage', (m) => both.push(['internalMessage', m]));
    await h.watch(d);
    h.record('internal', both);
  });
});

test('the child disconnects; the parent disconnects', () => {
  differential(async (h) => {
    const c = h.cp.fork(h.fixture('ipc-child.js'), ['disconnect']);
    c.send('please');
    c.on('disconnect', () => h.record('child side disconnect seen', c.connected, c.channel));
    await h.watch(c);
    // After the parent disconnects, Node never emits 'close' for the child (the channel is not
    // counted closed): only 'exit'.
    const d = h.cp.fork(h.fixture('ipc-child.js'), ['hold']);
    const events = [];
    for (const e of ['disconnect', 'exit', 'close']) d.on(e, () => events.push(e));
    await new Promise((resolve) => d.on('spawn', resolve));
    d.disconnect();
    h.record('parent disconnected', d.connected, d.channel);
    await new Promise((resolve) => d.on('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    h.record('events', events);
  });
});

test('fork options: args, execArgv, execPath, cwd, env, silent, stdio, serialization', () => {
  differential(async (h) => {
    const os = h.require('node:os');
    const info = async (label, args, options) => {
      // args === null: fork's "no args" form; the child then takes its mode from the env.
      const c = h.cp.fork(h.fixture('ipc-child.js'), args === null ? null : ['info', ...args], options);
      const msg = new Promise((resolve) => c.once('message', resolve));
      const done = h.watch(c, label);
      const m = await msg;
      await done;
      h.record(label, m, c.stdin === null, c.stdout === null, c.spawnargs.length);
    };
    await info('defaults', ['a', 'b'], undefined);
    await info('args null, options', null, { env: { ...process.env, FOO: 'bar', IPC_CHILD_MODE: 'info' } });
    await info('execArgv', [], { execArgv: ['--no-warnings', '--max-old-space-size=100'] });
    await info('execPath', [], { execPath: process.execPath, cwd: os.tmpdir() });
    await info('silent', [], { silent: true });
    await info('stdio string', [], { stdio: 'pipe' });
    await info('stdio ignore', [], { stdio: 'ignore' });
    await info('stdio array', [], { stdio: ['pipe', 'ignore', 'inherit', 'ipc'] });
    await info('ipc at 1', [], { stdio: ['ignore', 'ipc', 'inherit'] });
    await info('advanced', [], { serialization: 'advanced' });
    await info('url', [], undefined);
    const url = h.require('node:url').pathToFileURL(h.fixture('ipc-child.js'));
    const c = h.cp.fork(url, ['info']);
    h.record('url message', (await new Promise((resolve) => c.once('message', resolve))).argv);
    await h.watch(c, 'url');
  });
});

test('fork argument validation (test-child-process-fork-args.js)', () => {
  differential(async (h) => {
    const file = h.fixture('ipc-child.js');
    for (const modulePath of [0, true, undefined, null, [], {}, () => {}, Symbol('t'), 'a\u0000b', Buffer.from('a\u0000')]) {
      h.throws(`modulePath ${typeof modulePath}`, () => h.cp.fork(modulePath));
    }
    for (const arg of [0, true, () => {}, Symbol('t'), 'string']) {
      h.throws(`args ${typeof arg}`, () => h.cp.fork(file, arg));
    }
    for (const arg of [0, true, () => {}, Symbol('t'), 'string', []]) {
      h.throws(`options ${typeof arg}`, () => h.cp.fork(file, [], arg));
    }
    h.throws('no ipc in stdio', () => h.cp.fork(file, [], { stdio: ['pipe', 'pipe', 'pipe'] }));
    h.throws('two ipc', () => h.cp.fork(file, [], { stdio: ['ipc', 'pipe', 'pipe', 'ipc'] }));
    h.throws('bad stdio string', () => h.cp.fork(file, [], { stdio: 'bogus' }));
    h.throws('bad serialization', () => h.cp.fork(file, [], { serialization: 'xml' }));
    h.throws('execPath NUL', () => h.cp.fork(file, [], { execPath: 'no\u0000de' }));
    h.throws('execArgv NUL', () => h.cp.fork(file, [], { execArgv: ['--a\u0000'] }));
    h.throws('args NUL', () => h.cp.fork(file, ['a\u0000']));
    h.throws('bad timeout', () => h.cp.fork(file, [], { timeout: -1 }));
    h.throws('bad killSignal', () => h.cp.fork(file, [], { killSignal: 'SIGNOPE' }));
    h.throws('bad signal', () => h.cp.fork(file, [], { signal: 'abort' }));
    h.throws('bad cwd', () => h.cp.fork(file, [], { cwd: 42 }));
    h.throws('bad uid', () => h.cp.fork(file, [], { uid: 'root' }));
    // A missing execPath is an async ENOENT, with the IPC channel set up and then closed.
    const c = h.cp.fork(file, ['hold'], { execPath: '/nonexistent/node' });
    h.record('enoent', c.connected, typeof c.send, c.pid);
    c.on('disconnect', () => h.record('enoent disconnect'));
    await h.watch(c, 'enoent');
  });
});

test('fork timeout, killSignal and AbortSignal', () => {
  differential(async (h) => {
    const c = h.cp.fork(h.fixture('ipc-child.js'), ['hold'], { timeout: 200, killSignal: 'SIGKILL' });
    await h.watch(c, 'timeout');
    h.record('killed', c.killed, c.signalCode);
    const ac = new AbortController();
    const d = h.cp.fork(h.fixture('ipc-child.js'), ['hold'], { signal: ac.signal });
    d.on('spawn', () => ac.abort());
    await h.watch(d, 'abort');
    const pre = AbortSignal.abort();
    const e = h.cp.fork(h.fixture('ipc-child.js'), ['hold'], { signal: pre, killSignal: 'SIGINT' });
    await h.watch(e, 'pre-aborted');
  });
});

test('spawn() with an ipc slot talks to a Node child too', () => {
  differential(async (h) => {
    const c = h.cp.spawn(process.execPath, [h.fixture('ipc-child.js'), 'info'], {
      stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const m = await new Promise((resolve) => c.once('message', resolve));
    h.record('message', m.channelEnv, m.serializationEnv, m.argv);
    h.record('stdio', c.stdio.map((s) => s === null));
    await h.watch(c);
  });
});

test('send() return value and the handle queue (test-child-process-send-returns-boolean.js)', () => {
  differential(async (h) => {
    const net = h.require('node:net');
    const n = h.cp.fork(h.fixture('ipc-child.js'), ['hold']);
    h.record('small', n.send({ hello: 'world' }));
    // Over the socket buffer: the rest is queued and send() asks to stop.
    h.record('huge', n.send('z'.repeat(4 * 1024 * 1024)), n.send('after huge'));
    await new Promise((resolve) => n.send('done', resolve));
    h.record('drained', n.send('again'));
    n.disconnect();
    const s = h.cp.spawn(process.execPath, [h.fixture('ipc-child.js'), 'hold'], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'] });
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const handle = server._handle;
    h.record('handles', s.send('one', handle), s.send('two', handle), s.send('three'), s.send('four'));
    s.disconnect();
    await Promise.all([n, s].map((x) => new Promise((resolve) => x.on('exit', resolve))));
    server.close();
  });
});

test('channel fields after the end; _channel is deprecated', () => {
  differential(async (h) => {
    const warnings = [];
    process.on('warning', (w) => warnings.push([w.name, w.code, w.message]));
    const c = h.cp.fork(h.fixture('ipc-child.js'), ['burst', '1', '1']);
    h.record('_channel is channel', c._channel === c.channel);
    const ch = c.channel;
    c.on('message', () => {});
    await h.watch(c);
    h.record('after', c.channel, c.connected, typeof ch.fd, ch.fd);
    ch.ref();
    ch.unref();
    ch.refCounted();
    ch.unrefCounted();
    await new Promise((resolve) => setImmediate(resolve));
    h.record('warnings', warnings);
  });
});
