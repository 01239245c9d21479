'use strict';
// Handle passing (SCM_RIGHTS) against node:child_process, both directions, with unmodified Node
// children (__test__/fixtures/ipc-handles.js). Ports of test-child-process-fork-net*.js,
// -fork-dgram.js, -fork-getconnections.js, -send-keep-open.js and a cluster-style server.
const { test } = require('node:test');
const { differential } = require('./helpers/differential');

// Scenario helpers travel as source: each scenario defines what it needs from `h`.
for (const serialization of ['json', 'advanced']) {
  test(`${serialization}: parent sends a net.Server, a raw TCP handle and a dgram socket`, () => {
    differential(async (h) => {
      const net = h.require('node:net');
      const dgram = h.require('node:dgram');
      const c = h.cp.fork(h.fixture('ipc-handles.js'), ['recv'], { serialization: process.env.SERIALIZATION });
      const next = () => new Promise((resolve) => c.once('message', resolve));
      const fetch = (port) => new Promise((resolve, reject) => {
        let data = '';
        net.connect(port, '127.0.0.1').on('data', (d) => (data += d)).on('end', () => resolve(data)).on('error', reject);
      });

      const server = net.createServer(() => h.record('parent accepted: wrong'));
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address();
      const sent = new Promise((resolve) => h.record('send server returns', c.send('srv', server, resolve)));
      h.record('handle queue while unacked', Array.isArray(c._handleQueue));
      await sent;
      h.record('report', await next());
      await new Promise((resolve) => server.close(resolve));
      h.record('served', await fetch(port));
      h.record('handle queue after ack', c._handleQueue);

      const raw = net.createServer();
      await new Promise((resolve) => raw.listen(0, '127.0.0.1', resolve));
      c.send('native', raw._handle);
      h.record('native report', await next());
      const rawPort = raw.address().port;
      raw.close();
      h.record('native served', await fetch(rawPort));

      const udp = dgram.createSocket('udp4');
      await new Promise((resolve) => udp.bind(0, '127.0.0.1', resolve));
      c.send('dgram', udp);
      h.record('dgram report', await next());
      const udpPort = udp.address().port;
      udp.close();
      const out = dgram.createSocket('udp4');
      out.send('datagram from parent', udpPort, '127.0.0.1');
      h.record('dgram received', await next());
      out.close();

      const raw2 = dgram.createSocket('udp4');
      await new Promise((resolve) => raw2.bind(0, '127.0.0.1', resolve));
      const state = Object.getOwnPropertySymbols(raw2).find((s) => s.description === 'state symbol');
      c.send('udp native', raw2[state].handle);
      h.record('udp native report', await next());
      raw2.close();

      c.disconnect();
      await new Promise((resolve) => c.on('exit', resolve));
    }, { env: { SERIALIZATION: serialization } });
  });

  test(`${serialization}: parent sends accepted sockets, with and without keepOpen`, () => {
    differential(async (h) => {
      const net = h.require('node:net');
      const c = h.cp.fork(h.fixture('ipc-handles.js'), ['recv'], { serialization: process.env.SERIALIZATION });
      const reports = [];
      c.on('message', (m) => reports.push(m));
      const server = net.createServer();
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address();
      const results = [];
      for (const keepOpen of [false, true]) {
        const accepted = new Promise((resolve) => server.once('connection', resolve));
        const client = net.connect(port, '127.0.0.1');
        let data = '';
        client.on('data', (d) => (data += d));
        const ended = new Promise((resolve) => client.on('end', resolve));
        const sock = await accepted;
        await new Promise((resolve) => c.send(`keepOpen=${keepOpen}`, sock, { keepOpen }, resolve));
        await ended;
        results.push([keepOpen, data, sock._handle === null, sock.destroyed]);
        client.destroy();
        if (keepOpen) sock.destroy();
      }
      h.record('results', results);
      // The sockets were sent with the server's key: the server asks the child for its count
      // (how many are still open there is a race, so only the answer's shape is compared).
      const count = await new Promise((resolve) => server.getConnections((err, n) => resolve([err, typeof n])));
      h.record('getConnections', count);
      await new Promise((resolve) => server.close(resolve));
      h.record('reports', reports);
      c.disconnect();
      await new Promise((resolve) => c.on('exit', resolve));
    }, { env: { SERIALIZATION: serialization } });
  });

  test(`${serialization}: the child sends a net.Server, a socket and a dgram socket`, () => {
    differential(async (h) => {
      const net = h.require('node:net');
      const dgram = h.require('node:dgram');
      const serialization = process.env.SERIALIZATION;
      const kind = (x) => (x instanceof net.Server ? 'net.Server' : x instanceof net.Socket ? 'net.Socket'
        : x instanceof dgram.Socket ? 'dgram.Socket' : typeof x);

      const exited = (x) => new Promise((resolve) => x.on('exit', resolve));
      const a = h.cp.fork(h.fixture('ipc-handles.js'), ['send-server'], { serialization });
      const aExit = exited(a);
      const [m, server] = await new Promise((resolve) => a.once('message', (...args) => resolve(args)));
      h.record('server', typeof m.port, kind(server), server.listening, server.address().port === m.port);
      server.on('connection', (s) => s.end('parent served'));
      // The child closes its copy once sent; every connection now reaches the parent.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const reply = await new Promise((resolve) => {
        let data = '';
        net.connect(m.port, '127.0.0.1').on('data', (d) => (data += d)).on('end', () => resolve(data));
      });
      h.record('reply', reply);
      server.close();
      a.disconnect();

      const b = h.cp.fork(h.fixture('ipc-handles.js'), ['send-socket'], { serialization });
      const bExit = exited(b);
      const [what, sock] = await new Promise((resolve) => b.once('message', (...args) => resolve(args)));
      h.record('socket', what, kind(sock), sock.readable, sock.writable);
      sock.end('hello from parent');
      h.record('child client got', await new Promise((resolve) => b.once('message', resolve)));

      const d = h.cp.fork(h.fixture('ipc-handles.js'), ['send-dgram'], { serialization });
      const dExit = exited(d);
      const [info, udp] = await new Promise((resolve) => d.once('message', (...args) => resolve(args)));
      h.record('dgram', typeof info.port, kind(udp), udp.type, udp.address().port === info.port);
      const datagram = new Promise((resolve) => udp.once('message', (buf) => resolve(buf.toString())));
      d.send('go');
      h.record('datagram', await datagram);
      udp.close();
      d.disconnect();
      await Promise.all([aExit, bExit, dExit]);
    }, { env: { SERIALIZATION: serialization } });
  });
}

