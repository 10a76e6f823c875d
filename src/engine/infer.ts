/**
 * Native inference executor: a trained tfjs LayersModel compiled into a plan of fused
 * native ops (native/src/layerwise_native.cc) on preallocated buffers, for evaluation and
 * predictions (train.ts `evaluate`, predict.ts). In inference mode the tfjs graph runs
 * conv, batch norm, ReLU and pooling as separate kernels through tfjs' dispatch; here
 *   conv2d [+ batchNormalization] [+ activation relu]  → one conv with batch norm folded
 *     into its weights (w·γ/√(σ²+ε), (b − μ)·γ/√(σ²+ε) + β) and bias + ReLU in its epilogue,
 *   dense [+ batchNormalization] [+ relu]              → one matmul (bias + ReLU fused),
 *   maxPooling2d → native max pool, flatten (NHWC order: a no-op), dropout → nothing.
 * With the addon's `inferRun` the whole plan is one native call: tasks of ≤ 8 images, each
 * running every op on one thread in cache-resident buffers (one pool dispatch per batch),
 * a conv followed by a 2×2 / 2 max pool fused into one pass (one-input-channel convs and
 * convs with as many outputs as a vector has lanes, e.g. M1's 6→16, by direct kernels).
 * LAYERWISE_INFER_PER_OP=1 runs one native call per op instead (A/B; same numbers).
 * Anything else (tanh/sigmoid, average pooling, batch norm not after a conv/dense, a
 * non-wasm backend, the addon missing or LAYERWISE_NATIVE=0) → no plan (null): callers
 * keep the tfjs graph. Outputs agree with tfjs to ≤ 1e-4 relative (test/engine/infer.test.ts).
 * Weights are read at compile time: compile again after training changes them.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { nativeAddon, poolDimsOf, type NativeAddon } from './kernels/native';

type Op =
  | { kind: 'conv'; w: Float32Array; b: Float32Array | null; act: number; info: (n: number) => backend_util.Conv2DInfo; name: string }
  | { kind: 'pool'; info: (n: number) => backend_util.Conv2DInfo; name: string }
  | { kind: 'dense'; w: Float32Array; b: Float32Array | null; act: number; k: number; units: number; name: string };

export interface InferencePlan {
  /** Logits of the first n images of x (NHWC float32, n ≤ maxBatch): a view into the plan's buffer, valid until the next run. */
  run(x: Float32Array, n: number): Float32Array;
  /** The fused op sequence, e.g. "conv+relu → maxpool → …". */
  describe(): string;
  /** Median milliseconds per op over `reps` runs (for bench/profile.ts). */
  profile(x: Float32Array, n: number, reps: number): [string, number][];
}

const read = (t: tf.Tensor): Float32Array => Float32Array.from(t.dataSync() as Float32Array);

const pair = (v: number | number[]): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v]);

/**
 * Compile `model` for batches of up to `maxBatch` images.
 * @returns the plan, or null when the backend is not wasm, the addon is off, or a layer is not covered.
 */
