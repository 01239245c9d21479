'use strict';
// The IPC channel of a ChildProcess: `child.send()`, 'message', 'disconnect', handle passing.
//
// This is Node's setupChannel (lib/internal/child_process.js) with Node's names and logic, on top
// of our native IpcChannel (src/binding/ipc.rs) instead of a libuv Pipe(IPC) handle. The wire
// format is Node's, so an unmodified Node child understands it:
//   json:     JSON.stringify(message) + '\n'
//   advanced: 4-byte big-endian length + v8.Serializer output (Node's ChildProcessSerializer)
// Rust owns the socket, splits frames and moves fds (SCM_RIGHTS); JS encodes and decodes messages,
// because a non-V8 JSON or V8-format implementation would drift from what Node produces.
//
// Differences from Node, on purpose:
// - A frame the peer botched (invalid JSON, undeserializable, or over the size limit) closes the
//   channel and is reported as an 'error' event (or a warning when nobody listens), where Node
//   throws from its read callback and takes the process down.
// - Output still queued when the channel closes is flushed rather than cancelled.
const EventEmitter = require('node:events');
const net = require('node:net');
const dgram = require('node:dgram');
const { closeSync } = require('node:fs');
const { constants: { errno: { EBADF } } } = require('node:os');
const { deprecate } = require('node:util');

const binding = require('../binding');
const { FrameWriter, deserializeFrames } = require('./ipc_serialization');
const {
  codes: {
    ERR_CHILD_CLOSED_BEFORE_REPLY,
    ERR_INVALID_ARG_TYPE,
    ERR_INVALID_HANDLE_TYPE,
    ERR_IPC_CHANNEL_CLOSED,
    ERR_IPC_DISCONNECTED,
    ERR_MISSING_ARGS,
  },
  ErrnoException,
} = require('./errors');
const { validateObject } = require('./validators');

const MAX_HANDLE_RETRANSMISSIONS = 3;
const kChannelHandle = Symbol('kChannelHandle');
const kPendingMessages = Symbol('kPendingMessages');

// The largest frame we accept from the peer (see DEFAULT_MAX_FRAME in src/ipc/mod.rs).
const kMaxFrame = 2 ** 30;

// Slots of the state array shared with the native channel, and kinds of its events (both must
// match src/binding/ipc.rs).
const S_SETTLED = 0;
const S_SUBMITTED = 1;
const S_QUEUED = 2;
const S_BUFFERING = 3;
const KIND_BATCH = 0;
const KIND_WRITTEN = 1;
const KIND_END = 2;
const KIND_PROTOCOL = 3;

const nop = () => {};
const UV_EBADF = -EBADF;
const kDefaultSendOptions = Object.freeze({ swallowErrors: false });

// ---------------------------------------------------------------------------------------------
// Reading json: `frames` is the text of one or more whole lines, without the last newline.
function parseJsonFrames(frames, onMessage) {
  const lines = frames.split('\n');
  for (let i = 0; i < lines.length; i++) onMessage(JSON.parse(lines[i]), i);
}

// ---------------------------------------------------------------------------------------------
// The channel handle: plays the part of Node's Pipe(IPC) handle for setupChannel.

// Writing, as Node does it: a message goes to the socket at once if it can (so that send() then
// process.exit() delivers), else it is queued; send() returns false while more than 128 KiB are
// queued, and a write that had to be queued completes (and holds a ref on the channel) later.
//
// What we add is batching. The first message of a tick is written at once; the messages sent
// after it in the same tick are encoded into one batch, which is written (directly to the socket
// if it has room, as each of them would have been) at the end of the tick, when it reaches 64 KiB,
// or at process exit. A burst of sends then costs a few large sendmsg calls rather than one each.
// A batched message completes as it would have in Node: synchronously (callback on next tick) if
// its batch went out at once, else asynchronously.
//
// Async completion is tracked by end offset in the output stream: a write completes once the
// native side has settled (written, or dropped with a dead channel) that many bytes.
// `_completions` holds [endOffset, item, ...] from `_head`; an item is a callback, `kNoCallback`,
// or a `Batch` of them.
const kNoCallback = Symbol('kNoCallback');
// What write() returns for a message it batched: the channel completes it itself.
const kBatched = 1;
// Batches are flushed early when they reach this size.
const kBatchLimit = 64 * 1024;

