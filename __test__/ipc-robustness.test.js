'use strict';
// A child that breaks the IPC protocol must not crash, hang or bloat the parent. Node itself throws
// from its read callback here (an uncaught exception), so there is no oracle for these cases:
// we expect the frames before the bad one to be delivered, then an 'error' event (or a warning
// when nobody listens), 'disconnect' and 'close'. Every case runs in its own process with a
// timeout. The children are not Node: shells writing raw bytes to the channel (fd 3).
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { runScript, differentialScript, ROOT } = require('./helpers/script');

// A parent that spawns `sh -c <script>` with the channel on fd 3 and prints what happens.
function parent(shellScript, { serialization = 'json', listenError = true } = {}) {
  return `
    const c = cp.spawn('sh', ['-c', ${JSON.stringify(shellScript)}], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: ${JSON.stringify(serialization)},
    });
    const out = (...a) => console.log(JSON.stringify(a));
    c.on('message', (m) => out('message', m));
    ${listenError ? "c.on('error', (e) => out('error', e.name, e.code ?? null, e.message.split('\\n')[0]));" : ''}
    c.on('disconnect', () => out('disconnect', c.connected));
    c.on('exit', (code, signal) => out('exit', code, signal));
    c.on('close', () => out('close'));
    process.on('warning', (w) => out('warning', w.name));
  `;
}

function lines(stdout) {
  return stdout.trim().split('\n').map((l) => JSON.parse(l));
}

test('json: invalid JSON after good messages', () => {
  const r = runScript(parent(`printf '{"a":1}\\n"two"\\nnot json\\n{"never":1}\\n' >&3; sleep 1`), ROOT);
  assert.equal(r.status, 0, r.stderr);
  const events = lines(r.stdout);
  assert.deepEqual(events.slice(0, 4), [
    ['message', { a: 1 }],
    ['message', 'two'],
    ['error', 'SyntaxError', null, events[2][3]],
    ['disconnect', false],
  ]);
  assert.match(events[2][3], /JSON/);
  assert.ok(!events.some((e) => e[0] === 'message' && e[1].never), 'nothing after the bad frame');
  assert.deepEqual(events.slice(-1), [['close']]);
});

test('json: nobody listens for errors: a warning, not a crash', () => {
  const r = runScript(parent(`printf 'garbage\\n' >&3`, { listenError: false }), ROOT);
  assert.equal(r.status, 0, r.stderr);
  const events = lines(r.stdout);
  assert.deepEqual(events.filter((e) => e[0] === 'warning'), [['warning', 'IpcProtocolWarning']]);
  assert.ok(events.some((e) => e[0] === 'close'));
});

test('advanced: a huge length prefix is refused before anything is buffered', () => {
  const r = runScript(parent(`printf '\\377\\377\\377\\360' >&3; sleep 5`, { serialization: 'advanced' }) +
    `c.on('disconnect', () => { out('rss under 200 MB', process.memoryUsage().rss < 200 * 1024 * 1024); c.kill(); });`,
  ROOT);
  assert.equal(r.status, 0, r.stderr);
  const events = lines(r.stdout);
  const error = events.find((e) => e[0] === 'error');
  assert.deepEqual(error.slice(0, 3), ['error', 'RangeError', 'ERR_IPC_MESSAGE_TOO_LARGE']);
  assert.ok(events.some((e) => e[0] === 'rss under 200 MB' && e[1] === true));
  assert.deepEqual(events.slice(-2), [['exit', null, 'SIGTERM'], ['close']]);
});

test('advanced: a frame that does not deserialize', () => {
  const r = runScript(parent(`printf '\\000\\000\\000\\003\\377\\017X' >&3`, { serialization: 'advanced' }), ROOT);
  assert.equal(r.status, 0, r.stderr);
  const events = lines(r.stdout);
  assert.equal(events.filter((e) => e[0] === 'error').length, 1);
  assert.ok(events.some((e) => e[0] === 'close'));
});

for (const serialization of ['json', 'advanced']) {
  test(`${serialization}: a flood of random bytes`, () => {
    const r = runScript(parent('head -c 20000000 /dev/urandom >&3', { serialization }) +
      `c.on('close', () => out('rss under 300 MB', process.memoryUsage().rss < 300 * 1024 * 1024));`, ROOT);
    assert.equal(r.status, 0, r.stderr);
    const events = lines(r.stdout);
    assert.ok(events.some((e) => e[0] === 'close'));
    assert.ok(events.some((e) => e[0] === 'rss under 300 MB' && e[1] === true));
  });
}

test('json: a line that never ends is dropped at EOF without an error', () => {
  const r = runScript(parent(`head -c 5000000 /dev/zero | tr '\\0' 'a' >&3`), ROOT);
  assert.equal(r.status, 0, r.stderr);
  const events = lines(r.stdout);
  assert.ok(!events.some((e) => e[0] === 'error' || e[0] === 'message'));
  assert.ok(events.some((e) => e[0] === 'close'));
});

test('json: invalid UTF-8 inside a valid line decodes as Node decodes it', () => {
  // Only the channel's events are compared: when the child writes and exits at once, under load
  // its 'exit' may still come before them here (see the report of the IPC work).
  differentialScript(parent(`printf '"a\\377b\\300\\200c"\\n{"k\\351":"\\342\\202"}\\n' >&3`) +
    `c.removeAllListeners('exit'); c.removeAllListeners('close');`);
});
