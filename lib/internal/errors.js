'use strict';
// Node's error objects, rebuilt in JS so that they are created in the caller's realm (an Error made
// in native code fails `instanceof Error` inside jest). Messages follow Node 20's
// lib/internal/errors.js word for word; the differential tests compare them with Node's own.
const { format, inspect, getSystemErrorName } = require('node:util');

const kTypes = ['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol'];
const classRegExp = /^([A-Z][a-z0-9]*)+$/;

function determineSpecificType(value) {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  const type = typeof value;
  switch (type) {
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'number':
      if (value === 0) return 1 / value === -Infinity ? 'type number (-0)' : 'type number (0)';
      return `type number (${value})`;
    case 'boolean':
      return `type boolean (${value})`;
    case 'symbol':
      return `type symbol (${String(value)})`;
    case 'function':
      return `function ${value.name}`;
    case 'object':
      if (value.constructor && 'name' in value.constructor) return `an instance of ${value.constructor.name}`;
      return `${inspect(value, { depth: -1 })}`;
    case 'string':
      if (value.length > 28) value = `${value.slice(0, 25)}...`;
      if (value.indexOf("'") === -1) return `type string ('${value}')`;
      return `type string (${JSON.stringify(value)})`;
    default: {
      let inspected = inspect(value, { colors: false });
      if (inspected.length > 28) inspected = `${inspected.slice(0, 25)}...`;
      return `type ${type} (${inspected})`;
    }
  }
}

function joinList(list, kind) {
  if (list.length > 2) return `${kind}${list.slice(0, -1).join(', ')}, or ${list[list.length - 1]}`;
  if (list.length === 2) return `${kind}${list[0]} or ${list[1]}`;
  return null;
}

const messages = {
  ERR_INVALID_ARG_TYPE(name, expected, actual) {
    if (!Array.isArray(expected)) expected = [expected];
    let msg = 'The ';
    if (name.endsWith(' argument')) msg += `${name} `;
    else msg += `"${name}" ${name.includes('.') ? 'property' : 'argument'} `;
    msg += 'must be ';
    const types = [];
    const instances = [];
    const other = [];
    for (const value of expected) {
      if (kTypes.includes(value)) types.push(value.toLowerCase());
      else if (classRegExp.test(value)) instances.push(value);
      else other.push(value);
    }
    if (instances.length > 0) {
      const pos = types.indexOf('object');
      if (pos !== -1) {
        types.splice(pos, 1);
        instances.push('Object');
      }
    }
    if (types.length > 0) {
      msg += joinList(types, 'one of type ') ?? `of type ${types[0]}`;
      if (instances.length > 0 || other.length > 0) msg += ' or ';
    }
    if (instances.length > 0) {
      if (instances.length > 2) msg += joinList(instances, 'an instance of ');
      else msg += `an instance of ${instances.join(' or ')}`;
      if (other.length > 0) msg += ' or ';
    }
    if (other.length > 0) {
      const joined = joinList(other, 'one of ');
      if (joined) msg += joined;
      else {
        if (other[0].toLowerCase() !== other[0]) msg += 'an ';
        msg += `${other[0]}`;
      }
    }
    return `${msg}. Received ${determineSpecificType(actual)}`;
  },
  ERR_INVALID_ARG_VALUE(name, value, reason = 'is invalid') {
    let inspected = inspect(value);
    if (inspected.length > 128) inspected = `${inspected.slice(0, 128)}...`;
    const type = name.includes('.') ? 'property' : 'argument';
    return `The ${type} '${name}' ${reason}. Received ${inspected}`;
  },
  ERR_OUT_OF_RANGE(str, range, input) {
    let received;
    if (Number.isInteger(input) && Math.abs(input) > 2 ** 32) received = addNumericalSeparator(String(input));
    else if (typeof input === 'bigint') {
      received = String(input);
      if (input > 2n ** 32n || input < -(2n ** 32n)) received = addNumericalSeparator(received);
      received += 'n';
    } else received = inspect(input);
    return `The value of "${str}" is out of range. It must be ${range}. Received ${received}`;
  },
  // Node's message is the format string 'Unknown signal: %s'.
  ERR_UNKNOWN_SIGNAL: (signal) => format('Unknown signal: %s', signal),
  ERR_CHILD_PROCESS_IPC_REQUIRED: (name) =>
    `Forked processes must have an IPC channel, missing value 'ipc' in ${name}`,
  ERR_CHILD_PROCESS_STDIO_MAXBUFFER: (name) => `${name} maxBuffer length exceeded`,
  ERR_CHILD_CLOSED_BEFORE_REPLY: () => 'Child closed before reply received',
  ERR_IPC_CHANNEL_CLOSED: () => 'Channel closed',
  ERR_IPC_DISCONNECTED: () => 'IPC channel is already disconnected',
  ERR_IPC_ONE_PIPE: () => 'Child process can have only one IPC pipe',
  ERR_IPC_SYNC_FORK: () => 'IPC cannot be used with synchronous forks',
  ERR_INVALID_SYNC_FORK_INPUT: (value) =>
    `Asynchronous forks do not support Buffer, TypedArray, DataView or string input: ${value}`,
  ERR_INVALID_HANDLE_TYPE: () => 'This handle type cannot be sent',
  ERR_MISSING_ARGS(...args) {
    let msg = 'The ';
    const wrap = (a) => `"${a}"`;
    args = args.map((a) => (Array.isArray(a) ? a.map(wrap).join(' or ') : wrap(a)));
    switch (args.length) {
      case 1:
        msg += `${args[0]} argument`;
        break;
      case 2:
        msg += `${args[0]} and ${args[1]} arguments`;
        break;
      default:
        msg += args.slice(0, -1).join(', ') + `, and ${args[args.length - 1]} arguments`;
    }
    return `${msg} must be specified`;
  },
};

