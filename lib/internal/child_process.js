'use strict';
// ChildProcess, as Node's lib/internal/child_process.js shapes it, on top of the native engine.
// Names (getValidStdio, maybeClose, flushStdio, onErrorNT, _closesNeeded, _handle, ...) follow
// Node's so that a reader who knows Node finds their way.
const EventEmitter = require('node:events');
const { AsyncResource } = require('node:async_hooks');
const net = require('node:net');
const { closeSync } = require('node:fs');
const { inspect } = require('node:util');
const { constants: { signals, errno: errnoConstants } } = require('node:os');

const binding = require('../binding');
const { codes: { ERR_INVALID_ARG_VALUE, ERR_IPC_ONE_PIPE, ERR_IPC_SYNC_FORK, ERR_INVALID_SYNC_FORK_INPUT },
  ErrnoException } = require('./errors');
const { validateArray, validateObject, validateOneOf, validateString, convertToValidSignal,
  signoString } = require('./validators');

const UV_EACCES = -errnoConstants.EACCES;
const UV_EAGAIN = -errnoConstants.EAGAIN;
const UV_EINVAL = -errnoConstants.EINVAL;
const UV_EMFILE = -errnoConstants.EMFILE;
const UV_ENFILE = -errnoConstants.ENFILE;
const UV_ENOENT = -errnoConstants.ENOENT;
const UV_ENOSYS = -errnoConstants.ENOSYS;
const UV_ESRCH = -errnoConstants.ESRCH;

const SymbolDispose = Symbol.dispose ?? Symbol.for('nodejs.dispose');
// On normalised spawn options: `envPairs` was left undefined because the child's environment is
// exactly process.env (see normalizeSpawnArguments).
const kInheritEnv = Symbol('kInheritEnv');
const kResourceUsage = Symbol('kResourceUsage');

// ---------------------------------------------------------------------------------------------
// The process handle: our counterpart of Node's `Process` wrap. One engine per loaded copy of
// this module; it reports exits of the children it spawned by pid.
//
// Liveness, as with Node's process handles: a ref'd running child keeps the loop alive.
// - A "polled" child (the normal case) has its own uv_poll handle on its pidfd in the native
//   engine, ref'd from the start; ref()/unref() toggle that handle (engine.setRef). It is closed
//   before the exit is reported.
// - A child watched by the reaper thread (no pidfd) reports through the engine's weak threadsafe
//   function, which JS refs while at least one such ref'd child runs (refCount). The engine makes
//   that function for the first such child and releases it on close(), once no child is left.
const handles = new Map();
let refCount = 0;
let engine;

function getEngine() {
  engine ??= new binding.Engine(onEngineExit);
  return engine;
}

// With no live child left, release the engine's threadsafe function (if the reaper thread path
// made one): an idle one would show up as an open handle in jest --detectOpenHandles. The engine
// itself stays: it holds the event loop's per-child watches, which close on their own.
function maybeCloseEngine() {
  if (engine !== undefined && handles.size === 0) engine.close();
}

// libuv handles SIGCHLD after every other I/O event of the same poll phase, so in Node a child's
// last output and its IPC messages and EOF, when they arrive together with its exit, come first.
// Our exits arrive through the pidfd's poll handle (or the reaper's async handle), which may be
// anywhere among them: let the poll phase finish (the check phase follows it in the same loop
// iteration) before reporting. setImmediate keeps the async context of the delivery.
function onEngineExit(pid, exitCode, signal, usage) {
  setImmediate(deliverExit, pid, exitCode, signal, usage);
}

function deliverExit(pid, exitCode, signal, usage) {
  const handle = handles.get(pid);
  if (handle === undefined) return;
  handles.delete(pid);
  if (handle.polled) handle.refed = false; // the native poll handle is gone already
  else handle.unref();
  handle.pid = 0;
  handle[kResourceUsage] = usage;
  // Node names the signal with its C++ signo_string (SIGABRT, not SIGIOT; '' for realtime signals,
  // which onexit then treats as no signal at all, as Node does).
  const signalCode = signal == null ? null : signoString(signal);
  maybeCloseEngine();
  // A polled child's exit arrives through MakeCallback in the async context of its spawn() (the
  // handle is the async resource). The reaper thread's path has no such context: restore it here.
  if (handle.asyncResource) handle.asyncResource.runInAsyncScope(handle.onexit, handle, exitCode ?? 0, signalCode);
  else handle.onexit(exitCode ?? 0, signalCode);
}

