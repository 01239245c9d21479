'use strict';
// What child-process-rs adds to Node's ChildProcess. Every name here is new (none collides with
// Node's), and every default is Node's behaviour: nothing changes unless asked for.
//
//   spawn options   killOnParentExit: true     the child gets SIGKILL when this process dies
//                   killEscalationDelay: ms    after a successful kill() with a catchable signal,
//                                              SIGKILL if the child is still alive after ms
//   methods         child.killTree([signal])   signal the child and all of its descendants
//                   child.resourceUsage()      rusage of the exited child (undefined before exit)
//   properties      child.exited               a promise of { exitCode, signalCode }
const { constants: { signals } } = require('node:os');

const { ChildProcess, kResourceUsage, kKillEscalationDelay, signalChild } = require('./child_process');
const { codes: { ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE } } = require('./errors');
const { validateBoolean } = require('./validators');

const kExited = Symbol('kExited');

// Validates the extra spawn options and turns them into what the native spawn takes.
function normalizeExtraOptions(options) {
  if (options.killOnParentExit != null) validateBoolean(options.killOnParentExit, 'options.killOnParentExit');
  const delay = options.killEscalationDelay;
  if (delay != null && delay !== false) {
    if (typeof delay !== 'number') {
      throw new ERR_INVALID_ARG_TYPE('options.killEscalationDelay', ['number', 'boolean'], delay);
    }
    if (!Number.isInteger(delay) || delay < 0) {
      throw new ERR_OUT_OF_RANGE('options.killEscalationDelay', 'a non-negative integer', delay);
    }
  }
  return {
    parentDeathSignal: options.killOnParentExit ? signals.SIGKILL : undefined,
    killEscalationDelay: typeof delay === 'number' ? delay : undefined,
  };
}

ChildProcess.prototype.killTree = function killTree(sig) {
  return signalChild(this, sig, 'killTree');
};

ChildProcess.prototype.resourceUsage = function resourceUsage() {
  const u = this[kResourceUsage];
  if (u === undefined) return undefined;
  const [userCPUTime, systemCPUTime, maxRSS, minorPageFault, majorPageFault, fsRead, fsWrite,
    voluntaryContextSwitches, involuntaryContextSwitches] = u;
  // Field names and units as Node's process.resourceUsage(): CPU in µs, maxRSS in KiB.
  return {
    userCPUTime, systemCPUTime, maxRSS, minorPageFault, majorPageFault, fsRead, fsWrite,
    voluntaryContextSwitches, involuntaryContextSwitches,
  };
};

Object.defineProperty(ChildProcess.prototype, 'exited', {
  configurable: true,
  enumerable: false,
  get() {
    // Made on first use only: an unobserved promise rejected by a spawn error would otherwise
    // become an unhandled rejection for users who never asked for it.
    this[kExited] ??= new Promise((resolve, reject) => {
      if (this._handle === null && (this.exitCode !== null || this.signalCode !== null)) {
        resolve({ exitCode: this.exitCode, signalCode: this.signalCode });
        return;
      }
      const onError = (err) => {
        if (this.pid === undefined) reject(err);
      };
      this.on('error', onError);
      this.once('exit', (exitCode, signalCode) => {
        this.removeListener('error', onError);
        resolve({ exitCode, signalCode });
      });
    });
    return this[kExited];
  },
});

module.exports = { normalizeExtraOptions, kKillEscalationDelay };