class Batch {
  constructor(callbacks) {
    this.callbacks = callbacks;
  }
}

// Channels with a batch waiting for the end of the tick: flushed at process exit too.
const pendingChannels = new Set();
let exitHookInstalled = false;
function flushAllPending() {
  for (const channel of pendingChannels) flushPending(channel);
}

class ChannelHandle {
  constructor(fd, serializationMode) {
    this.state = new Float64Array(4);
    this.advanced = serializationMode === 'advanced';
    this.native = new binding.IpcChannel(fd, this.advanced, kMaxFrame, this.state,
                                         (kind, a, b) => this._onevent(kind, a, b));
    // Set by setupChannel.
    this.onread = nop;
    this.onprotocolerror = nop;
    this.oncomplete = nop; // (callback) an async write completed
    this.onasync = nop; // () a batched write turned out asynchronous
    this.onwriteerror = nop; // (callback, swallowErrors, errno) a batched write failed
    this.sockets = { got: {}, send: {} };
    this.lastWriteWasAsync = false;
    this.closed = false;
    this._buffering = undefined;
    // The batch: encoded messages (a string for json, in a FrameWriter for advanced), and for each
    // its callback and swallowErrors option.
    this._batching = false;
    this._pending = '';
    this._pendingBytes = 0;
    this._writer = this.advanced ? new FrameWriter() : null;
    this._pendingCallbacks = [];
    this._pendingSwallow = [];
    this._completions = [];
    this._head = 0;
  }

  get fd() {
    return this.native.fd;
  }

  get buffering() {
    return this._buffering ?? this.state[S_BUFFERING] !== 0;
  }

  set buffering(value) {
    this._buffering = value;
  }

  // Bytes queued and not yet handed to the socket (Node's stream writeQueueSize). A batch still
  // being built does not count: it will be written at once if the socket has room, as Node would.
  get writeQueueSize() {
    return this.state[S_QUEUED];
  }

  ref() {
    this.native.ref();
  }

  unref() {
    this.native.unref();
  }

  hasRef() {
    return this.native.hasRef();
  }

  // Appends the encoding of `message` to the batch. Throws (appending nothing) what
  // JSON.stringify or Node's serializer would throw.
  _append(message) {
    if (this.advanced) {
      this._writer.append(message);
      this._pendingBytes = this._writer.length;
    } else {
      const data = JSON.stringify(message) + '\n';
      this._pending += data;
      this._pendingBytes += data.length;
    }
  }

  // Takes the batch, as a string (json) or Buffer (advanced).
  _takePending() {
    this._pendingBytes = 0;
    if (this.advanced) return this._writer.take();
    const data = this._pending;
    this._pending = '';
    return data;
  }

  _writeNative(data, fd) {
    return typeof data === 'string' ? this.native.writeString(data, fd) : this.native.writeBuffer(data, fd);
  }

  // Writes `message`, with `handle`'s fd when given. Returns a negative errno, or 0 and tells,
  // as Node's StreamBase does, through `lastWriteWasAsync` whether `oncomplete(callback)` will be
  // called later, or `kBatched` when the channel takes care of the completion itself.
  write(callback, message, handle, swallowErrors) {
    if (handle === undefined && !this.closed && (this._batching || this.state[S_QUEUED] > 0)) {
      this._append(message);
      this._pendingCallbacks.push(callback === undefined ? kNoCallback : callback);
      this._pendingSwallow.push(swallowErrors);
      if (this._pendingBytes >= kBatchLimit) this._flushPending();
      else this._startBatch();
      return kBatched;
    }
    this._flushPending();
    this._append(message);
    const data = this._takePending();
    if (this.closed) return UV_EBADF;
    const err = this._writeNative(data, handle === undefined ? undefined : handle.fd);
    if (err !== 0) return err;
    this._startBatch();
    const end = this.state[S_SUBMITTED];
    // A write that carries a handle completes asynchronously in Node (libuv's uv_write2).
    if (this.state[S_SETTLED] >= end && handle === undefined) {
      this.lastWriteWasAsync = false;
      return 0;
    }
    this.lastWriteWasAsync = true;
    this._completions.push(end, callback === undefined ? kNoCallback : callback);
    if (this.state[S_SETTLED] >= end) setImmediate(settle, this);
    return 0;
  }

