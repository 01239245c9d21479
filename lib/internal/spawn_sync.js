'use strict';
// spawnSync(), execSync() and execFileSync(). The run itself (spawn, poll loop, reap) is one native
// call (src/sync.rs); this module validates the options as Node's lib/child_process.js does and
// shapes the native result into Node's `{ pid, output, stdout, stderr, status, signal, error }`,
// key order included.
const binding = require('../binding');
const { getValidStdio } = require('./child_process');
const { codes: { ERR_INVALID_ARG_TYPE }, ErrnoException, genericNodeError } = require('./errors');
const { validateMaxBuffer, validateTimeout, sanitizeKillSignal, signoString } = require('./validators');
const { MAX_BUFFER, normalizeExecArgs, normalizeExecFileArgs } = require('./exec');

// lib/child_process.js owns normalizeSpawnArguments and requires this module before it is
// defined; it hands it over through link().
let normalizeSpawnArguments;
function link(normalizeSpawnArgumentsFunction) {
  normalizeSpawnArguments = normalizeSpawnArgumentsFunction;
}

/**
 * Spawns a new process synchronously using the given `file`.
 * @param {string} file
 * @param {string[]} [args]
 * @param {object} [options]
 * @returns {{ pid: number, output: Array, stdout: Buffer | string, stderr: Buffer | string,
 *   status: number | null, signal: string | null, error: Error }}
 */
function spawnSync(file, args, options) {
  options = {
    __proto__: null,
    maxBuffer: MAX_BUFFER,
    ...normalizeSpawnArguments(file, args, options),
  };

  validateTimeout(options.timeout);
  validateMaxBuffer(options.maxBuffer);
  options.killSignal = sanitizeKillSignal(options.killSignal);

  options.stdio = getValidStdio(options.stdio || 'pipe', true).stdio;

  if (options.input) {
    const stdin = options.stdio[0] = { ...options.stdio[0] };
    stdin.input = options.input;
  }

  // We may want to pass data in on any given fd, ensure it is a valid buffer
  for (let i = 0; i < options.stdio.length; i++) {
    const input = options.stdio[i] && options.stdio[i].input;
    if (input != null) {
      const pipe = options.stdio[i] = { ...options.stdio[i] };
      if (ArrayBuffer.isView(input)) {
        pipe.input = input;
      } else if (typeof input === 'string') {
        pipe.input = Buffer.from(input, options.encoding);
      } else {
        throw new ERR_INVALID_ARG_TYPE(`options.stdio[${i}]`, ['Buffer', 'TypedArray', 'DataView', 'string'], input);
      }
    }
  }

  return runSync(options);
}

// Node's internal spawnSync (lib/internal/child_process.js) on top of the native run.
function runSync(options) {
  const native = binding.spawnSync(
    {
      file: options.file,
      // Elements are ToString()ed, as the C++ side does (`spawnSync('echo', [1])` passes "1").
      args: options.args.map((a) => `${a}`),
      envPairs: options.envPairs,
      // SyncProcessRunner takes any cwd that is not null/undefined and ToString()s it, so a Buffer
      // names a directory and '' fails with ENOENT (unlike the async spawn, which skips both).
      cwd: options.cwd == null ? undefined : `${options.cwd}`,
      stdio: options.stdio.map(nativeStdio),
      detached: options.detached,
      uid: options.uid ?? undefined,
      gid: options.gid ?? undefined,
    },
    // null is as good as absent for Node (IsNullOrUndefined); napi takes only undefined.
    { timeout: options.timeout ?? undefined, killSignal: options.killSignal, maxBuffer: options.maxBuffer ?? undefined },
    stdinInput(options.stdio[0]),
  );

  // The keys in the order Node's SyncProcessRunner::BuildResultObject sets them.
  const result = {};
  if (native.error !== 0) result.error = native.error;
  result.status = native.status ?? null;
  result.signal = native.signal == null ? null : signoString(native.signal);
  result.output = native.output ?? null;
  result.pid = native.pid;

  if (result.output && options.encoding && options.encoding !== 'buffer') {
    for (let i = 0; i < result.output.length; i++) {
      if (!result.output[i]) continue;
      result.output[i] = result.output[i].toString(options.encoding);
    }
  }

  result.stdout = result.output && result.output[1];
  result.stderr = result.output && result.output[2];

  if (result.error) {
    result.error = new ErrnoException(result.error, 'spawnSync ' + options.file);
    result.error.path = options.file;
    result.error.spawnargs = options.args.slice(1);
  }

  return result;
}

// A getValidStdio entry as the native side takes it (src/binding StdioSlot).
const kPipe = { kind: 'pipe' };
const kIgnore = { kind: 'ignore' };
function nativeStdio(s) {
  if (s.type === 'pipe' || s.type === 'overlapped') return kPipe;
  if (s.type === 'ignore') return kIgnore;
  // 'inherit' and 'fd' carry the fd; a stream or handle ('wrap', which Node's sync runner cannot
  // take at all) gives its own.
  return { kind: 'fd', fd: s.type === 'wrap' ? s.handle.fd : s.fd };
}

// Only slot 0 is a pipe the child reads (getValidStdio gives pipes `readable: i === 0`), and only
// a readable pipe's input is written. Any ArrayBufferView goes to native as a byte view, no copy.
function stdinInput(stdin) {
  const input = stdin?.type === 'pipe' ? stdin.input : undefined;
  if (input == null || input instanceof Uint8Array) return input ?? undefined;
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
}

function checkExecSyncError(ret, args, cmd) {
  let err;
  if (ret.error) {
    err = ret.error;
    Object.assign(err, ret);
  } else if (ret.status !== 0) {
    let msg = 'Command failed: ';
    msg += cmd || args.join(' ');
    if (ret.stderr && ret.stderr.length > 0) msg += `\n${ret.stderr.toString()}`;
    err = genericNodeError(msg, ret);
  }
  return err;
}

/**
 * Spawns `file` synchronously and returns its stdout; throws if it fails.
 * @param {string} file
 * @param {string[]} [args]
 * @param {object} [options]
 * @returns {Buffer | string}
 */
function execFileSync(file, args, options) {
  ({ file, args, options } = normalizeExecFileArgs(file, args, options));

  const inheritStderr = !options.stdio;
  const ret = spawnSync(file, args, options);

  if (inheritStderr && ret.stderr) process.stderr.write(ret.stderr);

  const errArgs = [options.argv0 || file];
  errArgs.push(...args);
  const err = checkExecSyncError(ret, errArgs);

  if (err) throw err;

  return ret.stdout;
}

/**
 * Runs `command` in a shell synchronously and returns its stdout; throws if it fails.
 * @param {string} command
 * @param {object} [options]
 * @returns {Buffer | string}
 */
function execSync(command, options) {
  const opts = normalizeExecArgs(command, options, null);
  const inheritStderr = !opts.options.stdio;

  const ret = spawnSync(opts.file, opts.options);

  if (inheritStderr && ret.stderr) process.stderr.write(ret.stderr);

  const err = checkExecSyncError(ret, undefined, command);

  if (err) throw err;

  return ret.stdout;
}

module.exports = { execFileSync, execSync, link, spawnSync };
