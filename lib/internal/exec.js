'use strict';
// exec() and execFile(): a spawn() whose output is buffered and handed to a callback. The code
// follows Node 20's lib/child_process.js step by step, with its names (normalizeExecArgs,
// normalizeExecFileArgs, execFile's exithandler/errorhandler/kill), because users observe every
// detail of it: when the output is decoded, which error wins, the `killed` flag, how `cmd` is
// joined.
const { promisify, getSystemErrorName } = require('node:util');

const { codes: { ERR_CHILD_PROCESS_STDIO_MAXBUFFER }, genericNodeError } = require('./errors');
const {
  validateArgumentNullCheck,
  validateFunction,
  validateMaxBuffer,
  validateObject,
  validateString,
  validateTimeout,
  sanitizeKillSignal,
} = require('./validators');

const MAX_BUFFER = 1024 * 1024;
const kEmptyObject = Object.freeze({ __proto__: null });

// lib/child_process.js owns spawn() and the public exports object, and requires this module
// before either exists; it hands them over through link(). exec() goes through the public
// exports, as Node's does, so that replacing child_process.execFile affects exec() too.
let spawn;
let publicExports;
function link(spawnFunction, exportsObject) {
  spawn = spawnFunction;
  publicExports = exportsObject;
}

function normalizeExecArgs(command, options, callback) {
  validateString(command, 'command');
  validateArgumentNullCheck(command, 'command');

  if (typeof options === 'function') {
    callback = options;
    options = undefined;
  }

  // Make a shallow copy so we don't clobber the user's options object.
  options = { __proto__: null, ...options };
  options.shell = typeof options.shell === 'string' ? options.shell : true;

  return { file: command, options, callback };
}

/**
 * Spawns a shell executing the given command.
 * @param {string} command
 * @param {object} [options]
 * @param {(error?: Error, stdout?: string | Buffer, stderr?: string | Buffer) => any} [callback]
 * @returns {ChildProcess}
 */
function exec(command, options, callback) {
  const opts = normalizeExecArgs(command, options, callback);
  return publicExports.execFile(opts.file, opts.options, opts.callback);
}

// util.promisify(exec / execFile): resolves { stdout, stderr }, rejects with the error carrying
// them, and exposes the child as `promise.child`.
const customPromiseExecFunction = (orig) => {
  return (...args) => {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });

    promise.child = orig(...args, (err, stdout, stderr) => {
      if (err !== null) {
        err.stdout = stdout;
        err.stderr = stderr;
        reject(err);
      } else {
        resolve({ stdout, stderr });
      }
    });

    return promise;
  };
};

Object.defineProperty(exec, promisify.custom, {
  __proto__: null,
  enumerable: false,
  value: customPromiseExecFunction(exec),
});

function normalizeExecFileArgs(file, args, options, callback) {
  if (Array.isArray(args)) {
    args = args.slice();
  } else if (args != null && typeof args === 'object') {
    callback = options;
    options = args;
    args = null;
  } else if (typeof args === 'function') {
    callback = args;
    options = null;
    args = null;
  }

  if (args == null) args = [];

  if (typeof options === 'function') {
    callback = options;
  } else if (options != null) {
    validateObject(options, 'options');
  }

  if (options == null) options = kEmptyObject;

  if (callback != null) validateFunction(callback, 'callback');

  // Validate argv0, if present.
  if (options.argv0 != null) {
    validateString(options.argv0, 'options.argv0');
    validateArgumentNullCheck(options.argv0, 'options.argv0');
  }

  return { file, args, options, callback };
}

/**
 * Spawns `file` (no shell unless options.shell) and buffers its output.
 * @param {string} file
 * @param {string[]} [args]
 * @param {object} [options]
 * @param {(error?: Error, stdout?: string | Buffer, stderr?: string | Buffer) => any} [callback]
 * @returns {ChildProcess}
 */