class Process {
  constructor() {
    this.onexit = null;
    this.pid = 0;
    this.refed = false;
    this.polled = false;
    this.asyncResource = undefined;
    this[kResourceUsage] = undefined;
  }

  // Returns 0 or a negative errno, like ProcessWrap::Spawn. On success and on the errors that
  // Node emits rather than throws, `options.stdio[i].fd` holds our end of each pipe.
  spawn(options) {
    const stdio = options.stdio.map((s) => {
      switch (s.type) {
        case 'pipe':
        case 'overlapped':
          return { kind: 'pipe' };
        case 'ignore':
          return { kind: 'ignore' };
        case 'wrap':
          return { kind: 'fd', fd: s.handle.fd };
        default:
          return { kind: 'fd', fd: s.fd };
      }
    });
    const result = getEngine().spawn({
      file: options.file,
      args: options.args === undefined ? [] : options.args.map((a) => `${a}`),
      // undefined: the child inherits our environ, as libuv's child does when given no env.
      envPairs: options.envPairs,
      // ProcessWrap::Spawn uses cwd only when it is a non-empty string (a Buffer is ignored).
      cwd: typeof options.cwd === 'string' && options.cwd !== '' ? options.cwd : undefined,
      stdio,
      detached: !!options.detached,
      uid: options.uid ?? undefined,
      gid: options.gid ?? undefined,
      parentDeathSignal: options.parentDeathSignal,
    }, this);
    for (let i = 0; i < result.stdio.length; i++) {
      if (result.stdio[i] >= 0) options.stdio[i].fd = result.stdio[i];
    }
    if (result.err === 0) {
      this.pid = result.pid;
      handles.set(this.pid, this);
      this.polled = result.polled;
      if (this.polled) {
        this.refed = true;
      } else {
        this.asyncResource = new AsyncResource('PROCESSWRAP');
        this.ref();
      }
    } else {
      maybeCloseEngine();
    }
    return result.err;
  }

  kill(signal) {
    return this.#signal(binding.kill, signal);
  }

  // The killTree() extra: the child and all of its descendants.
  killTree(signal) {
    return this.#signal(binding.killTree, signal);
  }

  #signal(send, signal) {
    if (this.pid === 0) return UV_ESRCH;
    const err = send(this.pid, signal);
    // ESRCH while the exit has not reached us yet: the reaper has already reaped the child and its
    // exit is on its way. For Node the child is still a zombie until then, and kill(2) on a zombie
    // succeeds, so report success as Node would.
    return err === UV_ESRCH ? 0 : err;
  }

  ref() {
    if (this.refed || this.pid === 0) return;
    this.refed = true;
    if (this.polled) getEngine().setRef(this.pid, true);
    else if (refCount++ === 0) getEngine().ref();
  }

  unref() {
    if (!this.refed) return;
    this.refed = false;
    if (this.polled) getEngine().setRef(this.pid, false);
    else if (--refCount === 0) getEngine().unref();
  }

  hasRef() {
    return this.refed;
  }

  close() {
    this.unref();
  }
}

function envPairsOf(env) {
  const pairs = [];
  for (const key in env) {
    const value = env[key];
    if (value !== undefined) pairs.push(`${key}=${value}`);
  }
  return pairs;
}

// ---------------------------------------------------------------------------------------------