export function compileInference(model: tfl.LayersModel, maxBatch: number): InferencePlan | null {
  const na = nativeAddon();
  if (!na || tf.getBackend() !== 'wasm') return null;
  const inShape = model.inputs[0].shape.slice(1) as number[];
  if (inShape.length !== 3 || inShape.some((d) => !d)) return null;
  let shape: number[] = inShape;
  const ops: Op[] = [];
  const last = (): Op | undefined => ops[ops.length - 1];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, any>;
    const ws = layer.getWeights();
    switch (cls) {
      case 'InputLayer':
      case 'Dropout':
        break;
      case 'Flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'Conv2D': {
        const act = cfg.activation === 'linear' ? 0 : cfg.activation === 'relu' ? 1 : -1;
        if (act < 0 || shape.length !== 3 || cfg.dataFormat !== 'channelsLast') return null;
        const [fh, fw] = pair(cfg.kernelSize);
        const strides = pair(cfg.strides);
        const dil = pair(cfg.dilationRate ?? 1);
        const fShape: [number, number, number, number] = [fh, fw, shape[2], cfg.filters];
        const inS = shape;
        const info = (n: number): backend_util.Conv2DInfo => backend_util.computeConv2DInfo([n, inS[0], inS[1], inS[2]], fShape, strides, dil, cfg.padding, undefined, false, 'channelsLast');
        const o = info(1);
        ops.push({ kind: 'conv', w: read(ws[0]), b: cfg.useBias ? read(ws[1]) : null, act, info, name: 'conv' });
        shape = [o.outHeight, o.outWidth, o.outChannels];
        break;
      }
      case 'Dense': {
        const act = cfg.activation === 'linear' ? 0 : cfg.activation === 'relu' ? 1 : -1;
        if (act < 0 || shape.length !== 1) return null;
        ops.push({ kind: 'dense', w: read(ws[0]), b: cfg.useBias ? read(ws[1]) : null, act, k: shape[0], units: cfg.units, name: 'dense' });
        shape = [cfg.units];
        break;
      }
      case 'BatchNormalization': {
        const op = last();
        const axis = Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis];
        if (!op || op.kind === 'pool' || op.act !== 0 || axis.length !== 1 || (axis[0] !== -1 && axis[0] !== shape.length)) return null;
        let i = 0;
        const c = shape[shape.length - 1];
        const gamma = cfg.scale ? read(ws[i++]) : new Float32Array(c).fill(1);
        const beta = cfg.center ? read(ws[i++]) : new Float32Array(c);
        const mean = read(ws[i++]);
        const variance = read(ws[i++]);
        const b = op.b ?? new Float32Array(c);
        for (let ch = 0; ch < c; ch++) {
          const s = gamma[ch] / Math.sqrt(variance[ch] + cfg.epsilon);
          for (let q = ch; q < op.w.length; q += c) op.w[q] *= s;
          b[ch] = (b[ch] - mean[ch]) * s + beta[ch];
        }
        op.b = b;
        op.name += '+bn';
        break;
      }
      case 'Activation': {
        if (cfg.activation === 'linear') break;
        const op = last();
        if (cfg.activation !== 'relu' || !op || op.kind === 'pool') return null;
        if (op.act === 0) {
          op.act = 1;
          op.name += '+relu';
        }
        break;
      }
      case 'MaxPooling2D': {
        if (shape.length !== 3 || cfg.dataFormat !== 'channelsLast') return null;
        const inS = shape;
        const info = (n: number): backend_util.Conv2DInfo => backend_util.computePool2DInfo([n, inS[0], inS[1], inS[2]], pair(cfg.poolSize), pair(cfg.strides ?? cfg.poolSize), 1, cfg.padding);
        const o = info(1);
        ops.push({ kind: 'pool', info, name: 'maxpool' });
        shape = [o.outHeight, o.outWidth, o.outChannels];
        break;
      }
      default:
        return null;
    }
  }
  for (const op of ops) if (op.kind !== 'pool' && op.act === 1 && !op.name.endsWith('+relu')) op.name += '+relu';
  if (shape.length !== 1 || ops.length === 0) return null;
  return new Plan(na, ops, inShape, shape[0], maxBatch);
}

/** Images per task of the one-call executor; 0 lets the addon choose (≤ 8, ≥ 2 tasks per thread). LAYERWISE_INFER_CHUNK: for experiments. */
const CHUNK = Number(process.env.LAYERWISE_INFER_CHUNK ?? 0) | 0;

