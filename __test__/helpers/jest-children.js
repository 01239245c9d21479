'use strict';
// For jest files: the pids of this process's direct children that still exist (running or
// zombie), read from /proc. After a test file has waited for its children, there must be none:
// nothing a file spawned may outlive it or stay unreaped into the next file.
const fs = require('node:fs');

function liveChildren() {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // Field 4 (ppid) follows "pid (comm) state"; comm may contain spaces, so split after ')'.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(ppid) === process.pid) pids.push(`${entry}:${state}`);
  }
  return pids;
}

module.exports = { liveChildren };
