// Loaded into the service by the footprint bench only (NODE_OPTIONS=--require): SIGWINCH runs a full garbage
// collection, so that VmRSS read after it counts what the service keeps, not garbage not yet collected.
'use strict';
const v8 = require('v8');
const vm = require('vm');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
// SIGWINCH: ignored by default, so a service without this file is not harmed; Nest takes SIGUSR2 as a shutdown signal.
process.on('SIGWINCH', () => gc());
