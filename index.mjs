// ESM entry: `import cp, { spawn } from 'child-process-rs'`. It re-exports the CommonJS module, so
// ESM and CommonJS users share one instance (one engine, one set of live children).
//
// The named exports are Node 20's public child_process names, listed statically because ESM needs
// them at link time. __test__/exports.test.js checks this list against node:child_process.
import cp from './index.js';

export default cp;
export const {
  ChildProcess,
  exec,
  execFile,
  execFileSync,
  execSync,
  fork,
  spawn,
  spawnSync,
} = cp;
