/**
 * Native inference executor: a trained tfjs LayersModel (a chain or a graph) compiled into a
 * plan of fused native ops (native/src/infer.cc, layout in native/src/infer.h) over buffer
 * slots, for evaluation and predictions (train.ts `evaluate`, predict.ts). In inference mode
 * the tfjs graph runs conv, batch norm, ReLU, add and pooling as separate kernels through
 * tfjs' dispatch, each allocating its output; here
 *   conv2d / depthwiseConv2d [+ batchNormalization] [+ activation] → one conv with batch norm
 *     folded into its weights (w·γ/√(σ²+ε), (b − μ)·γ/√(σ²+ε) + β) and bias + ReLU / ReLU6 /
 *     ELU / leaky ReLU in its epilogue; a zeroPadding2d before it becomes the conv's own padding,
 *   dense [+ batchNormalization] [+ activation]                   → one matmul (bias + act fused),
 *   add [+ activation]  → one pass (ReLU after the add, as ResNet's blocks end),
 *   concatenate         → each input copied into its channel slice,
 *   maxPooling2d, globalAveragePooling2d, globalMaxPooling2d, zeroPadding2d (when not folded),
 *   batchNormalization / activation not after one of the above → a per-channel affine op,
 *   flatten (NHWC order: a no-op), dropout, linear activation → nothing.
 * Tensors live in slots assigned by lifetime: slot 0 is the input, slot 1 the logits, and a
 * scratch slot is reused once the last reader of the tensor in it has run (add and affine
 * write in place over an input they are the last reader of). The whole plan is one native call:
 * tasks of ≤ 8 images, each running every op on one thread in cache-resident slots (one pool
 * dispatch per batch), a conv followed by a 2×2 / 2 max pool that alone reads it fused into one
 * pass. LAYERWISE_INFER_PER_OP=1 runs each op over the whole batch instead (A/B; same numbers).
 * Anything else (tanh / sigmoid, average pooling, a non-wasm backend, the addon missing or
 * LAYERWISE_NATIVE=0) → no plan: `planInference` says why, `compileInference` returns null and
 * callers keep the tfjs graph. Outputs agree with tfjs to ≤ 1e-4 relative (test/engine/infer.test.ts).
 * Weights are read at compile time: compile again after training changes them.
 * (Over 400 lines: the compiler walks every layer kind the plan covers in one pass, which keeps
 * the slot bookkeeping in one place.)
 * Over 400 lines: the layer walk, the slot assignment and the plan are one contract with
 * native/src/infer.h (the desc layout); kept together so a change to it is read in one place.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { convDimsOf, nativeAddon, nativeLoadError, poolDimsOf, type NativeAddon } from './kernels/native';

export interface InferencePlan {
  /** Logits of the first n images of x (NHWC float32, n ≤ maxBatch): a view into the plan's buffer, valid until the next run. */
  run(x: Float32Array, n: number): Float32Array;
  /** The fused op sequence, e.g. "conv+bn+relu → conv+bn → add+relu → …". */
  describe(): string;
  /** Per op, median wall and CPU milliseconds (process CPU time, all threads) over `reps` runs of each op over the whole batch (for bench/profile.ts). */
  profile(x: Float32Array, n: number, reps: number): [string, number, number][];
}

/** Op kinds, as native/src/infer.h numbers them. */
const KIND = { conv: 0, maxpool: 1, dense: 2, add: 3, concat: 4, gap: 5, gmp: 6, dwconv: 7, pad: 8, affine: 9 } as const;
type Kind = keyof typeof KIND;
/** Activation codes of native/src/infer.h (inferAct). */
const ACT: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, leakyRelu: 4 };
/** The plan layout this file writes; the addon reports the one it reads (inferVersion). */
const PLAN_VERSION = 2;
/** Ints per op in the desc (native/src/binding.cc kOpInts) and the header before the dims. */
const OP_INTS = 24;

/** A tensor of the plan (per image). `pad`: a zero padding not yet materialized (a conv reading it folds it into its own padding). */
interface Value {
  id: number;
  shape: number[];
  pad?: { src: Value; t: number; b: number; l: number; r: number; done?: Value };
}

