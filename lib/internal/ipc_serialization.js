'use strict';
// The `advanced` serialization of the IPC channel: V8's value-serializer format with Node's host
// object tags (lib/internal/child_process/serialization.js), framed by a 4-byte big-endian length.
//
// Messages are made of plain objects, arrays, strings, numbers and booleans almost always. For
// those, `FrameWriter` writes the V8 format itself, straight into one growing buffer that holds a
// whole batch of frames: a v8.Serializer per message (a C++ object, its own buffers, a Buffer per
// result) costs several times more than the message. Any other value (Buffer, typed array, Map,
// Set, Date, BigInt, Error, holey array, class instance, proxy...) makes it encode that message
// with Node's own serializer instead, so the output is always what V8 would accept and decode to
// the same value. For the values it handles it writes the bytes V8 writes (the tests compare
// them), except where V8's bytes depend on its internal representation (a double-valued array
// element, a two-byte string holding only Latin-1): the decoded value is the same either way.
const v8 = require('node:v8');
const { isProxy } = require('node:util').types;

// Extend V8's serializer APIs to give more JSON-like behaviour in some cases; in particular, for
// native objects this serializes them the same way that JSON does rather than throwing.
const kArrayBufferViewTag = 0;
const kNotArrayBufferViewTag = 1;
class ChildProcessSerializer extends v8.DefaultSerializer {
  _writeHostObject(object) {
    if (ArrayBuffer.isView(object)) {
      this.writeUint32(kArrayBufferViewTag);
      return super._writeHostObject(object);
    }
    this.writeUint32(kNotArrayBufferViewTag);
    this.writeValue({ ...object });
  }
}

class ChildProcessDeserializer extends v8.DefaultDeserializer {
  _readHostObject() {
    const tag = this.readUint32();
    if (tag === kArrayBufferViewTag) return super._readHostObject();
    if (tag !== kNotArrayBufferViewTag) throw new Error(`Invalid host object tag ${tag} in IPC message`);
    return this.readValue();
  }
}

// Node's writeChannelMessage: one message as a Buffer holding the whole frame.
function serializeFrame(message) {
  const ser = new ChildProcessSerializer();
  // Add 4 bytes, to later populate with message length
  ser.writeRawBytes(Buffer.allocUnsafe(4));
  ser.writeHeader();
  ser.writeValue(message);
  const frame = ser.releaseBuffer();
  frame.writeUInt32BE(frame.length - 4, 0);
  return frame;
}

// Calls `onMessage(value, index)` for each frame of `frames`, a Buffer of whole frames.
function deserializeFrames(frames, onMessage) {
  let offset = 0;
  for (let i = 0; offset < frames.length; i++) {
    const size = frames.readUInt32BE(offset);
    const deserializer = new ChildProcessDeserializer(frames.subarray(offset + 4, offset + 4 + size));
    offset += 4 + size;
    deserializer.readHeader();
    onMessage(deserializer.readValue(), i);
  }
}

// The header V8 writes (0xFF, format version), taken from this V8.
const kHeader = (() => {
  const ser = new v8.Serializer();
  ser.writeHeader();
  return ser.releaseBuffer();
})();

// Serialization tags (v8/src/objects/value-serializer.cc).
const TAG_PADDING = 0x00;
const TAG_TRUE = 0x54; // T
const TAG_FALSE = 0x46; // F
const TAG_UNDEFINED = 0x5f; // _
const TAG_NULL = 0x30; // 0
const TAG_INT32 = 0x49; // I
const TAG_DOUBLE = 0x4e; // N
const TAG_ONE_BYTE_STRING = 0x22; // "
const TAG_TWO_BYTE_STRING = 0x63; // c
const TAG_OBJECT_REFERENCE = 0x5e; // ^
const TAG_BEGIN_JS_OBJECT = 0x6f; // o
const TAG_END_JS_OBJECT = 0x7b; // {
const TAG_BEGIN_DENSE_ARRAY = 0x41; // A
const TAG_END_DENSE_ARRAY = 0x24; // $

const kNotOneByte = /[^\u0000-\u00ff]/;
const kArrayIndex = /^(?:0|[1-9][0-9]{0,9})$/;
const kMaxArrayIndex = 2 ** 32 - 2;

// Thrown (and caught) when a value needs the real serializer.
const kFallback = Symbol('kFallback');

const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);

class FrameWriter {
  constructor() {
    this.buf = Buffer.allocUnsafe(64 * 1024);
    // End of the frames written so far.
    this.length = 0;
    this.pos = 0;
    this.frameStart = 0;
    this.ids = new Map();
  }

