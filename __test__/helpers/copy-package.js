'use strict';
// Makes a second, independent copy of the installed package (JS files and the built binary) under
// <dir>/node_modules/child-process-rs: a second copy on disk loads as a separate module and a
// separate native registration, as when two dependencies each bundle their own copy.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const { binaryName } = require('../../package.json').napi;
const BINARY = `${binaryName}.${process.platform}-${process.arch}-gnu.node`;
const JS_FILES = ['index.js', 'index.mjs', 'register.js', 'package.json'];

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cprs-${prefix}-`));
}

// Copies the package's JS into `dest`; with `binary`, the built .node too.
function copyPackageTo(dest, { binary = true } = {}) {
  fs.mkdirSync(dest, { recursive: true });
  for (const f of JS_FILES) fs.copyFileSync(path.join(ROOT, f), path.join(dest, f));
  fs.cpSync(path.join(ROOT, 'lib'), path.join(dest, 'lib'), { recursive: true });
  if (binary) fs.copyFileSync(path.join(ROOT, BINARY), path.join(dest, BINARY));
  return dest;
}

// A temp project whose node_modules holds a copy of the package. Returns the project dir.
function projectWithCopy(prefix) {
  const dir = tempDir(prefix);
  copyPackageTo(path.join(dir, 'node_modules', 'child-process-rs'));
  return dir;
}

module.exports = { BINARY, tempDir, copyPackageTo, projectWithCopy };
