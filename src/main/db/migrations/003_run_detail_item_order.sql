-- What exactly ran a run: e.g. "wasm (XNNPACK, SIMD, 1 thread) + native kernels (AVX-512 …); threads: 2"
-- or the WebGPU adapter. Metrics are reproducible for the same backend and thread count.
ALTER TABLE runs ADD COLUMN backend_detail TEXT;

-- Item pages are listed in import order (id) per dataset: this index serves
-- `WHERE dataset_id = ? ORDER BY id LIMIT ? OFFSET ?` without a sort.
CREATE INDEX items_dataset_id ON items (dataset_id, id);
