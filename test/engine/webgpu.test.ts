/**
 * The WebGPU path (tfjs-backend-webgpu through Dawn, the `webgpu` package) against tfjs'
 * `cpu` backend, in one process (Vitest runs each file in its own fork, and tfjs
 * backends are process-wide): every kernel the app's models use, forward and backward,
 * the optimizers' updates, and real training steps of each preset through train().
 *
 * Without a GPU this runs on a software Vulkan adapter: Chromium's SwiftShader
 * (`/usr/lib/chromium/vk_swiftshader_icd.json`, Debian package `chromium`) through the
 * Vulkan loader (`libvulkan1`); Dawn flags it as a fallback adapter, which the engine
 * accepts only with LAYERWISE_ALLOW_SOFTWARE_GPU=1 (set here). VK_ICD_FILENAMES is set to
 * SwiftShader unless it is already set; LAYERWISE_WEBGPU_TEST_HW=1 leaves the Vulkan
 * loader alone (a machine with a real GPU). With no adapter the suite is skipped and
 * says why.
 *
 * Error measure: max |webgpu − cpu| / max |cpu| per tensor (normwise, so values near 0
 * do not dominate). Tolerances (docs/ENGINE.md "WebGPU"):
 * - single kernels ≤ 1e-4: both backends compute in float32; only the order of the
 *   additions differs (tiled / tree reductions on the GPU, sequential loops on the CPU).
 *   For a sum of n terms the rounding error bound is about n·2⁻²⁴·Σ|terms|; for the
 *   sizes here (n ≤ a few hundred) that stays well below 1e-4 of the result's scale.
 * - training (train(), a few steps): looser, see the comment at TRAIN_TOL.
 * Over 400 lines: one process holds the WebGPU backend (tfjs backends are process-wide), so
 * every WebGPU check lives in this one file.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync, fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend, type BackendInfo } from '../../src/engine/backend';
import { ENGINE_KERNELS, engineKernelLayers } from '../../src/engine/kernels';
import { crossEntropyFromLogits } from '../../src/engine/model';
import { Rng } from '../../src/engine/random';
import { makeOptimizer, train } from '../../src/engine/train';
import { EngineToMainSchema, type EngineToMain, type TrainJob } from '../../src/shared/engine-protocol';
import { buildPreset, parseRunSpec, type OptimizerSpec, type RunSpecInput } from '../../src/shared/spec';
import { writeSyntheticPack } from './helpers/pack';
import { maxRelErr as relErr } from './helpers/compare';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (process.env.LAYERWISE_WEBGPU_TEST_HW !== '1' && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}
process.env.LAYERWISE_ALLOW_SOFTWARE_GPU = '1';

/** What is missing for a Vulkan adapter (with what to install), as '; missing: …', or '' when nothing obvious is. */
function missingPrerequisites(): string {
  const missing: string[] = [];
  let vulkan = false;
  try {
    vulkan = /libvulkan\.so\.1\b/.test(execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }));
  } catch {
    vulkan = existsSync('/usr/lib/x86_64-linux-gnu/libvulkan.so.1') || existsSync('/usr/lib/aarch64-linux-gnu/libvulkan.so.1');
  }
  if (!vulkan) missing.push('the Vulkan loader libvulkan.so.1 (apt-get install libvulkan1)');
  const icd = process.env.VK_ICD_FILENAMES;
  if (!icd && !existsSync(SWIFTSHADER_ICD)) missing.push(`SwiftShader's ICD ${SWIFTSHADER_ICD} (apt-get install chromium)`);
  else if (icd && icd.split(':').every((f) => !existsSync(f))) missing.push(`the Vulkan driver VK_ICD_FILENAMES names (${icd})`);
  return missing.length ? `; missing: ${missing.join(', ')}` : '';
}

let gpu: BackendInfo | null = null;
let skipReason = '';
try {
  gpu = await initBackend('gpu');
} catch (e) {
  skipReason = `${(e as Error).message}${missingPrerequisites()}`;
  console.warn(`test/engine/webgpu.test.ts: SKIPPED, no WebGPU adapter: ${skipReason}`);
}
if (gpu) console.info(`test/engine/webgpu.test.ts: ${gpu.detail} (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'})`);

