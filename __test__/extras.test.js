'use strict';
// The extras this module adds to Node's API. Node has none of them, so there is no oracle here;
// what each promises is checked against the OS (/proc) directly.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const cp = require('..');

function alive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\S+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

async function waitFor(cond, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

// Starts `sh -c script` and resolves with the child once it has printed `lines` lines.
function startPrinting(script, lines, options) {
  const child = cp.spawn('sh', ['-c', script], options);
  let out = '';
  return new Promise((resolve) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.split('\n').length > lines) resolve({ child, pids: out.trim().split('\n').map(Number) });
    });
  });
}

test('killTree signals the child and every descendant, even one in its own session', async () => {
  const { child, pids } = await startPrinting('sleep 30 & echo $!; setsid sleep 30 & echo $!; wait', 2);
  assert.ok(pids.every(alive));
  assert.equal(child.killTree(), true);
  const [, signal] = await new Promise((r) => child.on('exit', (...a) => r(a)));
  assert.equal(signal, 'SIGTERM');
  assert.ok(await waitFor(() => !pids.some(alive)), `survivors: ${pids.filter(alive)}`);
  assert.equal(child.killTree(), false, 'after exit it is a no-op, like kill()');
});

test('kill() alone leaves the grandchildren running (the reason killTree exists)', async () => {
  const { child, pids } = await startPrinting('sleep 30 & echo $!; wait', 1);
  child.kill();
  await new Promise((r) => child.on('exit', r));
  assert.ok(alive(pids[0]));
  process.kill(pids[0], 'SIGKILL');
});

test('killEscalationDelay escalates to SIGKILL when the signal is ignored', async () => {
  const script = 'trap "" TERM; echo ready; while :; do sleep 0.05; done';
  const { child } = await startPrinting(script, 1, { killEscalationDelay: 100 });
  assert.equal(child.kill('SIGTERM'), true);
  const [code, signal] = await new Promise((r) => child.on('exit', (...a) => r(a)));
  assert.deepEqual([code, signal], [null, 'SIGKILL']);
});

test('without killEscalationDelay an ignored SIGTERM is just ignored, as in Node', async () => {
  const script = 'trap "" TERM; echo ready; while :; do sleep 0.05; done';
  const { child } = await startPrinting(script, 1);
  child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(child.exitCode, null);
  assert.equal(child.signalCode, null);
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
});

test('killOnParentExit: the child dies with its parent process', () => {
  const parent = `
    const cp = require(${JSON.stringify(require.resolve('..'))});
    const a = cp.spawn('sleep', ['30'], { killOnParentExit: true, stdio: 'ignore' });
    const b = cp.spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
    console.log(a.pid + ' ' + b.pid);
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['-e', parent], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 0, r.stderr);
  const [withOption, without] = r.stdout.trim().split(' ').map(Number);
  return waitFor(() => !alive(withOption)).then((gone) => {
    const survived = alive(without);
    if (survived) process.kill(without, 'SIGKILL');
    assert.ok(gone, 'the killOnParentExit child outlived its parent');
    assert.ok(survived, 'a plain child must outlive its parent, as in Node');
  });
});

test('resourceUsage() is undefined before exit and rusage-shaped after', async () => {
  const child = cp.spawn('sh', ['-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done']);
  assert.equal(child.resourceUsage(), undefined);
  await new Promise((r) => child.on('exit', r));
  const u = child.resourceUsage();
  for (const key of ['userCPUTime', 'systemCPUTime', 'maxRSS', 'minorPageFault', 'majorPageFault', 'fsRead',
    'fsWrite', 'voluntaryContextSwitches', 'involuntaryContextSwitches']) {
    assert.equal(typeof u[key], 'number', key);
  }
  assert.ok(u.userCPUTime + u.systemCPUTime > 0);
});

test('exited resolves with the exit and rejects on a spawn error', async () => {
  assert.deepEqual(await cp.spawn('sh', ['-c', 'exit 5']).exited, { exitCode: 5, signalCode: null });
  const done = cp.spawn('true');
  await new Promise((r) => done.on('exit', r));
  assert.deepEqual(await done.exited, { exitCode: 0, signalCode: null }, 'also when asked after exit');
  await assert.rejects(cp.spawn('no-such-program-cprs').exited, { code: 'ENOENT' });
});

test('extra options are validated with Node-style errors', () => {
  assert.throws(() => cp.spawn('true', { killEscalationDelay: 'x' }), { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
  assert.throws(() => cp.spawn('true', { killEscalationDelay: -1 }), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
  assert.throws(() => cp.spawn('true', { killOnParentExit: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(() => cp.spawn('true').killTree('SIGNOPE'), { code: 'ERR_UNKNOWN_SIGNAL' });
});