  // Later writes of this tick join a batch, written at the end of the tick.
  _startBatch() {
    if (this._batching) return;
    this._batching = true;
    pendingChannels.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', flushAllPending);
    }
    process.nextTick(flushPending, this);
  }

  _flushPending() {
    const callbacks = this._pendingCallbacks;
    if (callbacks.length === 0) return;
    const swallow = this._pendingSwallow;
    this._pendingCallbacks = [];
    this._pendingSwallow = [];
    const err = this._writeNative(this._takePending());
    if (err !== 0) {
      for (let i = 0; i < callbacks.length; i++) this.onwriteerror(callbacks[i], swallow[i], err);
      return;
    }
    const end = this.state[S_SUBMITTED];
    if (this.state[S_SETTLED] >= end) {
      // Went out at once: completes as Node's synchronous writes do, on the next tick (one tick
      // for the whole batch, in order).
      process.nextTick(completeSync, callbacks, 0);
      return;
    }
    for (let i = 0; i < callbacks.length; i++) this.onasync();
    this._completions.push(end, callbacks.length === 1 ? callbacks[0] : new Batch(callbacks));
  }

  // Completes, in order, every write whose bytes are settled.
  _settle() {
    const settled = this.state[S_SETTLED];
    const completions = this._completions;
    while (this._head < completions.length && completions[this._head] <= settled) {
      const item = completions[this._head + 1];
      completions[this._head + 1] = undefined;
      this._head += 2;
      try {
        if (item instanceof Batch) {
          const callbacks = item.callbacks;
          for (let i = 0; i < callbacks.length; i++) {
            try {
              this.oncomplete(callbacks[i]);
            } catch (err) {
              // The rest of the batch completes as its own item, after this one.
              if (i + 1 < callbacks.length) {
                this._head -= 2;
                completions[this._head + 1] = new Batch(callbacks.slice(i + 1));
              }
              throw err;
            }
          }
        } else {
          this.oncomplete(item);
        }
      } catch (err) {
        // As with one libuv write callback throwing: the others still complete.
        setImmediate(settle, this);
        throw err;
      }
    }
    if (this._head === completions.length) {
      completions.length = 0;
      this._head = 0;
    } else if (this._head > 1024 && this._head * 2 > completions.length) {
      completions.splice(0, this._head);
      this._head = 0;
    }
  }

  _onevent(kind, a, b) {
    switch (kind) {
      case KIND_BATCH:
        this.onread(a, b);
        break;
      case KIND_WRITTEN:
        this._settle();
        break;
      case KIND_END:
        this.onread(null);
        break;
      case KIND_PROTOCOL: {
        const err = new RangeError(`IPC message of ${a} bytes exceeds the limit of ${kMaxFrame} bytes`);
        err.code = 'ERR_IPC_MESSAGE_TOO_LARGE';
        this.onprotocolerror(err);
        break;
      }
    }
  }

  // Stops reading at once; output already sent is still delivered. Writes not yet completed are
  // completed (as Node completes cancelled writes) once the loop gets a turn.
  close() {
    if (this.closed) return;
    this._flushPending();
    this.closed = true;
    pendingChannels.delete(this);
    this.native.close();
    if (this._head < this._completions.length) setImmediate(completeAll, this);
  }
}

function flushPending(channel) {
  channel._batching = false;
  pendingChannels.delete(channel);
  if (!channel.closed) channel._flushPending();
}

function settle(channel) {
  channel._settle();
}

// Calls callbacks[from..] with null. If one throws, the rest still run, on a later tick.
function completeSync(callbacks, from) {
  for (let i = from; i < callbacks.length; i++) {
    const callback = callbacks[i];
    if (callback === kNoCallback) continue;
    try {
      callback(null);
    } catch (err) {
      if (i + 1 < callbacks.length) process.nextTick(completeSync, callbacks, i + 1);
      throw err;
    }
  }
}

function completeAll(channel) {
  channel.state[S_SETTLED] = Infinity;
  channel._settle();
}

// ---------------------------------------------------------------------------------------------
// Handles: what can be sent, and how a received fd becomes the object Node would give.

function dgramStateSymbol(socket) {
  return Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
}

function dgramHandle(socket) {
  const sym = dgramStateSymbol(socket);
  return sym === undefined ? undefined : socket[sym].handle;
}