  // Appends `message` as one frame. Throws what Node's serializer would throw, leaving the
  // frames written before untouched.
  append(message) {
    this.frameStart = this.length;
    this.pos = this.length + 4;
    try {
      this.raw(kHeader);
      this.value(message);
    } catch (err) {
      this.ids.clear();
      if (err !== kFallback && !(err instanceof RangeError)) throw err;
      // Serialize with Node's serializer: it encodes what we do not, or throws its own error.
      const frame = serializeFrame(message);
      this.pos = this.frameStart;
      this.raw(frame);
      this.length = this.pos;
      return;
    }
    this.ids.clear();
    this.buf.writeUInt32BE(this.pos - this.frameStart - 4, this.frameStart);
    this.length = this.pos;
  }

  // The frames written so far, then starts over (the bytes stay valid until the next append).
  take() {
    const frames = this.buf.subarray(0, this.length);
    this.length = 0;
    if (this.buf.length > 1024 * 1024) this.buf = Buffer.allocUnsafe(64 * 1024);
    return frames;
  }

  reserve(n) {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const buf = Buffer.allocUnsafe(size);
    this.buf.copy(buf, 0, 0, this.pos);
    this.buf = buf;
  }

  raw(bytes) {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  varint(n) {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.buf[this.pos++] = n;
  }

  value(v) {
    switch (typeof v) {
      case 'string':
        return this.string(v);
      case 'number':
        return this.number(v);
      case 'boolean':
        this.reserve(1);
        this.buf[this.pos++] = v ? TAG_TRUE : TAG_FALSE;
        return;
      case 'undefined':
        this.reserve(1);
        this.buf[this.pos++] = TAG_UNDEFINED;
        return;
      case 'object':
        if (v === null) {
          this.reserve(1);
          this.buf[this.pos++] = TAG_NULL;
          return;
        }
        return this.object(v);
      default:
        throw kFallback;
    }
  }

  number(n) {
    this.reserve(9);
    // Small integers are Smis in V8 (32-bit on x64 without pointer compression, as Node ships).
    if ((n | 0) === n && !(n === 0 && 1 / n < 0)) {
      this.buf[this.pos++] = TAG_INT32;
      this.varint(((n << 1) ^ (n >> 31)) >>> 0);
      return;
    }
    this.buf[this.pos++] = TAG_DOUBLE;
    float64[0] = n;
    this.buf.set(float64Bytes, this.pos);
    this.pos += 8;
  }

  string(s) {
    const length = s.length;
    if (!kNotOneByte.test(s)) {
      this.reserve(6 + length);
      this.buf[this.pos++] = TAG_ONE_BYTE_STRING;
      this.varint(length);
      this.pos += this.buf.latin1Write(s, this.pos, length);
      return;
    }
    const bytes = length * 2;
    this.reserve(7 + bytes);
    // V8 aligns two-byte string data to two bytes (from the start of the frame).
    if ((this.pos - this.frameStart + 1 + varintSize(bytes)) & 1) this.buf[this.pos++] = TAG_PADDING;
    this.buf[this.pos++] = TAG_TWO_BYTE_STRING;
    this.varint(bytes);
    this.pos += this.buf.ucs2Write(s, this.pos, bytes);
  }

  object(o) {
    const seen = this.ids.get(o);
    if (seen !== undefined) {
      this.reserve(6);
      this.buf[this.pos++] = TAG_OBJECT_REFERENCE;
      this.varint(seen);
      return;
    }
    const proto = Object.getPrototypeOf(o);
    if (Array.isArray(o)) {
      if (proto !== Array.prototype || isProxy(o)) throw kFallback;
      return this.array(o);
    }
    if ((proto !== Object.prototype && proto !== null) || isProxy(o)) throw kFallback;
    this.ids.set(o, this.ids.size);
    const keys = Object.keys(o);
    this.reserve(1);
    this.buf[this.pos++] = TAG_BEGIN_JS_OBJECT;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      // Array-index keys are elements in V8 and are written as numbers.
      const code = key.charCodeAt(0);
      if (code >= 0x30 && code <= 0x39 && kArrayIndex.test(key) && +key <= kMaxArrayIndex) {
        this.number(+key);
      } else {
        this.string(key);
      }
      this.value(o[key]);
    }
    this.reserve(6);
    this.buf[this.pos++] = TAG_END_JS_OBJECT;
    this.varint(keys.length);
  }

  array(a) {
    const length = a.length;
    // Holes and extra properties take V8's other array format: leave those to V8. The keys list
    // array indices first, in order: `length` of them ending at `length - 1` means exactly 0..n-1,
    // and no other key.
    const keys = Object.keys(a);
    if (keys.length !== length || (length !== 0 && keys[length - 1] !== `${length - 1}`)) throw kFallback;
    this.ids.set(a, this.ids.size);
    this.reserve(6);
    this.buf[this.pos++] = TAG_BEGIN_DENSE_ARRAY;
    this.varint(length);
    for (let i = 0; i < length; i++) this.value(a[i]);
    this.reserve(11);
    this.buf[this.pos++] = TAG_END_DENSE_ARRAY;
    this.varint(0);
    this.varint(length);
  }
}

function varintSize(n) {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

module.exports = { FrameWriter, serializeFrame, deserializeFrames, ChildProcessSerializer };
