'use strict';
// Loads the compiled addon (build/Release/layerwise_native.node). Throws when it was not built;
// src/engine/kernels/native.ts catches that and keeps the pure-wasm kernels.
// LAYERWISE_NATIVE_ADDON=/path/to/other.node loads another build instead (A/B of kernels, bench/step-time.ts).
module.exports = require(process.env.LAYERWISE_NATIVE_ADDON || './build/Release/layerwise_native.node');