test('handles queue behind the one in flight, in order', () => {
  differential(async (h) => {
    const net = h.require('node:net');
    const c = h.cp.fork(h.fixture('ipc-handles.js'), ['recv']);
    const got = [];
    c.on('message', (m) => got.push(m.m ?? m));
    const servers = [];
    for (let i = 0; i < 3; i++) {
      const s = net.createServer();
      await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
      servers.push(s);
    }
    const returns = [
      c.send('h0', servers[0]), c.send('m1'), c.send('h1', servers[1]), c.send('m2'), c.send('h2', servers[2]),
    ];
    const callbacks = [];
    c.send('last', () => callbacks.push('last'));
    await new Promise((resolve) => {
      const check = () => (got.length === 6 ? resolve() : setTimeout(check, 5));
      check();
    });
    h.record('returns', returns, 'order', got, callbacks);
    for (const s of servers) s.close();
    c.disconnect();
    await new Promise((resolve) => c.on('exit', resolve));
  });
});

test('a peer that answers NODE_HANDLE_NACK: retransmitted three times, then a warning', () => {
  differential(async (h) => {
    const net = h.require('node:net');
    const warnings = [];
    process.on('warning', (w) => warnings.push([w.name, w.message]));
    // Not a Node child: a shell that NACKs every NODE_HANDLE it reads on fd 3.
    const script = 'n=0; while read line <&3; do case "$line" in *NODE_HANDLE*) n=$((n+1)); ' +
      'printf \'{"cmd":"NODE_HANDLE_NACK"}\\n\' >&3;; esac; done; echo "handles seen: $n"';
    const c = h.cp.spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect(server.address().port, '127.0.0.1');
    const sock = await new Promise((resolve) => server.once('connection', resolve));
    c.send('sock', sock);
    await new Promise((resolve) => {
      const check = () => (warnings.length > 0 ? resolve() : setTimeout(check, 5));
      check();
    });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    const done = Promise.all([new Promise((resolve) => c.stdout.on('end', resolve)),
      new Promise((resolve) => c.on('exit', (...args) => resolve(args)))]);
    c.disconnect();
    client.destroy();
    server.close();
    h.record('exit', (await done)[1], 'stdout', out);
    h.record('warnings', warnings, 'pending', c._pendingMessage);
  });
});

test('a NODE_HANDLE without an fd is answered with NODE_HANDLE_NACK', () => {
  differential(async (h) => {
    const script = 'printf \'{"cmd":"NODE_HANDLE","type":"net.Server","msg":"x"}\\n\' >&3; ' +
      'read line <&3; echo "parent answered: $line"';
    const c = h.cp.spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    c.on('message', (m) => h.record('message', m));
    await h.watch(c);
  });
});

test('cluster-style: one server shared by two forked Node workers; every connection is served', () => {
  differential(async (h) => {
    const net = h.require('node:net');
    const server = net.createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address();
    const workers = [0, 1].map(() => h.cp.fork(h.fixture('ipc-handles.js'), ['worker']));
    await Promise.all(workers.map((w) => new Promise((resolve) => {
      w.once('message', resolve);
      w.send('server', server);
    })));
    // Only the workers accept from now on.
    server.close();
    const pids = new Set(workers.map((w) => w.pid));
    const request = () => new Promise((resolve, reject) => {
      let data = '';
      const s = net.connect(port, '127.0.0.1');
      s.on('data', (d) => {
        data += d;
        if (data.endsWith('\n')) {
          s.destroy();
          resolve(Number(data));
        }
      });
      s.on('error', reject);
    });
    const served = [];
    for (let round = 0; round < 4; round++) {
      served.push(...await Promise.all([request(), request(), request()]));
    }
    h.record('connections', served.length, 'all served by a worker', served.every((pid) => pids.has(pid)),
             'both workers accepted', new Set(served).size === 2);
    for (const w of workers) w.disconnect();
    await Promise.all(workers.map((w) => new Promise((resolve) => w.on('exit', resolve))));
  });
});
