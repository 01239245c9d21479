'use strict';
// Loads the native addon: the binary built in the package root, else a prebuilt platform package
// (napi-rs layout, npm/<triple>). Hand-written instead of napi-rs's generated loader because that
// one falls back to require('child_process').execSync('ldd --version'), which with the register
// hook would reach this very module.
const fs = require('node:fs');
const path = require('node:path');

const { binaryName } = require('../package.json').napi;

function candidates() {
  if (process.env.NAPI_RS_NATIVE_LIBRARY_PATH) return [process.env.NAPI_RS_NATIVE_LIBRARY_PATH];
  const { platform, arch } = process;
  const abis = platform === 'linux' ? ['-gnu', '-musl'] : [''];
  // A binary built from source sits in the package root; a stat is cheap, so look there first.
  const local = abis.map((abi) => path.join(__dirname, '..', `${binaryName}.${platform}-${arch}${abi}.node`));
  const built = local.filter((file) => fs.existsSync(file));
  if (built.length > 0) return built;
  // Otherwise a prebuilt platform package. Only now pay for asking which libc we run on.
  let abi = abis[0];
  if (platform === 'linux' && !process.report?.getReport?.().header?.glibcVersionRuntime) abi = '-musl';
  return [`${binaryName}-${platform}-${arch}${abi}`];
}

function load() {
  const errors = [];
  for (const file of candidates()) {
    try {
      return require(file);
    } catch (err) {
      errors.push(err);
    }
  }
  const err = new Error(
    `child-process-rs: cannot load the native addon for ${process.platform}-${process.arch}. ` +
      'Run `npm rebuild child-process-rs` (needs Rust) or see Troubleshooting in the README.',
  );
  err.cause = errors.length === 1 ? errors[0] : new AggregateError(errors, 'every candidate failed');
  throw err;
}

module.exports = load();
