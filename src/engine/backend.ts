/**
 * Backend selection for the engine process.
 *
 * Order (docs/ARCHITECTURE.md "Engine"): WebGPU through the `webgpu` package (Dawn) when a
 * hardware adapter exists, else the `wasm` backend (XNNPACK, SIMD, one thread in Node),
 * with our extra kernels registered (./kernels). The `cpu` backend is a correctness
 * reference for tests only and is never chosen here.
 */
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers them all.
import '@tensorflow/tfjs-layers';
import type { BackendChoice } from '../shared/spec';
import { registerEngineKernels } from './kernels';
import { nativeAddon, nativeLoadError, setNativeThreads, threadSetting } from './kernels/native';

export interface BackendInfo {
  /** tfjs backend name: 'webgpu' | 'wasm'. */
  backend: string;
  /** Human-readable details: adapter name, SIMD / threads. */
  detail: string;
}

/** Words in an adapter's info that mark a software (CPU) implementation of WebGPU. */
const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software|\bcpu\b|microsoft basic render/i;

/**
 * Folder holding tfjs-backend-wasm's `.wasm` binaries, with a trailing separator.
 * Resolved through Node's module resolution so it works from the sources (tsx, Vitest)
 * and from the bundle `out/main/engine.js` (dependencies stay external there).
 */
export function wasmDistDir(): string {
  // `__filename` does not exist in ESM (Vitest); a require anchored at the cwd still resolves node_modules.
  const req = createRequire(typeof __filename === 'string' ? __filename : `${process.cwd()}${sep}index.js`);
  return dirname(req.resolve('@tensorflow/tfjs-backend-wasm')) + sep;
}

let wasmPathsSet = false;

/** Engine options beside the spec's backend choice. */
export interface BackendOptions {
  /** CPU threads for the native kernels; default env LAYERWISE_THREADS, else every core (os.availableParallelism()). */
  threads?: number;
}

/**
 * Initialise the wasm backend (idempotent) and register our kernels on it: the native
 * addon's (threaded) when it is built, the pure-wasm ones otherwise.
 */
async function initWasm(opts: BackendOptions): Promise<BackendInfo> {
  if (!wasmPathsSet) {
    setWasmPaths(wasmDistDir());
    wasmPathsSet = true;
  }
  registerEngineKernels();
  // The Emscripten glue of tfjs-backend-wasm adds process-wide uncaughtException /
  // unhandledRejection handlers that rethrow (crashing the process and printing the whole
  // minified module); the engine handles its own errors, so remove the ones it added.
  const before = { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('backend: the wasm backend failed to initialise');
    await tf.ready();
  } finally {
    const proc = process as unknown as { listeners(ev: string): unknown[]; removeListener(ev: string, l: unknown): void };
    for (const ev of ['uncaughtException', 'unhandledRejection'] as const) {
      for (const l of proc.listeners(ev)) if (!(before[ev] as unknown[]).includes(l)) proc.removeListener(ev, l);
    }
  }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const wasm = `wasm (XNNPACK, ${simd ? 'SIMD' : 'no SIMD'}, its own kernels single-threaded)`;
  const na = nativeAddon();
  if (!na) return { backend: 'wasm', detail: `${wasm}; native kernels off: ${nativeLoadError()}; threads: 1` };
  const threads = setNativeThreads(opts.threads ?? threadSetting());
  return { backend: 'wasm', detail: `${wasm} + native kernels (${na.simd()}); threads: ${threads}` };
}

/**
 * Look for a WebGPU adapter through Dawn. Lazy: `webgpu` and tfjs-backend-webgpu are
 * imported only here.
 * @returns `{ description }` of the adapter, or `{ why }` when there is none or it is a
 *   software adapter (lavapipe, SwiftShader) and LAYERWISE_ALLOW_SOFTWARE_GPU is not '1'.
 * @throws never; a failed import or request reads as "no adapter" with the reason in `why`.
 */
export async function probeWebGpu(): Promise<{ description: string } | { why: string }> {
  try {
    const { create, globals } = (await import('webgpu')) as unknown as { create: (o: string[]) => any; globals: object };
    Object.assign(globalThis, globals);
    const gpu = create([]);
    // Node ≥ 21 and Electron define a read-only `navigator` getter: redefine it.
    const nav = (globalThis as any).navigator ?? {};
    Object.defineProperty(globalThis, 'navigator', { value: Object.assign(Object.create(nav), { gpu }), configurable: true, writable: true });
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { why: 'no WebGPU adapter' };
    const info = adapter.info ?? {};
    const description = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
    if (/null-backend/.test(description)) return { why: "Dawn's null backend is not a GPU" };
    const software = Boolean(info.isFallbackAdapter) || SOFTWARE_ADAPTER.test(description);
    if (software && process.env.LAYERWISE_ALLOW_SOFTWARE_GPU !== '1') return { why: `only a software WebGPU adapter (${description})` };
    return { description: software ? `${description} (software)` : description };
  } catch (e) {
    return { why: `WebGPU unavailable: ${(e as Error).message}` };
  }
}

/**
 * Choose and initialise the tfjs backend.
 * - 'auto': WebGPU on a hardware adapter, else wasm.
 * - 'gpu': WebGPU or fail.
 * - 'cpu': wasm (the CPU path of the app; tfjs' plain `cpu` backend is too slow to train).
 * Set LAYERWISE_ALLOW_SOFTWARE_GPU=1 to accept a software adapter (lavapipe) for tests.
 * The CPU path uses `opts.threads` (else LAYERWISE_THREADS, else all cores); the count is
 * in `detail` ("threads: N"), which the engine reports in its `ready` message.
 * @throws Error when 'gpu' is asked and no usable adapter exists, or a backend fails to start.
 */
export async function initBackend(choice: BackendChoice, opts: BackendOptions = {}): Promise<BackendInfo> {
  if (choice === 'auto' || choice === 'gpu') {
    const probe = await probeWebGpu();
    if ('description' in probe) {
      await import('@tensorflow/tfjs-backend-webgpu');
      if (await tf.setBackend('webgpu')) {
        await tf.ready();
        return { backend: 'webgpu', detail: `webgpu: ${probe.description}` };
      }
      if (choice === 'gpu') throw new Error(`backend: the WebGPU backend failed to initialise on ${probe.description}`);
    } else if (choice === 'gpu') {
      throw new Error(`backend: 'gpu' was requested but no usable GPU was found (${probe.why}); choose 'auto' or 'cpu'`);
    }
  }
  return initWasm(opts);
}