const bases = {
  ERR_INVALID_ARG_TYPE: TypeError,
  ERR_INVALID_ARG_VALUE: TypeError,
  ERR_OUT_OF_RANGE: RangeError,
  ERR_UNKNOWN_SIGNAL: TypeError,
  ERR_CHILD_PROCESS_IPC_REQUIRED: Error,
  ERR_CHILD_PROCESS_STDIO_MAXBUFFER: RangeError,
  ERR_CHILD_CLOSED_BEFORE_REPLY: Error,
  ERR_IPC_CHANNEL_CLOSED: Error,
  ERR_IPC_DISCONNECTED: Error,
  ERR_IPC_ONE_PIPE: Error,
  ERR_IPC_SYNC_FORK: Error,
  ERR_INVALID_SYNC_FORK_INPUT: TypeError,
  ERR_INVALID_HANDLE_TYPE: TypeError,
  ERR_MISSING_ARGS: TypeError,
};

function addNumericalSeparator(val) {
  let res = '';
  let i = val.length;
  const start = val[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) res = `_${val.slice(i - 3, i)}${res}`;
  return `${val.slice(0, i)}${res}`;
}

// Node's NodeError: message and toString are non-enumerable own properties, `code` is the only
// enumerable one, and the stack's first line reads `TypeError [ERR_X]: message`.
function makeNodeError(key) {
  const Base = bases[key];
  const getMessage = messages[key];
  function NodeError(...args) {
    const error = new Base();
    const message = getMessage(...args);
    Object.defineProperties(error, {
      message: { value: message, enumerable: false, writable: true, configurable: true },
      toString: {
        value() {
          return `${this.name} [${key}]: ${this.message}`;
        },
        enumerable: false,
        writable: true,
        configurable: true,
      },
    });
    captureStack(error, `${error.name} [${key}]`, NodeError);
    error.code = key;
    return error;
  }
  Object.defineProperty(NodeError, 'name', { value: key });
  return NodeError;
}

// Recomputes `stack` with the given header, dropping our own frames above `fn`.
function captureStack(error, header, fn) {
  Object.defineProperty(error, 'name', { value: header, configurable: true, writable: true });
  Error.captureStackTrace(error, fn);
  // V8 formats `stack` lazily, on first access: read it now, while the header name is in place.
  void error.stack;
  delete error.name;
}

const codes = {};
for (const key of Object.keys(messages)) codes[key] = makeNodeError(key);

// `spawn ls ENOENT`-style errors: Node's ErrnoException. `err` is a negative errno.
function ErrnoException(err, syscall, original) {
  const code = getSystemErrorName(err);
  const message = original ? `${syscall} ${code} ${original}` : `${syscall} ${code}`;
  const ex = new Error(message);
  ex.errno = err;
  ex.code = code;
  ex.syscall = syscall;
  Error.captureStackTrace(ex, ErrnoException);
  return ex;
}

class AbortError extends Error {
  constructor(message = 'The operation was aborted', options = undefined) {
    if (options !== undefined && typeof options !== 'object') {
      throw new codes.ERR_INVALID_ARG_TYPE('options', 'Object', options);
    }
    super(message, options);
    this.code = 'ABORT_ERR';
    this.name = 'AbortError';
  }
}

// Errors that carry fields (exec's "Command failed"): a plain Error with those fields assigned.
function genericNodeError(message, errorProperties) {
  const err = new Error(message);
  Object.assign(err, errorProperties);
  return err;
}

module.exports = { codes, ErrnoException, AbortError, genericNodeError };