interface Op {
  kind: Kind;
  name: string;
  act: number;
  alpha: number;
  in0: Value;
  in1: Value | null;
  out: Value;
  dims: number[];
  w: Float32Array | null;
  b: Float32Array | null;
  fuseNext?: boolean;
}

/** Thrown while compiling for what the executor does not cover; its message is the reason. */
class NotCovered extends Error {}
const refuse = (why: string): never => {
  throw new NotCovered(why);
};

const read = (t: tf.Tensor): Float32Array => Float32Array.from(t.dataSync() as Float32Array);
const pair = (v: number | number[]): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v]);
const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const sameShape = (a: number[], b: number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
/** Layers whose output is their input's data: no op. */
const ALIAS = new Set(['InputLayer', 'Dropout', 'Flatten']);
const isAlias = (layer: tfl.layers.Layer): boolean => ALIAS.has(layer.getClassName()) || (layer.getClassName() === 'Activation' && (layer.getConfig() as { activation: string }).activation === 'linear');
const inboundOf = (layer: tfl.layers.Layer): tfl.layers.Layer[] => (layer.inboundNodes[0]?.inboundLayers ?? []) as tfl.layers.Layer[];

/** The compiled plan, or none and why. */
export interface InferenceCompile {
  plan: InferencePlan | null;
  /** Why there is no plan ('' when there is one): the first layer not covered, the backend, the addon. */
  reason: string;
}

/**
 * Compile `model` (a chain or a graph) for batches of up to `maxBatch` images, or say why not.
 * @returns `{ plan, reason: '' }`, or `{ plan: null, reason }` when the backend is not wasm,
 *   the addon is off or older than this plan layout, or a layer is not covered (named in `reason`).
 */
export function planInference(model: tfl.LayersModel, maxBatch: number): InferenceCompile {
  const na = nativeAddon();
  if (!na) return { plan: null, reason: `native addon off (${nativeLoadError()})` };
  if (tf.getBackend() !== 'wasm') return { plan: null, reason: `backend ${tf.getBackend()}: the executor runs beside wasm only` };
  if (na.inferVersion?.() !== PLAN_VERSION) return { plan: null, reason: 'the layerwise-native addon predates graph plans: rebuild it (npm rebuild layerwise-native)' };
  try {
    return { plan: compile(na, model, maxBatch), reason: '' };
  } catch (e) {
    if (e instanceof NotCovered) return { plan: null, reason: e.message };
    throw e;
  }
}

/**
 * Compile `model` for batches of up to `maxBatch` images.
 * @returns the plan, or null (callers keep the tfjs graph; `planInference` gives the reason).
 */
export function compileInference(model: tfl.LayersModel, maxBatch: number): InferencePlan | null {
  return planInference(model, maxBatch).plan;
}

function compile(na: NativeAddon, model: tfl.LayersModel, maxBatch: number): InferencePlan {
  const inShape = model.inputs[0].shape.slice(1) as number[];
  if (model.inputs.length !== 1 || model.outputs.length !== 1) refuse('more than one input or output');
  if (inShape.length !== 3 || inShape.some((d) => !d)) refuse(`input shape [${inShape}] is not [h, w, c]`);
  // Readers per tensor, counted through the layers that are no op (batch norm / activation fold only into a producer nobody else reads).
  const root = new Map<string, string>();
  const readers = new Map<string, number>();
  for (const layer of model.layers) {
    const ins = inboundOf(layer);
    root.set(layer.name, isAlias(layer) && ins.length === 1 ? (root.get(ins[0].name) as string) : layer.name);
    if (!isAlias(layer)) for (const l of ins) readers.set(root.get(l.name) as string, (readers.get(root.get(l.name) as string) ?? 0) + 1);
  }
  let nextId = 0;
  const newValue = (shape: number[]): Value => ({ id: nextId++, shape });
  const input = newValue(inShape);
  const values = new Map<string, Value>();
  const readersOf = new Map<number, number>();
  const ops: Op[] = [];
  const producer = new Map<number, Op[]>();
  const emit = (op: Omit<Op, 'alpha' | 'act' | 'w' | 'b' | 'in1'> & Partial<Op>): Op => {
    const full: Op = { act: 0, alpha: 0, w: null, b: null, in1: null, ...op };
    ops.push(full);
    producer.set(full.out.id, [...(producer.get(full.out.id) ?? []), full]);
    return full;
  };
  /** A value as data: a pending zero padding becomes a pad op (once). */
  const concrete = (v: Value): Value => {
    if (!v.pad) return v;
    if (!v.pad.done) {
      const { src, t, b, l, r } = v.pad;
      v.pad.done = newValue(v.shape);
      emit({ kind: 'pad', name: 'pad', in0: concrete(src), out: v.pad.done, dims: [src.shape[0], src.shape[1], src.shape[2], t, b, l, r] });
    }
    return v.pad.done;
  };
  /** The single op producing v when it may take a batch norm or activation: no other reader, linear so far. */
  const foldTarget = (v: Value, name: string, kinds: Kind[]): Op | null => {
    const p = producer.get(v.id);
    if (v.pad || !p || p.length !== 1 || p[0].act !== 0 || (readersOf.get(v.id) ?? 0) !== 1 || !kinds.includes(p[0].kind)) return null;
    readersOf.set(v.id, readers.get(name) ?? 0);
    return p[0];
  };
  const actCode = (name: string, layer: string): number => ACT[name] ?? refuse(`layer "${layer}": activation ${name}`);

  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, any>;
    const ins = inboundOf(layer).map((l) => values.get(l.name) as Value);
    const x = ins[0];
    const set = (v: Value): void => {
      values.set(layer.name, v);
      if (!readersOf.has(v.id)) readersOf.set(v.id, readers.get(layer.name) ?? 0);
    };
    const hw = (what: string): [number, number, number] => {
      if (!x || x.shape.length !== 3 || (cfg.dataFormat && cfg.dataFormat !== 'channelsLast')) refuse(`layer "${layer.name}" (${what}): input is not [h, w, c] channels-last`);
      return x.shape as [number, number, number];
    };
    if (cls === 'InputLayer') {
      set(input);
      continue;
    }
    if (isAlias(layer)) {
      values.set(layer.name, cls === 'Flatten' ? { ...concrete(x), shape: [size(x.shape)] } : x);
      continue;
    }
    const ws = layer.getWeights();
    switch (cls) {
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const dw = cls === 'DepthwiseConv2D';
        const [h, w, c] = hw(cls);
        const act = actCode(cfg.activation, layer.name);
        const [fh, fw] = pair(cfg.kernelSize);
        const dil = pair(cfg.dilationRate ?? 1);
        if (dw && (dil[0] !== 1 || dil[1] !== 1)) refuse(`layer "${layer.name}": dilated depthwise convolution`);
        const fShape: [number, number, number, number] = [fh, fw, c, dw ? cfg.depthMultiplier : cfg.filters];
        const info = backend_util.computeConv2DInfo([1, h, w, c], fShape, pair(cfg.strides), dil, cfg.padding, undefined, dw, 'channelsLast');
        // A zero padding before the conv is more padding of the conv: read the unpadded tensor, shift the window.
        const src = x.pad && !x.pad.src.pad ? x.pad.src : concrete(x);
        const dims = Array.from(convDimsOf(info));
        if (src !== x) [dims[1], dims[2], dims[11], dims[12]] = [src.shape[0], src.shape[1], dims[11] + x.pad!.t, dims[12] + x.pad!.l];
        const out = newValue([info.outHeight, info.outWidth, info.outChannels]);
        emit({ kind: dw ? 'dwconv' : 'conv', name: dw ? 'dwconv' : 'conv', act, alpha: 0, in0: src, out, dims, w: read(ws[0]), b: cfg.useBias ? read(ws[1]) : null });
        if (act) ops[ops.length - 1].name += `+${cfg.activation}`;
        set(out);
        break;
      }
      case 'Dense': {
        if (!x || x.shape.length !== 1) refuse(`layer "${layer.name}" (Dense): input is not a vector`);
        const act = actCode(cfg.activation, layer.name);
        const out = newValue([cfg.units]);
        emit({ kind: 'dense', name: act ? `dense+${cfg.activation}` : 'dense', act, in0: concrete(x), out, dims: [x.shape[0], cfg.units], w: read(ws[0]), b: cfg.useBias ? read(ws[1]) : null });
        set(out);
        break;
      }
      case 'BatchNormalization': {
        const axis = Array.isArray(cfg.axis) ? cfg.axis : [cfg.axis];
        if (!x || axis.length !== 1 || (axis[0] !== -1 && axis[0] !== x.shape.length)) refuse(`layer "${layer.name}" (BatchNormalization): not over the last axis`);
        let i = 0;
        const c = x.shape[x.shape.length - 1];
        const gamma = cfg.scale ? read(ws[i++]) : new Float32Array(c).fill(1);
        const beta = cfg.center ? read(ws[i++]) : new Float32Array(c);
        const mean = read(ws[i++]);
        const variance = read(ws[i++]);
        const s = gamma.map((g, ch) => g / Math.sqrt(variance[ch] + cfg.epsilon));
        const t = beta.map((bt, ch) => bt - mean[ch] * s[ch]);
        const op = foldTarget(x, layer.name, ['conv', 'dwconv', 'dense']);
        if (op) {
          // y = (conv(x) + b − μ)·s + β = conv(x)·s + (b − μ)·s + β; s per output channel (the weights' last axis).
          const w = op.w as Float32Array;
          for (let q = 0; q < w.length; q++) w[q] *= s[q % c];
          const b = op.b ?? new Float32Array(c);
          for (let ch = 0; ch < c; ch++) b[ch] = (b[ch] - mean[ch]) * s[ch] + beta[ch];
          op.b = b;
          op.name += '+bn';
          values.set(layer.name, x);
        } else {
          const out = newValue(x.shape);
          emit({ kind: 'affine', name: 'bn', in0: concrete(x), out, dims: [size(x.shape) / c, c], w: s, b: t });
          set(out);
        }
        break;
      }
      case 'Activation':
      case 'LeakyReLU':
      case 'ReLU': {
        const name = cls === 'LeakyReLU' ? 'leakyRelu' : cls === 'ReLU' ? (cfg.maxValue == null ? 'relu' : cfg.maxValue === 6 ? 'relu6' : refuse(`layer "${layer.name}": ReLU capped at ${cfg.maxValue}`)) : cfg.activation;
        const act = actCode(name, layer.name);
        const alpha = cls === 'LeakyReLU' ? Number(cfg.alpha ?? 0.3) : 0;
        const op = foldTarget(x, layer.name, ['conv', 'dwconv', 'dense', 'add', 'affine', 'maxpool', 'gap', 'gmp']);
        if (op) {
          op.act = act;
          op.alpha = alpha;
          op.name += `+${name}`;
          values.set(layer.name, x);
        } else {
          const c = x.shape[x.shape.length - 1];
          const out = newValue(x.shape);
          emit({ kind: 'affine', name, act, alpha, in0: concrete(x), out, dims: [size(x.shape) / c, c] });
          set(out);
        }
        break;
      }
      case 'MaxPooling2D': {
        const [h, w, c] = hw(cls);
        const info = backend_util.computePool2DInfo([1, h, w, c], pair(cfg.poolSize), pair(cfg.strides ?? cfg.poolSize), 1, cfg.padding);
        const out = newValue([info.outHeight, info.outWidth, c]);
        emit({ kind: 'maxpool', name: 'maxpool', in0: concrete(x), out, dims: Array.from(poolDimsOf(info)) });
        set(out);
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        const [h, w, c] = hw(cls);
        const avg = cls === 'GlobalAveragePooling2D';
        const out = newValue([c]);
        emit({ kind: avg ? 'gap' : 'gmp', name: avg ? 'globalavgpool' : 'globalmaxpool', in0: concrete(x), out, dims: [h * w, c] });
        set(out);
        break;
      }
      case 'ZeroPadding2D': {
        const [h, w, c] = hw(cls);
        const [[t, b], [l, r]] = cfg.padding as [[number, number], [number, number]];
        set({ id: nextId++, shape: [h + t + b, w + l + r, c], pad: { src: x, t, b, l, r } });
        break;
      }
      case 'Add': {
        if (ins.length < 2 || ins.some((v) => !sameShape(v.shape, x.shape))) refuse(`layer "${layer.name}" (Add): inputs of different shapes`);
        const out = newValue(x.shape);
        const n = size(x.shape);
        emit({ kind: 'add', name: 'add', in0: concrete(ins[0]), in1: concrete(ins[1]), out, dims: [n] });
        for (const v of ins.slice(2)) emit({ kind: 'add', name: 'add', in0: out, in1: concrete(v), out, dims: [n] });
        set(out);
        break;
      }
      case 'Concatenate': {
        const rank = x.shape.length;
        if (cfg.axis !== -1 && cfg.axis !== rank) refuse(`layer "${layer.name}" (Concatenate): not on the channel axis`);
        if (ins.some((v) => v.shape.length !== rank || !sameShape(v.shape.slice(0, -1), x.shape.slice(0, -1)))) refuse(`layer "${layer.name}" (Concatenate): inputs of different sizes`);
        const ctot = ins.reduce((a, v) => a + v.shape[rank - 1], 0);
        const out = newValue([...x.shape.slice(0, -1), ctot]);
        const pixels = size(x.shape.slice(0, -1));
        let off = 0;
        for (const v of ins) {
          const cin = v.shape[rank - 1];
          emit({ kind: 'concat', name: 'concat', in0: concrete(v), out, dims: [pixels, cin, ctot, off] });
          off += cin;
        }
        set(out);
        break;
      }
      default:
        refuse(`layer "${layer.name}" (${cls})`);
    }
  }
  const outName = (model.outputs[0] as unknown as { sourceLayer: tfl.layers.Layer }).sourceLayer.name;
  const output = concrete(values.get(outName) as Value);
  if (output.id === input.id || output.shape.length !== 1 || ops.length === 0) refuse(`output "${outName}" is not a vector computed from the input`);
  return new Plan(na, ops, input, output, inShape, maxBatch);
}

