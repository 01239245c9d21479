'use strict';
// Builds the native addon from source with cargo (release profile) and puts it where
// lib/binding.js looks first. Runs as the package's `install` script, so `npm install` in a clone
// (or in a project that installs the tarball) builds it. A prebuilt binary that already loads is
// kept unless --force is given.
//
// This file must never require('child_process') by name: with child-process-rs/register loaded
// that would be ourselves. It uses node:child_process explicitly, which is never redirected.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const { binaryName } = require('../package.json').napi;
const triple = `${process.platform}-${process.arch}-gnu`;
const dest = path.join(root, `${binaryName}.${triple}.node`);
const force = process.argv.includes('--force');

function loads(file) {
  try {
    require(file);
    return true;
  } catch {
    return false;
  }
}

if (!force && fs.existsSync(dest) && loads(dest) && !process.env.CHILD_PROCESS_RS_REBUILD) {
  process.exit(0);
}

const cargo = process.env.CARGO || 'cargo';
const r = spawnSync(cargo, ['build', '--release', '--lib', '--message-format=short'], {
  cwd: root,
  stdio: 'inherit',
});
if (r.error || r.status !== 0) {
  console.error(
    '\nchild-process-rs: building the native addon failed.\n' +
      'It needs a Rust toolchain (https://rustup.rs, rustc >= 1.88) and a C linker (gcc or clang).\n' +
      'See "Troubleshooting" in the README.',
  );
  process.exit(r.status || 1);
}
const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target');
fs.copyFileSync(path.join(targetDir, 'release', 'libchild_process_rs.so'), dest);