/** Kernels: max |webgpu − cpu| / max |cpu|. */
const KERNEL_TOL = 1e-4;
/**
 * Training: 2 epochs of one mini-batch step each (4 steps' worth of kernels, forward in
 * training and inference mode, backward, optimizer). Tolerance 1e-3 (normwise), looser
 * than a single kernel's because errors compound through the layers and steps, and Adam
 * divides by √v̂: after one step its update is ≈ lr·sign(g) per weight, so a gradient
 * component whose true value is within float32 rounding of 0 (batch-norm's β, weights of
 * inputs that are zero everywhere) can move by up to lr (3e-3) in the other direction on
 * one backend. Losses and predictions are compared at TRAIN_METRIC_TOL = 1e-4: they are
 * averages over the batch and depend on the weights smoothly; accuracies must be equal.
 * Measured values are printed (docs/ENGINE.md quotes them); on SwiftShader they are at
 * least 60× below the tolerances.
 */
const TRAIN_TOL = 1e-3;
const TRAIN_METRIC_TOL = 1e-4;
/** Measured errors, printed as a table at the end (docs/ENGINE.md quotes them). */
const measured: { check: string; relErr: number; tol: number }[] = [];

function randArray(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** Run `f` on `backend` with fresh tensors (built inside f from plain arrays); read every output back asynchronously. */
async function on(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  try {
    const outs = tf.tidy(() => {
      const r = f();
      return Array.isArray(r) ? r : [r];
    });
    // Computed where asked (not on a backend the inputs were left on).
    for (const t of outs) expect(tf.engine().state.tensorInfo.get(t.dataId)?.backend).toBe(tf.engine().backend);
    const data = await Promise.all(outs.map((t) => t.data()));
    tf.dispose(outs);
    return data.map((d) => Float32Array.from(d as Float32Array));
  } finally {
    await tf.setBackend('webgpu');
  }
}

/**
 * Compute `f` on webgpu and on cpu and compare each output; records and asserts the
 * error per output (`names` label them).
 */
async function compare(check: string, names: string[], f: () => tf.Tensor | tf.Tensor[], tol = KERNEL_TOL): Promise<void> {
  const g = await on('webgpu', f);
  const c = await on('cpu', f);
  expect(g.length).toBe(names.length);
  for (let i = 0; i < names.length; i++) {
    const err = relErr(g[i], c[i]);
    measured.push({ check: `${check}: ${names[i]}`, relErr: err, tol });
    expect(Number.isFinite(err), `${check}: ${names[i]} is not finite`).toBe(true);
    expect(err, `${check}: ${names[i]}`).toBeLessThanOrEqual(tol);
  }
}

afterAll(() => {
  if (measured.length === 0) return;
  const lines = measured.map((m) => `${m.relErr.toExponential(2).padStart(9)}  (tol ${m.tol.toExponential(0)})  ${m.check}`);
  console.info(`webgpu vs cpu, max |Δ| / max |cpu|:\n${lines.join('\n')}`);
});

describe.skipIf(!gpu)('WebGPU (Dawn) against the cpu backend', () => {
  it('initBackend("gpu") gives webgpu; our wasm/native kernels are not registered on webgpu', () => {
    expect(gpu?.backend).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(ENGINE_KERNELS.every((k) => k.backendName === 'wasm')).toBe(true);
    const ours = new Set<unknown>();
    for (const l of engineKernelLayers.values()) for (const c of [l.wasm, l.native]) if (c) ours.add(c.kernelFunc);
    // Every kernel the presets' training needs exists on webgpu, and it is tfjs' own.
    const needed = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MaxPool', 'MaxPoolGrad', 'AvgPool', 'AvgPoolGrad', 'BatchMatMul', '_FusedMatMul', 'FusedBatchNorm', 'Sum', 'Mean', 'Tile', 'Relu', 'Step', 'Tanh', 'Sigmoid', 'Softmax', 'Max', 'Exp', 'Log', 'OneHot', 'ArgMax', 'Floor', 'Sqrt', 'Rsqrt', 'Abs', 'Sign', 'Square',
      // the graph spec's ops (issue 8): add, concatenate, global pooling, depthwise convolution, zero padding, relu6 / elu / leaky relu, and their gradients
      'Add', 'Concat', 'SplitV', 'Slice', 'PadV2', 'DepthwiseConv2dNative', 'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'Relu6', 'Elu', 'EluGrad', 'LeakyRelu', 'Greater', 'LessEqual', 'Select', 'Equal', 'Cast'];
    for (const name of needed) {
      const k = tf.getKernel(name, 'webgpu');
      expect(k, `${name} on webgpu`).toBeDefined();
      expect(ours.has(k!.kernelFunc), `${name} on webgpu is ours`).toBe(false);
    }
  });

  describe('convolution', () => {
    const cases: { h: number; k: number; cin: number; cout: number; s: number; pad: 'same' | 'valid' }[] = [];
    for (const s of [1, 2]) for (const pad of ['same', 'valid'] as const) cases.push({ h: 9, k: 3, cin: 3, cout: 4, s, pad });
    cases.push({ h: 12, k: 5, cin: 1, cout: 6, s: 1, pad: 'same' }, { h: 6, k: 5, cin: 6, cout: 16, s: 1, pad: 'valid' }); // LeNet-5's two convs, small

    for (const c of cases) {
      const tag = `conv ${c.k}x${c.k} ${c.cin}→${c.cout} stride ${c.s} ${c.pad} on ${c.h}x${c.h}`;
      it(`${tag}: forward, Conv2DBackpropInput, Conv2DBackpropFilter, bias + relu (fused)`, async () => {
        const rng = new Rng(c.h * 100 + c.k * 10 + c.s + (c.pad === 'same' ? 1 : 0));
        const n = 2;
        const xs: [number, number, number, number] = [n, c.h, c.h, c.cin];
        const ws: [number, number, number, number] = [c.k, c.k, c.cin, c.cout];
        const x = randArray(rng, n * c.h * c.h * c.cin);
        const w = randArray(rng, c.k * c.k * c.cin * c.cout, 0.3);
        const b = randArray(rng, c.cout, 0.1);
        const outSide = c.pad === 'same' ? Math.ceil(c.h / c.s) : Math.floor((c.h - c.k) / c.s) + 1;
        const r = randArray(rng, n * outSide * outSide * c.cout);
        await compare(tag, ['conv2d', 'fused conv2d + bias + relu', 'dx (Conv2DBackpropInput)', 'dw (Conv2DBackpropFilter)'], () => {
          const xt = tf.tensor4d(x, xs);
          const wt = tf.tensor4d(w, ws);
          const bt = tf.tensor1d(b);
          const rt = tf.tensor4d(r, [n, outSide, outSide, c.cout]);
          const y = tf.conv2d(xt, wt, c.s, c.pad);
          const fused = tf.fused.conv2d({ x: xt, filter: wt, strides: c.s, pad: c.pad, bias: bt, activation: 'relu' });
          const [dx, dw] = tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, c.s, c.pad), rt)))([xt, wt]);
          return [y, fused, dx, dw];
        });
      });
    }
  });

  describe('pooling', () => {
    const cases = [
      { pool: 2, s: 2, pad: 'valid' as const, h: 8 },
      { pool: 3, s: 2, pad: 'same' as const, h: 7 },
      { pool: 2, s: 1, pad: 'valid' as const, h: 5 },
    ];
    for (const c of cases) {
      const tag = `pool ${c.pool}x${c.pool} stride ${c.s} ${c.pad} on ${c.h}x${c.h}`;
      it(`${tag}: max and average, forward and backward`, async () => {
        const rng = new Rng(c.pool * 10 + c.s + c.h);
        const shape: [number, number, number, number] = [2, c.h, c.h, 3];
        const x = randArray(rng, 2 * c.h * c.h * 3);
        const o = c.pad === 'same' ? Math.ceil(c.h / c.s) : Math.floor((c.h - c.pool) / c.s) + 1;
        const r = randArray(rng, 2 * o * o * 3);
        await compare(tag, ['maxPool', 'avgPool', 'dx maxPool (MaxPoolGrad)', 'dx avgPool (AvgPoolGrad)'], () => {
          const xt = tf.tensor4d(x, shape);
          const rt = tf.tensor4d(r, [2, o, o, 3]);
          const mp = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, c.pool, c.s, c.pad);
          const ap = (a: tf.Tensor) => tf.avgPool(a as tf.Tensor4D, c.pool, c.s, c.pad);
          return [mp(xt), ap(xt), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(mp(a), rt)))(xt), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(ap(a), rt)))(xt)];
        });
      });
    }
  });

  it('batch normalization in training mode (tfjs-layers, after a conv and after a dense layer): output, input and weight gradients', async () => {
    const rng = new Rng(77);
    const x = randArray(rng, 4 * 6 * 6 * 2, 2);
    const labels = Int32Array.from({ length: 4 }, (_, i) => i % 3);
    // Fixed weights, in getWeights() order (trainable first, then the moving statistics):
    // conv 3x3 2→3, BN(3) with γ ≠ 1, β ≠ 0, dense 108→5, BN(5), dense 5→3.
    const weights = [
      randArray(rng, 3 * 3 * 2 * 3, 0.4),
      Float32Array.from([1.2, 0.7, 1.5]),
      Float32Array.from([0.1, -0.2, 0.3]),
      randArray(rng, 108 * 5, 0.1),
      Float32Array.from([0.9, 1.1, 1, 1.3, 0.8]),
      Float32Array.from([0, 0.1, -0.1, 0.2, 0]),
      randArray(rng, 5 * 3, 0.5),
      new Float32Array(3),
      new Float32Array(3), // moving mean, variance of BN(3)
      Float32Array.from([1, 1, 1]),
      new Float32Array(5), // of BN(5)
      Float32Array.from([1, 1, 1, 1, 1]),
    ];
    const names = ['conv kernel', 'bn1 gamma', 'bn1 beta', 'dense kernel', 'bn2 gamma', 'bn2 beta', 'out kernel', 'out bias'];
    await compare('batch norm (training)', ['logits', 'loss', 'dx', ...names.map((n) => `d ${n}`)], () => {
      const model = tfl.sequential({
        layers: [
          tfl.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, padding: 'same', useBias: false }),
          tfl.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }),
          tfl.layers.activation({ activation: 'relu' }),
          tfl.layers.flatten(),
          tfl.layers.dense({ units: 5, useBias: false }),
          tfl.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }),
          tfl.layers.activation({ activation: 'relu' }),
          tfl.layers.dense({ units: 3 }),
        ],
      });
      model.setWeights(model.getWeights().map((w, i) => tf.tensor(weights[i], w.shape)));
      const xt = tf.tensor4d(x, [4, 6, 6, 2]);
      const yt = tf.tensor1d(labels, 'int32');
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const logits = model.apply(xt, { training: true }) as tf.Tensor2D;
      const loss = crossEntropyFromLogits(logits, yt);
      const dx = tf.grad((a: tf.Tensor) => crossEntropyFromLogits(model.apply(a, { training: true }) as tf.Tensor2D, yt))(xt);
      const { grads } = tf.variableGrads(() => crossEntropyFromLogits(model.apply(xt, { training: true }) as tf.Tensor2D, yt), vars);
      const out = [logits, loss, dx, ...vars.map((v) => grads[v.name])];
      model.dispose();
      return out;
    });
  });

  it('dense / matmul (plain, transposed, fused bias + relu) forward and backward', async () => {
    const rng = new Rng(5);
    const a = randArray(rng, 6 * 20);
    const b = randArray(rng, 20 * 7, 0.3);
    const bias = randArray(rng, 7, 0.1);
    const r = randArray(rng, 6 * 7);
    await compare('matmul', ['a·b', 'aᵀ·r (transposed a)', 'r·bᵀ (transposed b)', 'fused a·b + bias, relu', 'da', 'db', 'dbias (fused)'], () => {
      const at = tf.tensor2d(a, [6, 20]);
      const bt = tf.tensor2d(b, [20, 7]);
      const biasT = tf.tensor1d(bias);
      const rt = tf.tensor2d(r, [6, 7]);
      const [da, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D), rt)))([at, bt]);
      const dbias = tf.grad((c: tf.Tensor) => tf.sum(tf.mul(tf.fused.matMul({ a: at, b: bt, bias: c, activation: 'relu' }), rt)))(biasT);
      return [tf.matMul(at, bt), tf.matMul(at, rt, true, false), tf.matMul(rt, bt, false, true), tf.fused.matMul({ a: at, b: bt, bias: biasT, activation: 'relu' }), da, db, dbias];
    });
  });

  it('relu, tanh, sigmoid: forward and gradients', async () => {
    const rng = new Rng(9);
    const x = randArray(rng, 200, 3);
    const r = randArray(rng, 200);
    const acts = { relu: tf.relu, tanh: tf.tanh, sigmoid: tf.sigmoid } as const;
    for (const [name, act] of Object.entries(acts)) {
      await compare(name, ['forward', 'gradient'], () => {
        const xt = tf.tensor1d(x);
        const rt = tf.tensor1d(r);
        return [act(xt), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(act(a), rt)))(xt)];
      });
    }
  });

  describe('graph ops (issue 8)', () => {
    const dwCases: { h: number; c: number; k: number; s: number; pad: 'same' | 'valid'; m: number }[] = [];
    for (const m of [1, 2]) for (const s of [1, 2]) for (const pad of ['same', 'valid'] as const) dwCases.push({ h: 8, c: 3, k: 3, s, pad, m });
    for (const c of dwCases) {
      const tag = `depthwise ${c.k}x${c.k} ×${c.m} stride ${c.s} ${c.pad} on ${c.h}x${c.h}x${c.c}`;
      it(`${tag}: forward, d x, d filter`, async () => {
        const rng = new Rng(c.s * 10 + c.m + (c.pad === 'same' ? 1 : 0));
        const xs: [number, number, number, number] = [2, c.h, c.h, c.c];
        const fs: [number, number, number, number] = [c.k, c.k, c.c, c.m];
        const x = randArray(rng, 2 * c.h * c.h * c.c);
        const f = randArray(rng, c.k * c.k * c.c * c.m, 0.5);
        const o = c.pad === 'same' ? Math.ceil(c.h / c.s) : Math.floor((c.h - c.k) / c.s) + 1;
        const r = randArray(rng, 2 * o * o * c.c * c.m);
        await compare(tag, ['depthwise', 'dx', 'dfilter'], () => {
          const xt = tf.tensor4d(x, xs);
          const ft = tf.tensor4d(f, fs);
          const rt = tf.tensor4d(r, [2, o, o, c.c * c.m]);
          const dw = (a: tf.Tensor, w: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad);
          const [dx, df] = tf.grads((a: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(dw(a, w), rt)))([xt, ft]);
          return [dw(xt, ft), dx, df];
        });
      });
    }

    it('add, concatenate, global average / max pooling, zero padding: forward and gradients', async () => {
      const rng = new Rng(21);
      const a = randArray(rng, 2 * 5 * 6 * 3);
      const b = randArray(rng, 2 * 5 * 6 * 3);
      const c2 = randArray(rng, 2 * 5 * 6 * 2);
      const rCat = randArray(rng, 2 * 5 * 6 * 5);
      const rPool = randArray(rng, 2 * 3);
      const rPad = randArray(rng, 2 * 8 * 7 * 3);
      await compare('graph merges and pools', ['add', 'd add', 'concat', 'd concat (a)', 'd concat (c)', 'gap', 'd gap', 'gmp', 'd gmp', 'pad', 'd pad'], () => {
        const at = tf.tensor4d(a, [2, 5, 6, 3]);
        const bt = tf.tensor4d(b, [2, 5, 6, 3]);
        const ct = tf.tensor4d(c2, [2, 5, 6, 2]);
        const cat = (p: tf.Tensor, q: tf.Tensor) => tf.concat([p, q], -1);
        const pad = (p: tf.Tensor) => tf.pad(p, [[0, 0], [1, 2], [0, 1], [0, 0]]);
        const gap = (p: tf.Tensor) => tf.mean(p, [1, 2]);
        const gmp = (p: tf.Tensor) => tf.max(p, [1, 2]);
        const rp = tf.tensor2d(rPool, [2, 3]);
        const [dcA, dcC] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(cat(p, q), tf.tensor4d(rCat, [2, 5, 6, 5]))))([at, ct]);
        return [
          tf.add(at, bt),
          tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.add(p, bt), bt)))(at),
          cat(at, ct),
          dcA,
          dcC,
          gap(at),
          tf.grad((p: tf.Tensor) => tf.sum(tf.mul(gap(p), rp)))(at),
          gmp(at),
          tf.grad((p: tf.Tensor) => tf.sum(tf.mul(gmp(p), rp)))(at),
          pad(at),
          tf.grad((p: tf.Tensor) => tf.sum(tf.mul(pad(p), tf.tensor4d(rPad, [2, 8, 7, 3]))))(at),
        ];
      });
    });

    it('relu6, elu, leaky relu: forward and gradients', async () => {
      const rng = new Rng(23);
      const x = randArray(rng, 300, 4);
      const r = randArray(rng, 300);
      const acts = { relu6: tf.relu6, elu: tf.elu, leakyRelu: (a: tf.Tensor) => tf.leakyRelu(a, 0.2) } as const;
      for (const [name, act] of Object.entries(acts)) {
        await compare(name, ['forward', 'gradient'], () => {
          const xt = tf.tensor1d(x);
          const rt = tf.tensor1d(r);
          return [act(xt), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(act(a), rt)))(xt)];
        });
      }
    });
  });

  it("softmax cross-entropy from logits (the engine's crossEntropyFromLogits): loss and gradient", async () => {
    const rng = new Rng(11);
    const z = randArray(rng, 16 * 10, 4);
    const y = Int32Array.from({ length: 16 }, (_, i) => (i * 7) % 10);
    await compare('cross-entropy from logits', ['loss', 'dlogits', 'softmax'], () => {
      const zt = tf.tensor2d(z, [16, 10]);
      const yt = tf.tensor1d(y, 'int32');
      return [crossEntropyFromLogits(zt, yt), tf.grad((a: tf.Tensor) => crossEntropyFromLogits(a as tf.Tensor2D, yt))(zt), tf.softmax(zt)];
    });
  });

  it('optimizer updates (makeOptimizer: sgd, momentum, rmsprop, adam), three steps with fixed gradients', async () => {
    const rng = new Rng(13);
    const w0 = randArray(rng, 50);
    const grads = [randArray(rng, 50), randArray(rng, 50, 0.01), randArray(rng, 50, 3)];
    const specs: OptimizerSpec[] = [
      { type: 'sgd', learningRate: 0.1 },
      { type: 'momentum', learningRate: 0.05, momentum: 0.9 },
      { type: 'rmsprop', learningRate: 0.01, rho: 0.9, momentum: 0, epsilon: 1e-7 },
      { type: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
    ];
    for (const spec of specs) {
      const run = async (backend: string): Promise<Float32Array> => {
        await tf.setBackend(backend);
        const w = tf.variable(tf.tensor1d(w0));
        const opt = makeOptimizer(spec);
        for (const g of grads) tf.tidy(() => opt.applyGradients({ [w.name]: tf.tensor1d(g) }));
        expect(tf.engine().state.tensorInfo.get(w.dataId)?.backend).toBe(tf.engine().backend);
        const v = Float32Array.from(await w.data());
        opt.dispose();
        w.dispose();
        await tf.setBackend('webgpu');
        return v;
      };
      const err = relErr(await run('webgpu'), await run('cpu'));
      measured.push({ check: `optimizer ${spec.type}: weights after 3 steps`, relErr: err, tol: KERNEL_TOL });
      expect(err, spec.type).toBeLessThanOrEqual(KERNEL_TOL);
    }
  });

  describe('training steps of each preset through train()', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lw-webgpu-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const pack = writeSyntheticPack(join(dir, 'pack'), { count: 40, size: 16, numClasses: 4, seed: 3 });
    const shape = { inputShape: [16, 16, 1] as [number, number, 1], numClasses: 4 };
    const presets: { name: string; model: RunSpecInput['model']; training: Partial<RunSpecInput['training']> }[] = [
      { name: 'linear (sgd)', model: buildPreset('linear', shape), training: { optimizer: { type: 'sgd', learningRate: 0.1 } } },
      { name: 'mlp (adam, dropout, L1 + L2)', model: buildPreset('mlp', { ...shape, hiddenUnits: [32], dropoutRate: 0.2 }), training: { optimizer: { type: 'adam', learningRate: 3e-3 }, regularization: { l1: 1e-4, l2: 1e-3 } } },
      { name: 'lenet5 (adam, batch norm, dropout)', model: buildPreset('lenet5', { ...shape, batchNormalization: true, dropoutRate: 0.2 }), training: { optimizer: { type: 'adam', learningRate: 3e-3 } } },
    ];

    for (const p of presets) {
      it(p.name, async () => {
        const results: Record<string, { msgs: EngineToMain[]; weights: Float32Array; predictions: Float32Array }> = {};
        for (const backend of ['webgpu', 'cpu']) {
          await tf.setBackend(backend);
          const spec = parseRunSpec({ datasetId: 1, seed: 42, backend: backend === 'webgpu' ? 'gpu' : 'cpu', model: p.model, training: { batchSize: 8, epochs: 2, maxTrainSamples: 16, ...p.training } });
          const outDir = join(dir, `${p.name.split(' ')[0]}-${backend}`);
          const job: TrainJob = { type: 'train', runId: 1, spec, packDir: pack, outDir };
          const msgs: EngineToMain[] = [];
          const tensorsBefore = tf.memory().numTensors;
          try {
            await train(job, (m) => msgs.push(EngineToMainSchema.parse(m)));
          } finally {
            await tf.setBackend('webgpu');
          }
          expect(tf.memory().numTensors, `tensors leaked by train() on ${backend}`).toBe(tensorsBefore);
          const weightsBin = readFileSync(join(outDir, 'epoch-1', 'weights.bin'));
          const predBin = readFileSync(join(outDir, 'predictions.f32'));
          results[backend] = {
            msgs,
            weights: new Float32Array(weightsBin.buffer, weightsBin.byteOffset, weightsBin.byteLength / 4),
            predictions: new Float32Array(predBin.buffer, predBin.byteOffset, predBin.byteLength / 4),
          };
        }
        const metrics = (b: string) => results[b].msgs.filter((m) => m.type === 'metrics');
        const done = (b: string) => results[b].msgs.find((m) => m.type === 'done') as Extract<EngineToMain, { type: 'done' }>;
        expect(metrics('webgpu')).toHaveLength(2);
        const check = (what: string, a: ArrayLike<number>, b: ArrayLike<number>, tol = TRAIN_METRIC_TOL) => {
          const err = relErr(a, b);
          measured.push({ check: `train ${p.name}: ${what}`, relErr: err, tol });
          expect(err, what).toBeLessThanOrEqual(tol);
        };
        const nums = (b: string) => metrics(b).flatMap((m) => [m.trainLoss, m.valLoss ?? NaN]);
        check('per-epoch train and val loss', nums('webgpu'), nums('cpu'));
        // Accuracies are counts over 8–12 items: equal unless a logit pair is within rounding.
        expect(metrics('webgpu').map((m) => [m.trainAccuracy, m.valAccuracy])).toEqual(metrics('cpu').map((m) => [m.trainAccuracy, m.valAccuracy]));
        check('test loss', [done('webgpu').testLoss ?? NaN], [done('cpu').testLoss ?? NaN]);
        check('weights after the last step (one vector)', results.webgpu.weights, results.cpu.weights, TRAIN_TOL);
        check('predictions (softmax, every item)', results.webgpu.predictions, results.cpu.predictions);
      });
    }

    it("the engine process (src/engine/entry.ts, forked as the host does) with backend 'gpu': ready on webgpu … done, exit 0", async () => {
      const root = resolve(__dirname, '../..');
      // The child inherits VK_ICD_FILENAMES and LAYERWISE_ALLOW_SOFTWARE_GPU from this process.
      const child = fork(join(root, 'src/engine/entry.ts'), [], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += String(d)));
      const msgs: EngineToMain[] = [];
      child.on('message', (raw) => msgs.push(EngineToMainSchema.parse(raw)));
      const spec = { datasetId: 1, seed: 1, backend: 'gpu', model: presets[2].model, training: { optimizer: { type: 'adam', learningRate: 1e-3 }, batchSize: 8, epochs: 1, maxTrainSamples: 16 } };
      child.send({ type: 'train', runId: 1, spec, packDir: pack, outDir: join(dir, 'process') });
      const code = await new Promise<number | null>((res) => child.on('exit', res));
      expect(code, stderr).toBe(0);
      expect(msgs[0]).toMatchObject({ type: 'ready', backend: 'webgpu' });
      expect(msgs.filter((m) => m.type === 'metrics')).toHaveLength(1);
      expect(msgs[msgs.length - 1]).toMatchObject({ type: 'done', cancelled: false });
    });
  });
});
