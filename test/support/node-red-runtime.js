'use strict';
/* global require, process */
// Preloaded (node --require / NODE_OPTIONS) to run the unchanged test suite against another Node-RED:
// with NODE_RED_RUNTIME=<path to node-red's lib/red.js>, require('node-red'), require.resolve('node-red')
// and require('@node-red/…') resolve inside that installation, so `helper.init(require.resolve('node-red'))`
// and the core nodes a test loads all come from one runtime. Without the variable it does nothing.
// Plain JavaScript so it also preloads in child processes that start ts-node only afterwards.
const Module = require('node:module');
const path = require('node:path');

const runtime = process.env.NODE_RED_RUNTIME;
if (runtime && !Module._nodeRedRuntimeHook) {
  // …/node_modules/node-red/lib/red.js → …/node_modules/node-red: lookups start there, so node-red's own
  // nested node_modules win over the hoisted ones, as they do for Node-RED itself.
  const nodeRedDir = path.resolve(path.dirname(runtime), '..');
  const original = Module._resolveFilename;
  const redirected = /^(node-red(\/|$)|@node-red\/)/;
  Module._resolveFilename = function (request, parent, isMain, options) {
    if (redirected.test(request) && !(options && options.paths)) {
      return original.call(this, request, parent, isMain, { paths: [nodeRedDir] });
    }
    return original.call(this, request, parent, isMain, options);
  };
  Module._nodeRedRuntimeHook = nodeRedDir;
}