function ChildProcess() {
  EventEmitter.call(this);
  this._closesNeeded = 1;
  this._closesGot = 0;
  this.connected = false;
  this.signalCode = null;
  this.exitCode = null;
  this.killed = false;
  this.spawnfile = null;

  this._handle = new Process();
  this._handle.onexit = (exitCode, signalCode) => {
    if (signalCode) this.signalCode = signalCode;
    else this.exitCode = exitCode;

    if (this.stdin) this.stdin.destroy();

    this[kResourceUsage] = this._handle[kResourceUsage];
    this._handle.close();
    this._handle = null;

    if (exitCode < 0) {
      const syscall = this.spawnfile ? 'spawn ' + this.spawnfile : 'spawn';
      const err = new ErrnoException(exitCode, syscall);
      if (this.spawnfile) err.path = this.spawnfile;
      err.spawnargs = this.spawnargs.slice(1);
      this.emit('error', err);
    } else {
      this.emit('exit', this.exitCode, this.signalCode);
    }

    // If any of the stdio streams have not been touched, pull all the data through so that it
    // can get the EOF and emit 'close'. On nextTick, so that the user has one last chance to
    // consume the output.
    process.nextTick(flushStdio, this);
    maybeClose(this);
  };
}
Object.setPrototypeOf(ChildProcess.prototype, EventEmitter.prototype);
Object.setPrototypeOf(ChildProcess, EventEmitter);

function flushStdio(subprocess) {
  const stdio = subprocess.stdio;
  if (stdio == null) return;
  for (let i = 0; i < stdio.length; i++) {
    const stream = stdio[i];
    if (!stream || !stream.readable || stream[kIsUsedAsStdio]) continue;
    stream.resume();
  }
}

const kIsUsedAsStdio = Symbol('kIsUsedAsStdio');

function onErrorNT(self, err) {
  self._handle.onexit(err);
}

function onSpawnNT(self) {
  self.emit('spawn');
}

// Node's createSocket is `net.Socket({ handle: pipe, readable })` on the Pipe it made for the slot.
// We get fds, so we make that Pipe ourselves: its class is learnt from the first socket made the
// public way (`new net.Socket({ fd })`, which also works but costs twice as much: it probes the
// fd's type with fstat/getsockname first).
let PipeWrap;
const kPipeSocket = 0; // PipeConstants.SOCKET

function createSocket(fd, readable) {
  if (PipeWrap !== undefined) {
    const handle = new PipeWrap(kPipeSocket);
    if (handle.open(fd) === 0) return new net.Socket({ handle, readable });
    handle.close();
  }
  const socket = new net.Socket({ fd, readable });
  PipeWrap ??= socket._handle?.constructor?.name === 'Pipe' ? socket._handle.constructor : undefined;
  return socket;
}