/** Images per task of the one-call executor; 0 lets the addon choose (≤ 8, ≥ 2 tasks per thread). LAYERWISE_INFER_CHUNK: for experiments. */
const CHUNK = Number(process.env.LAYERWISE_INFER_CHUNK ?? 0) | 0;

/**
 * Slots by tensor lifetime: 0 the input, 1 the output, then scratch slots, each reused once the
 * last reader of its tensor ran (best fit by size); add / affine write in place over an input
 * whose last reader they are. Returns each op's [in0, in1, out] slots and each slot's floats per image.
 */
function assignSlots(ops: Op[], input: Value, output: Value): { slotOf: Map<number, number>; caps: number[] } {
  const lastRead = new Map<number, number>();
  ops.forEach((op, k) => {
    for (const v of [op.in0, op.in1]) if (v) lastRead.set(v.id, k);
  });
  const slotOf = new Map<number, number>([
    [input.id, 0],
    [output.id, 1],
  ]);
  const caps = [size(input.shape), size(output.shape)];
  const free: number[] = [];
  const take = (need: number): number => {
    let best = -1;
    for (const s of free) if (caps[s] >= need && (best < 0 || caps[s] < caps[best])) best = s;
    if (best < 0) for (const s of free) if (best < 0 || caps[s] > caps[best]) best = s;
    if (best < 0) {
      caps.push(need);
      return caps.length - 1;
    }
    free.splice(free.indexOf(best), 1);
    caps[best] = Math.max(caps[best], need);
    return best;
  };
  ops.forEach((op, k) => {
    if (!slotOf.has(op.out.id)) {
      const inPlace = op.kind === 'add' || op.kind === 'affine' ? [op.in0, op.in1].find((v) => v && lastRead.get(v.id) === k && (slotOf.get(v.id) ?? 0) >= 2 && size(v.shape) === size(op.out.shape)) : undefined;
      slotOf.set(op.out.id, inPlace ? (slotOf.get(inPlace.id) as number) : take(size(op.out.shape)));
    }
    const outSlot = slotOf.get(op.out.id);
    for (const v of new Set([op.in0, op.in1])) {
      const s = v ? slotOf.get(v.id) : undefined;
      if (v && s !== undefined && s >= 2 && s !== outSlot && lastRead.get(v.id) === k) free.push(s);
    }
  });
  return { slotOf, caps };
}

