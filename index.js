'use strict';
// child-process-rs: require('child-process-rs') is a drop-in for require('node:child_process').
module.exports = require('./lib/child_process');