// The raw handle classes of Node (TCP, Pipe, UDP) are not exported; recognise them by name.
function handleClassName(handle) {
  return handle !== null && typeof handle === 'object' ? handle.constructor?.name : undefined;
}

// A libuv handle wrapping a received fd, of the kind libuv would have made for it: TCP or Pipe
// (through net's own createHandle) or UDP. Undefined (and the fd closed) for anything else.
function handleFromFd(fd) {
  try {
    switch (binding.guessHandleType(fd)) {
      case 'TCP':
      case 'PIPE': {
        const socket = new net.Socket({ fd, readable: false, writable: false, manualStart: true });
        const handle = socket._handle;
        socket._handle = null;
        return handle;
      }
      case 'UDP': {
        const socket = dgram.createSocket('udp4');
        const handle = dgramHandle(socket);
        const err = handle.open(fd);
        if (err) throw new ErrnoException(err, 'open');
        return handle;
      }
    }
  } catch {
    // Fall through: the fd is not something a handle can be made of.
  }
  closeFd(fd);
  return undefined;
}

function closeFd(fd) {
  try {
    closeSync(fd);
  } catch {
    // Already gone.
  }
}

let freeParser;
let HTTPParser;

// This object contain function to convert TCP objects to native handle objects and back again.
const handleConversion = {
  'net.Native': {
    simultaneousAccepts: true,

    send(message, handle, options) {
      return handle;
    },

    got(message, handle, emit) {
      emit(handle);
    },
  },

  'net.Server': {
    simultaneousAccepts: true,

    send(message, server, options) {
      return server._handle;
    },

    got(message, handle, emit) {
      const server = new net.Server();
      server.listen(handle, () => {
        emit(server);
      });
    },
  },

  'net.Socket': {
    send(message, socket, options) {
      if (!socket._handle) return;

      // If the socket was created by net.Server
      if (socket.server) {
        // The worker should keep track of the socket
        message.key = socket.server._connectionKey;

        const firstTime = !this[kChannelHandle].sockets.send[message.key];
        const socketList = getSocketList('send', this, message.key);

        // The server should no longer expose a .connection property and when asked to close it
        // should query the socket status from the workers
        if (firstTime) socket.server._setupWorker(socketList);

        // Act like socket is detached
        if (!options.keepOpen) socket.server._connections--;
      }

      const handle = socket._handle;

      // Remove handle from socket object, it will be closed when the socket will be sent
      if (!options.keepOpen) {
        handle.onread = nop;
        socket._handle = null;
        socket.setTimeout(0);

        if (freeParser === undefined) ({ freeParser, HTTPParser } = require('node:_http_common'));

        // In case of an HTTP connection socket, release the associated resources
        if (socket.parser && socket.parser instanceof HTTPParser) {
          freeParser(socket.parser, null, socket);
          if (socket._httpMessage) socket._httpMessage.detachSocket(socket);
        }
      }

      return handle;
    },

    postSend(message, handle, options, callback, target) {
      // Store the handle after successfully sending it, so it can be closed when the
      // NODE_HANDLE_ACK is received. If the handle could not be sent, just close it.
      if (handle && !options.keepOpen) {
        if (target) {
          // There can only be one _pendingMessage as passing handles are processed one at a
          // time: handles are stored in _handleQueue while waiting for the NODE_HANDLE_ACK of the
          // current passing handle.
          target._pendingMessage = { callback, message, handle, options, retransmissions: 0 };
        } else {
          handle.close();
        }
      }
    },

    got(message, handle, emit) {
      const socket = new net.Socket({
        handle: handle,
        readable: true,
        writable: true,
      });

      // If the socket was created by net.Server we will track the socket
      if (message.key) {
        // Add socket to connections list
        const socketList = getSocketList('got', this, message.key);
        socketList.add({
          socket: socket,
        });
      }

      emit(socket);
    },
  },

  'dgram.Native': {
    simultaneousAccepts: false,

    send(message, handle, options) {
      return handle;
    },

    got(message, handle, emit) {
      emit(handle);
    },
  },

  'dgram.Socket': {
    simultaneousAccepts: false,

    send(message, socket, options) {
      message.dgramType = socket.type;

      return dgramHandle(socket);
    },

    got(message, handle, emit) {
      const socket = new dgram.Socket(message.dgramType);

      socket.bind(handle, () => {
        emit(socket);
      });
    },
  },
};

