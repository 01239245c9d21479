'use strict';
// The public surface, mirroring Node's lib/child_process.js: argument normalisation and the
// functions users call. The machinery lives in lib/internal/.
const { ChildProcess, kInheritEnv, stdioStringToArray } = require('./internal/child_process');
const { normalizeExtraOptions, kKillEscalationDelay } = require('./internal/extras');
const { codes: { ERR_CHILD_PROCESS_IPC_REQUIRED, ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE }, AbortError } =
  require('./internal/errors');
const {
  isInt32,
  validateArray,
  validateAbortSignal,
  validateArgumentNullCheck,
  validateArgumentsNullCheck,
  validateBoolean,
  validateObject,
  validateString,
  validateTimeout,
  sanitizeKillSignal,
  getValidatedPath,
} = require('./internal/validators');

const execApi = require('./internal/exec');
const syncApi = require('./internal/spawn_sync');

const kEmptyObject = Object.freeze({ __proto__: null });

/**
 * Spawns a new Node.js process + fork.
 * @param {string|URL} modulePath
 * @param {string[]} [args]
 * @param {object} [options]
 * @returns {ChildProcess}
 */
function fork(modulePath, args = [], options) {
  modulePath = getValidatedPath(modulePath, 'modulePath');

  // Get options and args arguments.
  let execArgv;

  if (args == null) {
    args = [];
  } else if (typeof args === 'object' && !Array.isArray(args)) {
    options = args;
    args = [];
  } else {
    validateArray(args, 'args');
  }

  if (options != null) {
    validateObject(options, 'options');
  }
  options = { __proto__: null, ...options, shell: false };
  options.execPath = options.execPath || process.execPath;
  validateArgumentNullCheck(options.execPath, 'options.execPath');

  // Prepare arguments for fork:
  execArgv = options.execArgv || process.execArgv;
  validateArgumentsNullCheck(execArgv, 'options.execArgv');

  if (execArgv === process.execArgv && process._eval != null) {
    const index = execArgv.lastIndexOf(process._eval);
    if (index > 0) {
      // Remove the -e switch to avoid fork bombing ourselves.
      execArgv = execArgv.slice();
      execArgv.splice(index - 1, 2);
    }
  }

  args = [...execArgv, modulePath, ...args];

  if (typeof options.stdio === 'string') {
    options.stdio = stdioStringToArray(options.stdio, 'ipc');
  } else if (!Array.isArray(options.stdio)) {
    // Use a separate fd=3 for the IPC channel. Inherit stdin, stdout, and stderr from the parent
    // if silent isn't set.
    options.stdio = stdioStringToArray(options.silent ? 'pipe' : 'inherit', 'ipc');
  } else if (!options.stdio.includes('ipc')) {
    throw new ERR_CHILD_PROCESS_IPC_REQUIRED('options.stdio');
  }

  return spawn(options.execPath, args, options);
}

function copyProcessEnvToEnv(env, name, optionEnv) {
  if (process.env[name] && (!optionEnv || !Object.prototype.hasOwnProperty.call(optionEnv, name))) {
    env[name] = process.env[name];
  }
}

// Whether the child's environment may be taken from the C `environ` of this process instead of
// being enumerated from process.env here (see normalizeSpawnArguments). That holds on the main
// thread while no worker thread can exist: a worker's process.env is its own copy, and a worker
// with SHARE_ENV could setenv() while the native side reads environ.
let workersPossible = false;
function environIsProcessEnv() {
  if (!workersPossible) workersPossible = process.moduleLoadList.includes('NativeModule worker_threads');
  return !workersPossible;
}