function execFile(file, args, options, callback) {
  ({ file, args, options, callback } = normalizeExecFileArgs(file, args, options, callback));

  options = {
    __proto__: null,
    encoding: 'utf8',
    timeout: 0,
    maxBuffer: MAX_BUFFER,
    killSignal: 'SIGTERM',
    cwd: null,
    env: null,
    shell: false,
    ...options,
  };

  validateTimeout(options.timeout);
  validateMaxBuffer(options.maxBuffer);
  options.killSignal = sanitizeKillSignal(options.killSignal);

  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env,
    gid: options.gid,
    shell: options.shell,
    signal: options.signal,
    uid: options.uid,
    windowsHide: !!options.windowsHide,
    windowsVerbatimArguments: !!options.windowsVerbatimArguments,
  });

  let encoding;
  const _stdout = [];
  const _stderr = [];
  if (options.encoding !== 'buffer' && Buffer.isEncoding(options.encoding)) {
    encoding = options.encoding;
  } else {
    encoding = null;
  }
  let killed = false;
  let exited = false;
  let timeoutId;

  let ex = null;

  let cmd = file;

  function exithandler(code, signal) {
    if (exited) return;
    exited = true;

    if (timeoutId) {
      clearTimeout(timeoutId);
      timeoutId = null;
    }

    if (!callback) return;

    // merge chunks: strings if they were decoded (by us or by the user's setEncoding)
    const merge = (stream, chunks) =>
      encoding || (stream && stream.readableEncoding) ? chunks.join('') : Buffer.concat(chunks);
    const stdout = merge(child.stdout, _stdout);
    const stderr = merge(child.stderr, _stderr);

    if (!ex && code === 0 && signal === null) {
      callback(null, stdout, stderr);
      return;
    }

    if (args?.length) cmd += ` ${args.join(' ')}`;

    if (!ex) {
      ex = genericNodeError(`Command failed: ${cmd}\n${stderr}`, {
        code: code < 0 ? getSystemErrorName(code) : code,
        killed: child.killed || killed,
        signal: signal,
      });
    }

    ex.cmd = cmd;
    callback(ex, stdout, stderr);
  }

  function errorhandler(e) {
    ex = e;

    if (child.stdout) child.stdout.destroy();
    if (child.stderr) child.stderr.destroy();

    exithandler();
  }

  function kill() {
    if (child.stdout) child.stdout.destroy();
    if (child.stderr) child.stderr.destroy();

    killed = true;
    try {
      child.kill(options.killSignal);
    } catch (e) {
      ex = e;
      exithandler();
    }
  }

  if (options.timeout > 0) {
    timeoutId = setTimeout(function delayedKill() {
      kill();
      timeoutId = null;
    }, options.timeout);
  }

  // Collects one stream's output; over maxBuffer (counted in bytes, per stream) the chunk is cut
  // to the limit, the error is ERR_CHILD_PROCESS_STDIO_MAXBUFFER and the child is killed.
  function collect(stream, chunks, name) {
    if (!stream) return;
    if (encoding) stream.setEncoding(encoding);

    let total = 0;
    stream.on('data', (chunk) => {
      // Do not need to count the length
      if (options.maxBuffer === Infinity) {
        chunks.push(chunk);
        return;
      }
      const encoding = stream.readableEncoding;
      const length = encoding ? Buffer.byteLength(chunk, encoding) : chunk.length;
      total += length;

      if (total > options.maxBuffer) {
        // Node cuts a string by characters at a byte count: kept as is.
        const truncatedLen = options.maxBuffer - (total - length);
        chunks.push(chunk.slice(0, truncatedLen));

        ex = new ERR_CHILD_PROCESS_STDIO_MAXBUFFER(name);
        kill();
      } else {
        chunks.push(chunk);
      }
    });
  }

  collect(child.stdout, _stdout, 'stdout');
  collect(child.stderr, _stderr, 'stderr');

  child.addListener('close', exithandler);
  child.addListener('error', errorhandler);

  return child;
}

Object.defineProperty(execFile, promisify.custom, {
  __proto__: null,
  enumerable: false,
  value: customPromiseExecFunction(execFile),
});

module.exports = {
  MAX_BUFFER,
  exec,
  execFile,
  link,
  normalizeExecArgs,
  normalizeExecFileArgs,
};