// ---------------------------------------------------------------------------------------------
// Socket lists (Node's lib/internal/socket_list.js): for sockets accepted by a net.Server and
// sent to the other side, that server's connection count and close() ask the other side.

// This object keeps track of the sockets that are sent
class SocketListSend extends EventEmitter {
  constructor(child, key) {
    super();
    this.key = key;
    this.child = child;
    child.once('exit', () => this.emit('exit', this));
  }

  _request(msg, cmd, swallowErrors, callback) {
    const self = this;

    if (!this.child.connected) return onclose();
    this.child._send(msg, undefined, swallowErrors);

    function onclose() {
      self.child.removeListener('internalMessage', onreply);
      callback(new ERR_CHILD_CLOSED_BEFORE_REPLY());
    }

    function onreply(msg) {
      if (!(msg.cmd === cmd && msg.key === self.key)) return;
      self.child.removeListener('disconnect', onclose);
      self.child.removeListener('internalMessage', onreply);

      callback(null, msg);
    }

    this.child.once('disconnect', onclose);
    this.child.on('internalMessage', onreply);
  }

  close(callback) {
    this._request({
      cmd: 'NODE_SOCKET_NOTIFY_CLOSE',
      key: this.key,
    }, 'NODE_SOCKET_ALL_CLOSED', true, callback);
  }

  getConnections(callback) {
    this._request({
      cmd: 'NODE_SOCKET_GET_COUNT',
      key: this.key,
    }, 'NODE_SOCKET_COUNT', false, (err, msg) => {
      if (err) return callback(err);
      callback(null, msg.count);
    });
  }
}

// This object keeps track of the sockets that are received
class SocketListReceive extends EventEmitter {
  constructor(child, key) {
    super();

    this.connections = 0;
    this.key = key;
    this.child = child;

    function onempty(self) {
      if (!self.child.connected) return;

      self.child._send({
        cmd: 'NODE_SOCKET_ALL_CLOSED',
        key: self.key,
      }, undefined, true);
    }

    this.child.on('internalMessage', (msg) => {
      if (msg.key !== this.key) return;

      if (msg.cmd === 'NODE_SOCKET_NOTIFY_CLOSE') {
        // Already empty
        if (this.connections === 0) return onempty(this);

        // Wait for sockets to get closed
        this.once('empty', onempty);
      } else if (msg.cmd === 'NODE_SOCKET_GET_COUNT') {
        if (!this.child.connected) return;
        this.child._send({
          cmd: 'NODE_SOCKET_COUNT',
          key: this.key,
          count: this.connections,
        });
      }
    });
  }

  add(obj) {
    this.connections++;

    // Notify the previous owner of the socket about its state change
    obj.socket.once('close', () => {
      this.connections--;

      if (this.connections === 0) this.emit('empty', this);
    });
  }
}

function getSocketList(type, worker, key) {
  const sockets = worker[kChannelHandle].sockets[type];
  let socketList = sockets[key];
  if (!socketList) {
    const Construct = type === 'send' ? SocketListSend : SocketListReceive;
    socketList = sockets[key] = new Construct(worker, key);
  }
  return socketList;
}

// ---------------------------------------------------------------------------------------------

class Control extends EventEmitter {
  #channel = null;
  #refs = 0;
  #refExplicitlySet = false;

  constructor(channel) {
    super();
    this.#channel = channel;
    this[kPendingMessages] = [];
  }

  // The methods keeping track of the counter are being used to track the listener count on the
  // child process object as well as when writes are in progress. Once the user has explicitly
  // requested a certain state, these methods become no-ops in order to not interfere with the
  // user's intentions.
  refCounted() {
    if (++this.#refs === 1 && !this.#refExplicitlySet) {
      this.#channel.ref();
    }
  }

  unrefCounted() {
    if (--this.#refs === 0 && !this.#refExplicitlySet) {
      this.#channel.unref();
      this.emit('unref');
    }
  }

  ref() {
    this.#refExplicitlySet = true;
    this.#channel.ref();
  }

  unref() {
    this.#refExplicitlySet = true;
    this.#channel.unref();
  }

  get fd() {
    return this.#channel ? this.#channel.fd : undefined;
  }
}

const channelDeprecationMsg = '_channel is deprecated. Use ChildProcess.channel instead.';

