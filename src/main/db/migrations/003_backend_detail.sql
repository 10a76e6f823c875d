-- What exactly ran a run: e.g. "wasm (XNNPACK, SIMD, 1 thread) + native kernels (AVX-512 …); threads: 2"
-- or the WebGPU adapter. Metrics are reproducible for the same backend and thread count.
ALTER TABLE runs ADD COLUMN backend_detail TEXT;