class Plan implements InferencePlan {
  private desc: Int32Array;
  private params: (Float32Array | null)[];
  private slotSizes: Int32Array;
  private out: Float32Array;
  private slots: (Float32Array | null)[] | null = null;
  private classes: number;
  constructor(
    private na: NativeAddon,
    private ops: Op[],
    input: Value,
    output: Value,
    private inShape: number[],
    private maxBatch: number,
  ) {
    this.classes = output.shape[0];
    const { slotOf, caps } = assignSlots(ops, input, output);
    this.slotSizes = Int32Array.from(caps);
    this.out = new Float32Array(this.classes * maxBatch);
    this.desc = new Int32Array(OP_INTS * ops.length);
    this.params = [];
    const alphaBits = new Int32Array(1);
    const alphaF = new Float32Array(alphaBits.buffer);
    ops.forEach((op, k) => {
      if (op.kind === 'conv' && ops[k + 1]?.kind === 'maxpool' && ops[k + 1].in0.id === op.out.id && ops.filter((o) => o.in0.id === op.out.id || o.in1?.id === op.out.id).length === 1) op.fuseNext = true;
      alphaF[0] = op.alpha;
      const slot = (v: Value | null): number => (v ? (slotOf.get(v.id) as number) : -1);
      this.desc.set([KIND[op.kind], op.act, slot(op.in0), slot(op.in1), slot(op.out), op.fuseNext ? 1 : 0, alphaBits[0], ...op.dims], OP_INTS * k);
      this.params.push(op.w, op.b);
    });
  }

