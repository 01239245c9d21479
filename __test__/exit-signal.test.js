'use strict';
// The name of the signal that ended a child, as Node's C++ signo_string gives it: the first of two
// aliases (SIGABRT, not SIGIOT; SIGIO, not SIGPOLL), and '' for signals without a name.
const { test } = require('node:test');
const { differential } = require('./helpers/differential');

test('aliased and unnamed signals are named as Node names them', () => {
  differential(async (h) => {
    for (const sig of ['ABRT', 'IO', 'SYS', '40']) {
      await h.watch(h.cp.spawn('bash', ['-c', `kill -${sig} $$`]), sig);
    }
  });
});