const INTERNAL_PREFIX = 'NODE_';
function isInternal(message) {
  return (message !== null &&
          typeof message === 'object' &&
          typeof message.cmd === 'string' &&
          message.cmd.length > INTERNAL_PREFIX.length &&
          message.cmd.slice(0, INTERNAL_PREFIX.length) === INTERNAL_PREFIX);
}

function closePendingHandle(target) {
  target._pendingMessage.handle.close();
  target._pendingMessage = null;
}

let maybeClose;

// Sets up `target` (a ChildProcess) to talk over the channel socket `fd`, which it takes over.
function setupChannel(target, fd, serializationMode) {
  maybeClose ??= require('./child_process').maybeClose;
  const channel = new ChannelHandle(fd, serializationMode);
  const control = new Control(channel);
  target.channel = control;
  target[kChannelHandle] = channel;

  Object.defineProperty(target, '_channel', {
    __proto__: null,
    get: deprecate(() => {
      return target.channel;
    }, channelDeprecationMsg, 'DEP0129'),
    set: deprecate((val) => {
      target.channel = val;
    }, channelDeprecationMsg, 'DEP0129'),
    configurable: true,
    enumerable: false,
  });

  target._handleQueue = null;
  target._pendingMessage = null;

  channel.oncomplete = (callback) => {
    control.unrefCounted();
    if (typeof callback === 'function')
      callback(null);
  };
  channel.onasync = () => control.refCounted();
  channel.onwriteerror = (callback, swallowErrors, err) => {
    if (swallowErrors) return;
    const ex = new ErrnoException(err, 'write');
    if (typeof callback === 'function') {
      process.nextTick(callback, ex);
    } else {
      process.nextTick(() => target.emit('error', ex));
    }
  };

  const decode = serializationMode === 'advanced' ? deserializeFrames : parseJsonFrames;

  let pendingHandle = null;
  let fdPairs;
  let fdNext = 0;
  const onMessage = (message, index) => {
    // A received fd goes with the frame that started the chunk carrying it (paired by the native
    // reader) and waits, as in Node, for the next NODE_HANDLE message.
    while (fdPairs !== undefined && fdNext < fdPairs.length && fdPairs[fdNext] <= index) {
      if (pendingHandle) pendingHandle.close();
      pendingHandle = handleFromFd(fdPairs[fdNext + 1]) ?? null;
      fdNext += 2;
    }
    if (isInternal(message)) {
      if (message.cmd === 'NODE_HANDLE') {
        handleMessage(message, pendingHandle, true);
        pendingHandle = null;
      } else {
        handleMessage(message, undefined, true);
      }
    } else {
      handleMessage(message, undefined, false);
    }
  };

  channel.onread = function(frames, fds) {
    if (frames !== null) {
      fdPairs = fds;
      fdNext = 0;
      try {
        decode(frames, onMessage);
      } catch (err) {
        if (fds !== undefined) {
          for (let i = fdNext + 1; i < fds.length; i += 2) closeFd(fds[i]);
        }
        channel.onprotocolerror(err);
      }
      fdPairs = undefined;
    } else {
      channelEnded();
    }
  };

  function channelEnded() {
    if (pendingHandle) {
      pendingHandle.close();
      pendingHandle = null;
    }
    channel.buffering = false;
    target.disconnect();
    channel.onread = nop;
    channel.close();
    target.channel = null;
    maybeClose(target);
  }

  // The peer broke the protocol: the messages received before are delivered (their ticks are
  // queued already), then the error is reported and the channel closed as if it had ended.
  channel.onprotocolerror = function(err) {
    channel.onread = nop;
    process.nextTick(() => {
      try {
        reportProtocolError(target, err);
      } finally {
        channelEnded();
      }
    });
  };

  // Handlers will go through this
  target.on('internalMessage', function(message, handle) {
    // Once acknowledged - continue sending handles.
    if (message.cmd === 'NODE_HANDLE_ACK' ||
        message.cmd === 'NODE_HANDLE_NACK') {

      if (target._pendingMessage) {
        if (message.cmd === 'NODE_HANDLE_ACK') {
          closePendingHandle(target);
        } else if (target._pendingMessage.retransmissions++ ===
                   MAX_HANDLE_RETRANSMISSIONS) {
          closePendingHandle(target);
          process.emitWarning('Handle did not reach the receiving process ' +
                              'correctly', 'SentHandleNotReceivedWarning');
        }
      }

      if (!Array.isArray(target._handleQueue)) return;
      const queue = target._handleQueue;
      target._handleQueue = null;

      if (target._pendingMessage) {
        target._send(target._pendingMessage.message,
                     target._pendingMessage.handle,
                     target._pendingMessage.options,
                     target._pendingMessage.callback);
      }

      for (let i = 0; i < queue.length; i++) {
        const args = queue[i];
        target._send(args.message, args.handle, args.options, args.callback);
      }

      // Process a pending disconnect (if any).
      if (!target.connected && target.channel && !target._handleQueue)
        target._disconnect();

      return;
    }

    if (message.cmd !== 'NODE_HANDLE') return;

    // It is possible that the handle is not received because of some error on ancillary data
    // reception such as MSG_CTRUNC. In this case, report the sender about it by sending a
    // NODE_HANDLE_NACK message.
    if (!handle)
      return target._send({ cmd: 'NODE_HANDLE_NACK' }, null, true);

    // Acknowledge handle receival. Don't emit error events (for example if the other side has
    // disconnected) because this call to send() is not initiated by the user and it shouldn't be
    // fatal to be unable to ACK a message.
    target._send({ cmd: 'NODE_HANDLE_ACK' }, null, true);

    const obj = handleConversion[message.type];
    if (obj === undefined) {
      handle.close();
      return;
    }

    // Convert handle object
    try {
      obj.got.call(this, message, handle, (handle) => {
        handleMessage(message.msg, handle, isInternal(message.msg));
      });
    } catch (err) {
      // The fd is not of the kind the message claims: a peer bug, not ours.
      handle.close();
      reportProtocolError(target, err);
    }
  });

  target.on('newListener', function() {
    process.nextTick(() => {
      if (!target.channel || !target.listenerCount('message'))
        return;

      const messages = target.channel[kPendingMessages];
      const { length } = messages;
      if (!length) return;

      for (let i = 0; i < length; i++) {
        Reflect.apply(target.emit, target, messages[i]);
      }

      target.channel[kPendingMessages] = [];
    });
  });

  target.send = function(message, handle, options, callback) {
    if (typeof handle === 'function') {
      callback = handle;
      handle = undefined;
      options = undefined;
    } else if (typeof options === 'function') {
      callback = options;
      options = undefined;
    } else if (options !== undefined) {
      validateObject(options, 'options');
    }

    // (Node spreads into a new object; nothing mutates it, so the common case shares one.)
    options = options === undefined ? kDefaultSendOptions : { swallowErrors: false, ...options };

    if (this.connected) {
      return this._send(message, handle, options, callback);
    }
    const ex = new ERR_IPC_CHANNEL_CLOSED();
    if (typeof callback === 'function') {
      process.nextTick(callback, ex);
    } else {
      process.nextTick(() => this.emit('error', ex));
    }
    return false;
  };

  target._send = function(message, handle, options, callback) {
    if (!(this.connected || this.channel)) throw new ERR_IPC_CHANNEL_CLOSED();

    if (message === undefined)
      throw new ERR_MISSING_ARGS('message');

    // Non-serializable messages should not reach the remote end point; as any failure in the
    // stringification there will result in error message that is weakly consumable. So perform a
    // final check on message prior to sending.
    if (typeof message !== 'string' &&
        typeof message !== 'object' &&
        typeof message !== 'number' &&
        typeof message !== 'boolean') {
      throw new ERR_INVALID_ARG_TYPE(
        'message', ['string', 'object', 'number', 'boolean'], message);
    }

    // Support legacy function signature
    if (typeof options === 'boolean') {
      options = { swallowErrors: options };
    }

    let obj;

    // Package messages with a handle object
    if (handle) {
      // This message will be handled by an internalMessage event handler
      message = {
        cmd: 'NODE_HANDLE',
        type: null,
        msg: message,
      };

      const className = handleClassName(handle);
      if (handle instanceof net.Socket) {
        message.type = 'net.Socket';
      } else if (handle instanceof net.Server) {
        message.type = 'net.Server';
      } else if (className === 'TCP' || className === 'Pipe') {
        message.type = 'net.Native';
      } else if (handle instanceof dgram.Socket) {
        message.type = 'dgram.Socket';
      } else if (className === 'UDP') {
        message.type = 'dgram.Native';
      } else {
        throw new ERR_INVALID_HANDLE_TYPE();
      }

      // Queue-up message and handle if we haven't received ACK yet.
      if (this._handleQueue) {
        this._handleQueue.push({
          callback: callback,
          handle: handle,
          options: options,
          message: message.msg,
        });
        return this._handleQueue.length === 1;
      }

      obj = handleConversion[message.type];

      // convert TCP object to native handle object
      handle = Reflect.apply(handleConversion[message.type].send,
                             target, [message, handle, options]);

      // If handle was sent twice, or it is impossible to get native handle out of it - just send
      // a text without the handle.
      if (!handle)
        message = message.msg;
    } else if (this._handleQueue &&
               !(message && (message.cmd === 'NODE_HANDLE_ACK' ||
                             message.cmd === 'NODE_HANDLE_NACK'))) {
      // Queue request anyway to avoid out-of-order messages.
      this._handleQueue.push({
        callback: callback,
        handle: null,
        options: options,
        message: message,
      });
      return this._handleQueue.length === 1;
    }

    const err = channel.write(callback, message, handle || undefined, options.swallowErrors);
    if (err === kBatched) return channel.writeQueueSize < (65536 * 2);
    const wasAsyncWrite = channel.lastWriteWasAsync;

    if (err === 0) {
      if (handle) {
        if (!this._handleQueue)
          this._handleQueue = [];
        if (obj && obj.postSend)
          obj.postSend(message, handle, options, callback, target);
      }

      if (wasAsyncWrite) {
        // channel.oncomplete (below) undoes this and calls the callback.
        control.refCounted();
      } else if (typeof callback === 'function') {
        process.nextTick(callback, null);
      }
    } else {
      // Cleanup handle on error
      if (obj && obj.postSend)
        obj.postSend(message, handle, options, callback);

      if (!options.swallowErrors) {
        const ex = new ErrnoException(err, 'write');
        if (typeof callback === 'function') {
          process.nextTick(callback, ex);
        } else {
          process.nextTick(() => this.emit('error', ex));
        }
      }
    }

    /* If the primary is > 2 read() calls behind, please stop sending. */
    return channel.writeQueueSize < (65536 * 2);
  };

  // Connected will be set to false immediately when a disconnect() is requested, even though the
  // channel might still be alive internally to process queued messages. The three states are
  // distinguished as follows:
  // - disconnect() never requested: channel is not null and connected is true
  // - disconnect() requested, messages in the queue: channel is not null and connected is false
  // - disconnect() requested, channel actually disconnected: channel is null and connected is
  //   false
  target.connected = true;

  target.disconnect = function() {
    if (!this.connected) {
      this.emit('error', new ERR_IPC_DISCONNECTED());
      return;
    }

    // Do not allow any new messages to be written.
    this.connected = false;

    // If there are no queued messages, disconnect immediately. Otherwise, postpone the disconnect
    // so that it happens internally after the queue is flushed.
    if (!this._handleQueue)
      this._disconnect();
  };

  target._disconnect = function() {
    // This marks the fact that the channel is actually disconnected.
    this.channel = null;
    this[kChannelHandle] = null;

    if (this._pendingMessage)
      closePendingHandle(this);

    let fired = false;
    function finish() {
      if (fired) return;
      fired = true;

      channel.close();
      target.emit('disconnect');
    }

    // If a message is being read, then wait for it to complete.
    if (channel.buffering) {
      this.once('message', finish);
      this.once('internalMessage', finish);

      return;
    }

    process.nextTick(finish);
  };

  function emit(event, message, handle) {
    if ('internalMessage' === event || target.listenerCount('message')) {
      target.emit(event, message, handle);
      return;
    }

    target.channel[kPendingMessages].push([event, message, handle]);
  }

  function handleMessage(message, handle, internal) {
    if (!target.channel)
      return;

    const eventName = (internal ? 'internalMessage' : 'message');

    process.nextTick(emit, eventName, message, handle);
  }

  return control;
}

function reportProtocolError(target, err) {
  if (target.listenerCount('error') > 0) {
    target.emit('error', err);
  } else {
    process.emitWarning(`The IPC channel of child process ${target.pid} was closed: ${err.message}`,
                        'IpcProtocolWarning');
  }
}

module.exports = { setupChannel, kChannelHandle };