class Plan implements InferencePlan {
  private bufs: [Float32Array, Float32Array];
  private dims = new Map<number, Int32Array[]>();
  /** The whole plan for the addon's one-call executor (`inferRun`), built once. */
  private desc: Int32Array;
  private params: (Float32Array | null)[];
  private out: Float32Array;
  constructor(
    private na: NativeAddon,
    private ops: Op[],
    private inShape: number[],
    private classes: number,
    private maxBatch: number,
  ) {
    // Largest activation per image, for two ping-pong buffers.
    let most = 0;
    for (const op of ops) {
      const size = op.kind === 'dense' ? op.units : ((i) => i.outHeight * i.outWidth * i.outChannels)(op.info(1));
      most = Math.max(most, size);
    }
    this.bufs = [new Float32Array(most * maxBatch), new Float32Array(most * maxBatch)];
    this.out = new Float32Array(classes * maxBatch);
    const one = this.dimsFor(1);
    this.desc = new Int32Array(20 * ops.length);
    this.params = [];
    ops.forEach((op, k) => {
      const kind = op.kind === 'conv' ? 0 : op.kind === 'pool' ? 1 : 2;
      this.desc[20 * k] = kind;
      this.desc[20 * k + 1] = op.kind === 'pool' ? 0 : op.act;
      if (op.kind === 'dense') this.desc.set([op.k, op.units], 20 * k + 2);
      else this.desc.set(one[k], 20 * k + 2);
      this.params.push(op.kind === 'pool' ? null : op.w, op.kind === 'pool' ? null : op.b);
    });
  }

  private dimsFor(n: number): Int32Array[] {
    let d = this.dims.get(n);
    if (!d) {
      d = this.ops.map((op) => {
        if (op.kind === 'dense') return Int32Array.from([1, n, op.units, op.k, 0, 0, 0, 0, op.act]);
        const i = op.info(n);
        if (op.kind === 'pool') return poolDimsOf(i);
        return Int32Array.from([i.batchSize, i.inHeight, i.inWidth, i.inChannels, i.outHeight, i.outWidth, i.outChannels, i.filterHeight, i.filterWidth, i.strideHeight, i.strideWidth, i.padInfo.top, i.padInfo.left, i.dilationHeight, i.dilationWidth]);
      });
      this.dims.set(n, d);
    }
    return d;
  }

  private step(k: number, src: Float32Array, dst: Float32Array, d: Int32Array): void {
    const op = this.ops[k];
    if (op.kind === 'conv') this.na.conv2d(src, op.w, op.b, dst, d, op.act);
    else if (op.kind === 'pool') this.na.maxPool(src, dst, d);
    else this.na.matmul(src, op.w, dst, op.b, d);
  }

  run(x: Float32Array, n: number): Float32Array {
    if (n < 1 || n > this.maxBatch) throw new Error(`inference plan: batch ${n} not in 1…${this.maxBatch}`);
    const need = n * this.inShape[0] * this.inShape[1] * this.inShape[2];
    if (x.length < need) throw new Error(`inference plan: input has ${x.length} values, needs ${need}`);
    if (this.na.inferRun && process.env.LAYERWISE_INFER_PER_OP !== '1') {
      this.na.inferRun(x, this.out, n, this.desc, this.params, CHUNK);
      return this.out.subarray(0, n * this.classes);
    }
    const d = this.dimsFor(n);
    let src = x;
    let which = 0;
    for (let k = 0; k < this.ops.length; k++) {
      const dst = this.bufs[which];
      this.step(k, src, dst, d[k]);
      src = dst;
      which ^= 1;
    }
    return src.subarray(0, n * this.classes);
  }

  describe(): string {
    const ops = this.ops.map((o) => o.name).join(' → ');
    return this.na.inferRun && process.env.LAYERWISE_INFER_PER_OP !== '1' ? `${ops}; one native call, chunks of images per thread, conv + 2×2 max pool fused where the direct kernels apply` : ops;
  }

  profile(x: Float32Array, n: number, reps: number): [string, number][] {
    const d = this.dimsFor(n);
    const times = this.ops.map(() => [] as number[]);
    for (let r = 0; r < reps; r++) {
      let src = x;
      let which = 0;
      for (let k = 0; k < this.ops.length; k++) {
        const dst = this.bufs[which];
        const t0 = performance.now();
        this.step(k, src, dst, d[k]);
        times[k].push(performance.now() - t0);
        src = dst;
        which ^= 1;
      }
    }
    return this.ops.map((o, k) => [`${o.name} ${JSON.stringify(d[k] ? Array.from(d[k]) : [])}`, [...times[k]].sort((a, b) => a - b)[reps >> 1]]);
  }
}