ChildProcess.prototype.spawn = function spawn(options) {
  validateObject(options, 'options');

  // If no `stdio` option was given - use default
  let stdio = options.stdio || 'pipe';
  stdio = getValidStdio(stdio, false);

  const ipc = stdio.ipc;
  const ipcFd = stdio.ipcFd;
  stdio = options.stdio = stdio.stdio;

  validateOneOf(options.serialization, 'options.serialization', [undefined, 'json', 'advanced']);
  const serialization = options.serialization || 'json';

  if (ipc !== undefined) {
    // Let the child know about the opened IPC channel.
    if (options.envPairs === undefined) options.envPairs = options[kInheritEnv] ? envPairsOf(process.env) : [];
    else validateArray(options.envPairs, 'options.envPairs');
    options.envPairs.push(`NODE_CHANNEL_FD=${ipcFd}`);
    options.envPairs.push(`NODE_CHANNEL_SERIALIZATION_MODE=${serialization}`);
  }

  validateString(options.file, 'options.file');
  this.spawnfile = options.file;

  if (options.args === undefined) {
    this.spawnargs = [];
  } else {
    validateArray(options.args, 'options.args');
    this.spawnargs = options.args;
  }

  const err = this._handle.spawn(options);

  // Run-time errors should emit an error, not throw an exception.
  if (err === UV_EACCES || err === UV_EAGAIN || err === UV_EMFILE || err === UV_ENFILE || err === UV_ENOENT) {
    process.nextTick(onErrorNT, this, err);
    // There is no point in continuing when we've hit EMFILE or ENFILE because we won't be able to
    // set up the stdio file descriptors.
    if (err === UV_EMFILE || err === UV_ENFILE) {
      closePipes(stdio);
      return err;
    }
  } else if (err) {
    closePipes(stdio);
    this._handle.close();
    this._handle = null;
    throw new ErrnoException(err, 'spawn');
  } else {
    process.nextTick(onSpawnNT, this);
  }

  if (err === 0) this.pid = this._handle.pid;

  for (let i = 0; i < stdio.length; i++) {
    const stream = stdio[i];
    if (stream.type === 'ignore') continue;

    if (stream.ipc) {
      this._closesNeeded++;
      continue;
    }

    // The stream is already cloned and piped, so stop its readable side, otherwise we might
    // read from it at the same time as the child does.
    if (stream.type === 'wrap') {
      const s = stream._stdio;
      if (typeof stream.handle.readStop === 'function') {
        stream.handle.reading = false;
        stream.handle.readStop();
      }
      if (typeof s.pause === 'function') {
        s.pause();
        s.readableFlowing = false;
        if (s._readableState) s._readableState.reading = false;
      }
      s[kIsUsedAsStdio] = true;
      continue;
    }

    if (stream.fd !== undefined && (stream.type === 'pipe' || stream.type === 'overlapped')) {
      stream.socket = createSocket(stream.fd, i > 0);
      if (i > 0) {
        this._closesNeeded++;
        stream.socket.on('close', () => maybeClose(this));
      }
    }
  }

  this.stdin = stdio.length >= 1 && stdio[0].socket !== undefined ? stdio[0].socket : null;
  this.stdout = stdio.length >= 2 && stdio[1].socket !== undefined ? stdio[1].socket : null;
  this.stderr = stdio.length >= 3 && stdio[2].socket !== undefined ? stdio[2].socket : null;

  this.stdio = [];
  for (let i = 0; i < stdio.length; i++) {
    this.stdio.push(stdio[i].socket === undefined ? null : stdio[i].socket);
  }

  // Add .send() and start listening for IPC data.
  if (ipc !== undefined) {
    require('./ipc').setupChannel(this, stdio[ipcFd].fd, serialization);
  }

  return err;
};

function closePipes(stdio) {
  for (const s of stdio) {
    if (s.fd !== undefined && (s.type === 'pipe' || s.type === 'overlapped')) {
      closeSync(s.fd);
      s.fd = undefined;
    }
  }
}

ChildProcess.prototype.kill = function kill(sig) {
  return signalChild(this, sig, 'kill');
};

// Node's kill(), shared with the killTree() extra: `method` is the Process handle's way to send.
function signalChild(child, sig, method) {
  const signal = sig === 0 ? sig : convertToValidSignal(sig === undefined ? 'SIGTERM' : sig);

  if (child._handle) {
    const err = child._handle[method](signal);
    if (err === 0) {
      // Success.
      child.killed = true;
      maybeScheduleForceKill(child, signal);
      return true;
    }
    if (err === UV_ESRCH) {
      // Already dead.
    } else if (err === UV_EINVAL || err === UV_ENOSYS) {
      // The underlying platform doesn't support this signal.
      throw new ErrnoException(err, 'kill');
    } else {
      // Other error, almost certainly EPERM.
      child.emit('error', new ErrnoException(err, 'kill'));
    }
  }

  // Kill didn't succeed.
  return false;
}

// The `killEscalationDelay` extra (lib/internal/extras.js): after a delivered catchable signal,
// SIGKILL if the child is still alive after the delay.
const kKillEscalationDelay = Symbol('kKillEscalationDelay');

function maybeScheduleForceKill(child, signal) {
  const delay = child[kKillEscalationDelay];
  if (delay === undefined || signal === 0 || signal === signals.SIGKILL || child._handle === null) return;
  const timer = setTimeout(() => {
    if (child._handle !== null) child._handle.kill(signals.SIGKILL);
  }, delay);
  // The child itself keeps the loop alive while it runs; the timer must not outlive it.
  timer.unref();
  child.once('exit', () => clearTimeout(timer));
}

ChildProcess.prototype[SymbolDispose] = function() {
  if (!this.killed) this.kill();
};

ChildProcess.prototype.ref = function() {
  if (this._handle) this._handle.ref();
};

