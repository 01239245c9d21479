'use strict';
// Builds the native addon from source with cargo (release profile) and puts it where
// lib/binding.js looks first. Runs as the package's `install` script, so `npm install` in a clone
// (or in a project that installs the tarball) builds it. A prebuilt binary that already loads is
// kept unless --force is given.
//
// This file must never spawn through child-process-rs itself: with child-process-rs/register
// loaded (say NODE_OPTIONS=--require=child-process-rs/register during `npm rebuild`), both
// 'child_process' and 'node:child_process' are ours, and we would run the addon we are replacing.
// register.js keeps Node's own functions on the builtin object under a global symbol; use those.
const nodeChildProcess = require('node:child_process');
const { spawnSync } = nodeChildProcess[Symbol.for('child-process-rs.register')]?.originals ?? nodeChildProcess;
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const { binaryName } = require('../package.json').napi;
const triple = `${process.platform}-${process.arch}-gnu`;
const dest = path.join(root, `${binaryName}.${triple}.node`);
const force = process.argv.includes('--force');

// True when lib/binding.js finds a binary that loads: the one built here, or a prebuilt platform
// package (npm/<triple>, installed as an optional dependency). Then there is nothing to build.
function bindingLoads() {
  try {
    require('../lib/binding');
    return true;
  } catch {
    return false;
  }
}

if (!force && !process.env.CHILD_PROCESS_RS_REBUILD && bindingLoads()) {
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
// Copy, then rename over the destination: never write into a .node file in place. Another process
// (a running test, an app) may have it mapped, and truncating a mapped library kills that process
// with SIGBUS; rename leaves its mapping on the old inode.
const tmp = `${dest}.${process.pid}.tmp`;
fs.copyFileSync(path.join(targetDir, 'release', 'libchild_process_rs.so'), tmp);
fs.renameSync(tmp, dest);