// `inheritEnv`: the caller can take `envPairs: undefined` (with `[kInheritEnv]: true`) to mean
// "exactly process.env". Building the pairs costs ~25 µs in JS plus ~1 µs per variable to cross
// into native code, a tenth of a whole spawn; libuv's child inherits `environ` the same way when
// no env is given.
function normalizeSpawnArguments(file, args, options, inheritEnv = false) {
  validateString(file, 'file');
  validateArgumentNullCheck(file, 'file');

  if (file.length === 0) throw new ERR_INVALID_ARG_VALUE('file', file, 'cannot be empty');

  if (Array.isArray(args)) {
    args = args.slice();
  } else if (args == null) {
    args = [];
  } else if (typeof args !== 'object') {
    throw new ERR_INVALID_ARG_TYPE('args', 'object', args);
  } else {
    options = args;
    args = [];
  }

  validateArgumentsNullCheck(args, 'args');

  if (options === undefined) options = kEmptyObject;
  else validateObject(options, 'options');

  options = { __proto__: null, ...options };
  let cwd = options.cwd;

  if (cwd != null) cwd = getValidatedPath(cwd, 'options.cwd');

  if (options.detached != null) validateBoolean(options.detached, 'options.detached');

  if (options.uid != null && !isInt32(options.uid)) {
    throw new ERR_INVALID_ARG_TYPE('options.uid', 'int32', options.uid);
  }
  if (options.gid != null && !isInt32(options.gid)) {
    throw new ERR_INVALID_ARG_TYPE('options.gid', 'int32', options.gid);
  }

  if (options.shell != null && typeof options.shell !== 'boolean' && typeof options.shell !== 'string') {
    throw new ERR_INVALID_ARG_TYPE('options.shell', ['boolean', 'string'], options.shell);
  }

  if (options.argv0 != null) {
    validateString(options.argv0, 'options.argv0');
    validateArgumentNullCheck(options.argv0, 'options.argv0');
  }

  if (options.windowsHide != null) validateBoolean(options.windowsHide, 'options.windowsHide');

  const { windowsVerbatimArguments } = options;
  if (windowsVerbatimArguments != null) {
    validateBoolean(windowsVerbatimArguments, 'options.windowsVerbatimArguments');
  }

  if (options.shell) {
    validateArgumentNullCheck(options.shell, 'options.shell');
    const command = [file, ...args].join(' ');
    file = typeof options.shell === 'string' ? options.shell : '/bin/sh';
    args = ['-c', command];
  }

  if (typeof options.argv0 === 'string') args.unshift(options.argv0);
  else args.unshift(file);

  const env = options.env || process.env;
  let envPairs;

  if (inheritEnv && env === process.env && environIsProcessEnv()) {
    // process.env cannot hold NUL bytes (setenv() cuts at them), so there is nothing to check.
    envPairs = undefined;
  } else {
    envPairs = [];
    inheritEnv = false;

    // process.env.NODE_V8_COVERAGE always propagates, so that coverage can be collected from
    // programs spawned with a whitelisted environment.
    copyProcessEnvToEnv(env, 'NODE_V8_COVERAGE', options.env);

    // Prototype values are intentionally included.
    for (const key in env) {
      const value = env[key];
      if (value !== undefined) {
        validateArgumentNullCheck(key, `options.env['${key}']`);
        validateArgumentNullCheck(value, `options.env['${key}']`);
        envPairs.push(`${key}=${value}`);
      }
    }
  }

  return {
    // Make a shallow copy so we don't clobber the user's options object.
    __proto__: null,
    ...options,
    args,
    cwd,
    detached: !!options.detached,
    envPairs,
    [kInheritEnv]: inheritEnv,
    file,
    windowsHide: !!options.windowsHide,
    windowsVerbatimArguments: !!windowsVerbatimArguments,
  };
}

function abortChildProcess(child, killSignal, reason) {
  if (!child) return;
  try {
    if (child.kill(killSignal)) child.emit('error', new AbortError(undefined, { cause: reason }));
  } catch (err) {
    child.emit('error', err);
  }
}

/**
 * Spawns a new process using the given `file`.
 * @param {string} file
 * @param {string[]} [args]
 * @param {object} [options]
 * @returns {ChildProcess}
 */
function spawn(file, args, options) {
  options = normalizeSpawnArguments(file, args, options, true);
  validateTimeout(options.timeout);
  validateAbortSignal(options.signal, 'options.signal');
  const killSignal = sanitizeKillSignal(options.killSignal);
  const extras = normalizeExtraOptions(options);
  options.parentDeathSignal = extras.parentDeathSignal;
  const child = new ChildProcess();
  child[kKillEscalationDelay] = extras.killEscalationDelay;

  child.spawn(options);

  if (options.timeout > 0) {
    let timeoutId = setTimeout(() => {
      if (timeoutId) {
        try {
          child.kill(killSignal);
        } catch (err) {
          child.emit('error', err);
        }
        timeoutId = null;
      }
    }, options.timeout);

    child.once('exit', () => {
      if (timeoutId) {
        clearTimeout(timeoutId);
        timeoutId = null;
      }
    });
  }

  if (options.signal) {
    const signal = options.signal;
    if (signal.aborted) {
      process.nextTick(onAbortListener);
    } else {
      signal.addEventListener('abort', onAbortListener, { once: true });
      child.once('exit', () => signal.removeEventListener('abort', onAbortListener));
    }

    function onAbortListener() {
      abortChildProcess(child, killSignal, options.signal.reason);
    }
  }

  return child;
}

module.exports = {
  ChildProcess,
  exec: execApi.exec,
  execFile: execApi.execFile,
  execFileSync: syncApi.execFileSync,
  execSync: syncApi.execSync,
  fork,
  spawn,
  spawnSync: syncApi.spawnSync,
  // Internal, shared with lib/internal/*: not part of Node's public surface.
  _normalizeSpawnArguments: normalizeSpawnArguments,
  _abortChildProcess: abortChildProcess,
};

// exec.js and spawn_sync.js need spawn() and normalizeSpawnArguments() from this module, which
// requires them first: hand these over now that they exist (no require cycle).
execApi.link(spawn, module.exports);
syncApi.link(normalizeSpawnArguments);
