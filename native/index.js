'use strict';
// Loads the compiled addon (build/Release/layerwise_native.node). Throws when it was not built;
// src/engine/kernels/native.ts catches that and keeps the pure-wasm kernels.
module.exports = require('./build/Release/layerwise_native.node');