ChildProcess.prototype.unref = function() {
  if (this._handle) this._handle.unref();
};

function maybeClose(subprocess) {
  subprocess._closesGot++;
  if (subprocess._closesGot === subprocess._closesNeeded) {
    subprocess.emit('close', subprocess.exitCode, subprocess.signalCode);
  }
}

function stdioStringToArray(stdio, channel) {
  const options = [];
  switch (stdio) {
    case 'ignore':
    case 'overlapped':
    case 'pipe':
      options.push(stdio, stdio, stdio);
      break;
    case 'inherit':
      options.push(0, 1, 2);
      break;
    default:
      throw new ERR_INVALID_ARG_VALUE('stdio', stdio);
  }
  if (channel) options.push(channel);
  return options;
}

// Node's getHandleWrapType: a libuv handle of one of these classes (a Pipe, TTY, TCP or UDP
// wrap; what `socket._handle` holds) can be given to a child, whose slot gets the handle's fd.
// Node tests `instanceof` against its internal classes, which a module cannot reach; their
// constructor names are the same test.
const kWrapTypes = { __proto__: null, Pipe: 'pipe', TTY: 'tty', TCP: 'tcp', UDP: 'udp' };

function getHandleWrapType(stream) {
  if (stream == null || typeof stream !== 'object') return false;
  const ctor = Object.getPrototypeOf(stream)?.constructor;
  return (typeof ctor === 'function' && kWrapTypes[ctor.name]) || false;
}

function getValidStdio(stdio, sync) {
  let ipc;
  let ipcFd;

  // Replace shortcut with an array
  if (typeof stdio === 'string') {
    stdio = stdioStringToArray(stdio);
  } else if (!Array.isArray(stdio)) {
    throw new ERR_INVALID_ARG_VALUE('stdio', stdio);
  }

  // At least 3 stdio will be created. Don't concat() a new Array() because it would be sparse,
  // and reduce() would skip its holes.
  while (stdio.length < 3) stdio.push(undefined);

  stdio = stdio.reduce((acc, stdio, i) => {
    // Defaults
    if (stdio == null) stdio = i < 3 ? 'pipe' : 'ignore';

    if (stdio === 'ignore') {
      acc.push({ type: 'ignore' });
    } else if (stdio === 'pipe' || stdio === 'overlapped' || (typeof stdio === 'number' && stdio < 0)) {
      acc.push({ type: stdio === 'overlapped' ? 'overlapped' : 'pipe', readable: i === 0, writable: i !== 0 });
    } else if (stdio === 'ipc') {
      if (sync || ipc !== undefined) {
        if (!sync) throw new ERR_IPC_ONE_PIPE();
        throw new ERR_IPC_SYNC_FORK();
      }
      ipc = true;
      ipcFd = i;
      acc.push({ type: 'pipe', ipc: true });
    } else if (stdio === 'inherit') {
      acc.push({ type: 'inherit', fd: i });
    } else if (typeof stdio === 'number' || typeof stdio.fd === 'number') {
      acc.push({ type: 'fd', fd: typeof stdio === 'number' ? stdio : stdio.fd });
    } else if (getHandleWrapType(stdio) || getHandleWrapType(stdio.handle) || getHandleWrapType(stdio._handle)) {
      const handle = getHandleWrapType(stdio) ? stdio : getHandleWrapType(stdio.handle) ? stdio.handle : stdio._handle;
      acc.push({ type: 'wrap', wrapType: getHandleWrapType(handle), handle, _stdio: stdio });
    } else if (ArrayBuffer.isView(stdio) || typeof stdio === 'string') {
      if (!sync) throw new ERR_INVALID_SYNC_FORK_INPUT(inspect(stdio));
    } else {
      throw new ERR_INVALID_ARG_VALUE('stdio', stdio);
    }
    return acc;
  }, []);

  return { stdio, ipc, ipcFd };
}

module.exports = {
  ChildProcess,
  kInheritEnv,
  maybeClose,
  getValidStdio,
  stdioStringToArray,
  kResourceUsage,
  kKillEscalationDelay,
  signalChild,
};
