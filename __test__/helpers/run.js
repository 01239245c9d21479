'use strict';
// Runs Node (or any program) in a subprocess with a timeout: for "it exits", "it doesn't crash"
// and "a fresh process with the hook loaded" properties, which must never share our process.
// Uses node:child_process, the oracle, never the module under test.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');

// Env for children without any preloaded hook inherited from the test runner.
function cleanEnv(extra) {
  const env = { ...process.env, ...extra };
  if (!extra || !('NODE_OPTIONS' in extra)) delete env.NODE_OPTIONS;
  return env;
}

function run(file, args, { cwd = ROOT, env, input, timeout = 30000 } = {}) {
  const r = spawnSync(file, args, { cwd, env: cleanEnv(env), input, encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  const where = `${file} ${args.join(' ')}`;
  if (r.error) throw new Error(`${where}: ${r.error.message}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, where };
}

// Runs node and requires a clean exit; returns stdout.
function node(args, options) {
  const r = run(process.execPath, args, options);
  if (r.status !== 0) {
    throw new Error(`${r.where} exited ${r.status} ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r.stdout;
}

// node() whose stdout is one JSON document.
function nodeJSON(args, options) {
  return JSON.parse(node(args, options));
}

module.exports = { ROOT, run, node, nodeJSON, cleanEnv };