  private perOpSlots(): (Float32Array | null)[] {
    this.slots ??= Array.from(this.slotSizes, (cap, s) => (s < 2 ? null : new Float32Array(cap * this.maxBatch)));
    return this.slots;
  }

  private call(x: Float32Array, n: number, perOp: boolean, from = 0, to = this.ops.length): void {
    if (n < 1 || n > this.maxBatch) throw new Error(`inference plan: batch ${n} not in 1…${this.maxBatch}`);
    const need = n * this.inShape[0] * this.inShape[1] * this.inShape[2];
    if (x.length < need) throw new Error(`inference plan: input has ${x.length} values, needs ${need}`);
    this.na.inferRun!(x, this.out, n, this.desc, this.params, this.slotSizes, CHUNK, perOp ? this.perOpSlots() : null, from, to);
  }

  run(x: Float32Array, n: number): Float32Array {
    this.call(x, n, process.env.LAYERWISE_INFER_PER_OP === '1');
    return this.out.subarray(0, n * this.classes);
  }

  describe(): string {
    const ops = this.ops.map((o) => o.name).join(' → ');
    const scratch = this.slotSizes.length - 2;
    return process.env.LAYERWISE_INFER_PER_OP === '1'
      ? `${ops}; each op over the batch, ${scratch} scratch slots`
      : `${ops}; one native call, chunks of images per thread, ${scratch} scratch slots, conv + 2×2 max pool fused where the direct kernels apply`;
  }

  profile(x: Float32Array, n: number, reps: number): [string, number, number][] {
    const times = this.ops.map(() => [] as number[]);
    const cpu = this.ops.map(() => [] as number[]);
    for (let r = 0; r < reps; r++) {
      for (let k = 0; k < this.ops.length; k++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        this.call(x, n, true, k, k + 1);
        times[k].push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu[k].push((c.user + c.system) / 1000);
      }
    }
    const med = (a: number[]): number => [...a].sort((p, q) => p - q)[reps >> 1];
    return this.ops.map((o, k) => [`${o.name} ${JSON.stringify(o.dims)}`, med(times[k]), med(cpu[k])]);
  }
}
