'use strict';
// The validators of Node's lib/internal/validators.js that child_process uses, same names, same
// errors.
const { fileURLToPath } = require('node:url');
const { constants: { signals } } = require('node:os');
const { codes: { ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE, ERR_UNKNOWN_SIGNAL } } =
  require('./errors');

const isInt32 = (value) => value === (value | 0);

function validateString(value, name) {
  if (typeof value !== 'string') throw new ERR_INVALID_ARG_TYPE(name, 'string', value);
}

function validateBoolean(value, name) {
  if (typeof value !== 'boolean') throw new ERR_INVALID_ARG_TYPE(name, 'boolean', value);
}

function validateFunction(value, name) {
  if (typeof value !== 'function') throw new ERR_INVALID_ARG_TYPE(name, 'Function', value);
}

function validateArray(value, name, minLength = 0) {
  if (!Array.isArray(value)) throw new ERR_INVALID_ARG_TYPE(name, 'Array', value);
  if (value.length < minLength) {
    throw new ERR_INVALID_ARG_VALUE(name, value, `must be longer than ${minLength}`);
  }
}

function validateObject(value, name, { allowArray = false, allowFunction = false, nullable = false } = {}) {
  if ((!nullable && value === null) || (!allowArray && Array.isArray(value)) ||
      (typeof value !== 'object' && (!allowFunction || typeof value !== 'function'))) {
    throw new ERR_INVALID_ARG_TYPE(name, 'Object', value);
  }
}

function validateOneOf(value, name, oneOf) {
  if (!oneOf.includes(value)) {
    const allowed = oneOf.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');
    throw new ERR_INVALID_ARG_VALUE(name, value, 'must be one of: ' + allowed);
  }
}

function validateAbortSignal(signal, name) {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw new ERR_INVALID_ARG_TYPE(name, 'AbortSignal', signal);
  }
}

function validateTimeout(timeout) {
  if (timeout != null && !(Number.isInteger(timeout) && timeout >= 0)) {
    throw new ERR_OUT_OF_RANGE('timeout', 'an unsigned integer', timeout);
  }
}

function validateMaxBuffer(maxBuffer) {
  if (maxBuffer != null && !(typeof maxBuffer === 'number' && maxBuffer >= 0)) {
    throw new ERR_OUT_OF_RANGE('options.maxBuffer', 'a positive number', maxBuffer);
  }
}

function validateArgumentNullCheck(arg, propName) {
  if (typeof arg === 'string' && arg.includes('\u0000')) {
    throw new ERR_INVALID_ARG_VALUE(propName, arg, 'must be a string without null bytes');
  }
}

function validateArgumentsNullCheck(args, propName) {
  for (let i = 0; i < args.length; ++i) validateArgumentNullCheck(args[i], `${propName}[${i}]`);
}

let signalsToNames;
function getSignalsToNamesMapping() {
  if (signalsToNames === undefined) {
    signalsToNames = { __proto__: null };
    for (const key in signals) signalsToNames[signals[key]] = key;
  }
  return signalsToNames;
}

// The name Node reports for a signal that ended a child (its C++ signo_string): the first name
// os.constants.signals lists for the number, so 6 is SIGABRT (not SIGIOT) and 29 SIGIO (not
// SIGPOLL); '' for a number without a name (the realtime signals).
let signoNames;
function signoString(signo) {
  if (signoNames === undefined) {
    signoNames = { __proto__: null };
    for (const key in signals) signoNames[signals[key]] ??= key;
  }
  return signoNames[signo] ?? '';
}

function convertToValidSignal(signal) {
  if (typeof signal === 'number' && getSignalsToNamesMapping()[signal]) return signal;
  if (typeof signal === 'string') {
    const number = signals[signal.toUpperCase()];
    if (number) return number;
  }
  throw new ERR_UNKNOWN_SIGNAL(signal);
}

function sanitizeKillSignal(killSignal) {
  if (typeof killSignal === 'string' || typeof killSignal === 'number') return convertToValidSignal(killSignal);
  if (killSignal != null) throw new ERR_INVALID_ARG_TYPE('options.killSignal', ['string', 'number'], killSignal);
}

function isURL(self) {
  return Boolean(self?.href && self.protocol && self.auth === undefined && self.path === undefined);
}

// fs's getValidatedPath (for a cwd, fork's modulePath): a string, Buffer/Uint8Array or file: URL,
// without NUL bytes. Returned as given (a URL as its path), as Node does.
function getValidatedPath(fileURLOrPath, propName) {
  const path = isURL(fileURLOrPath) ? fileURLToPath(fileURLOrPath) : fileURLOrPath;
  const isString = typeof path === 'string';
  if (!isString && !(path instanceof Uint8Array)) {
    throw new ERR_INVALID_ARG_TYPE(propName, ['string', 'Buffer', 'URL'], path);
  }
  if (isString ? path.includes('\u0000') : path.includes(0)) {
    throw new ERR_INVALID_ARG_VALUE(propName, path, 'must be a string, Uint8Array, or URL without null bytes');
  }
  // Like Node's, a Buffer stays a Buffer (spawn() then ignores it: only a string cwd is used).
  return path;
}

module.exports = {
  isInt32,
  validateString,
  validateBoolean,
  validateFunction,
  validateArray,
  validateObject,
  validateOneOf,
  validateAbortSignal,
  validateTimeout,
  validateMaxBuffer,
  validateArgumentNullCheck,
  validateArgumentsNullCheck,
  convertToValidSignal,
  sanitizeKillSignal,
  getSignalsToNamesMapping,
  signoString,
  getValidatedPath,
};
