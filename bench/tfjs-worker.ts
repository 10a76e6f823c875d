/**
 * Benchmark worker for our engine (one process per model, so its peak memory is its own).
 * Commands (JSON lines, see common.ts): init, check, train, infer, mem. Steps are timed
 * exactly as src/engine/train.ts runs them: optimizer.minimize on the cross-entropy from
 * logits plus the L2 penalty, inside tf.tidy, with the loss read back every step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../src/engine/backend';
import { compileInference, type InferencePlan } from '../src/engine/infer';
import { buildModel, crossEntropyFromLogits, penalisedKernels, trainableVariables, weightPenalty } from '../src/engine/model';
import { Rng } from '../src/engine/random';
import { makeOptimizer } from '../src/engine/train';
import { toGraph } from '../src/shared/spec';
import { BATCH, benchModel, type BenchTraining, type ModelName } from './models';
import { peakRssMiB, serve, toB64 } from './common';

const SEED = 7;
let name: ModelName = 'M1';
let model: tfl.LayersModel | null = null;
let opt: tf.Optimizer | null = null;
let x: tf.Tensor4D | null = null;
let y: tf.Tensor1D | null = null;

function makeStep(m: tfl.LayersModel, o: tf.Optimizer, training: BenchTraining): () => Promise<number> {
  const vars = trainableVariables(m);
  const kernels = penalisedKernels(m);
  return async () => {
    let loss: tf.Scalar | null = null;
    tf.tidy(() => {
      o.minimize(
        () => {
          const dataLoss = crossEntropyFromLogits(m.apply(x!, { training: true }) as tf.Tensor2D, y!);
          loss = tf.keep(tf.clone(dataLoss));
          const penalty = weightPenalty(kernels, 0, training.l2);
          return penalty ? tf.add(dataLoss, penalty) : dataLoss;
        },
        false,
        vars,
      );
    });
    const l = loss as unknown as tf.Scalar;
    const v = (await l.data())[0];
    l.dispose();
    return v;
  };
}

let step: (() => Promise<number>) | null = null;

/**
 * The optimizer of the bench settings, built as the engine builds it (train.ts makeOptimizer: tfjs' Adam, or SGD with
 * momentum, not Nesterov, with the update as one native kernel per variable). BENCH_STOCK_OPTIMIZER=1: tf.train's own (A/B).
 */
function makeBenchOptimizer(t: BenchTraining): tf.Optimizer {
  if (process.env.BENCH_STOCK_OPTIMIZER === '1') return t.optimizer === 'momentum' ? tf.train.momentum(t.learningRate, t.momentum) : tf.train.adam(t.learningRate, t.beta1, t.beta2, t.epsilon);
  return t.optimizer === 'momentum'
    ? makeOptimizer({ type: 'momentum', learningRate: t.learningRate, momentum: t.momentum })
    : makeOptimizer({ type: 'adam', learningRate: t.learningRate, beta1: t.beta1, beta2: t.beta2, epsilon: t.epsilon });
}

async function timed(n: number, f: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return times;
}

/**
 * One inference batch as the engine evaluates (train.ts `evaluate`, predict.ts): through the
 * native executor (src/engine/infer.ts) when it covers the model, compiled with the current
 * weights once per `infer` command (the engine compiles once per evaluation pass), before
 * the timed steps (only the executor's run is timed, as ORT's session.run), else the tfjs graph. Logits are read back either way.
 */
let plan: InferencePlan | null = null;
let xs: Float32Array | null = null;
async function infer(): Promise<void> {
  if (plan) {
    plan.run(xs!, BATCH);
    return;
  }
  const out = tf.tidy(() => model!.apply(x!, { training: false }) as tf.Tensor);
  await out.data();
  out.dispose();
}
let inferPath = 'tfjs graph';

serve(async (cmd) => {
  switch (cmd.cmd) {
    case 'init': {
      name = cmd.model;
      const info = await initBackend(cmd.backend ?? 'cpu', cmd.threads ? { threads: cmd.threads } : {});
      const { spec, training } = benchModel(name);
      const [h, w, c] = spec.inputShape;
      const rng = new Rng(SEED);
      xs = new Float32Array(BATCH * h * w * c);
      for (let i = 0; i < xs.length; i++) xs[i] = rng.next();
      const ys = Int32Array.from({ length: BATCH }, () => rng.int(spec.numClasses));
      x = tf.tensor4d(xs, [BATCH, h, w, c]);
      y = tf.tensor1d(ys, 'int32');
      model = buildModel(spec, SEED);
      opt = makeBenchOptimizer(training);
      step = makeStep(model, opt, training);
      const weights = await Promise.all(model.trainableWeights.map(async (v) => ({ name: v.originalName, shape: v.shape, data: toB64((await v.read().data()) as Float32Array) })));
      // The graph as the engine builds it (a layer list's chain with its node names): what the PyTorch worker translates.
      const graph = toGraph(spec);
      return { backend: info.backend, detail: info.detail, spec, graph: { nodes: graph.nodes.map(({ name, layer, inputs }) => ({ name, layer, inputs })), output: graph.output }, training, weights, x: toB64(xs), y: Array.from(ys) };
    }
    case 'check': {
      // Same seed → the same initial weights as the timed model; dropout layers at rate 0.
      const { spec } = benchModel(name, false);
      const training: BenchTraining = cmd.training;
      const m = buildModel(spec, SEED);
      const o = makeBenchOptimizer(training);
      const s = makeStep(m, o, training);
      const losses: number[] = [];
      for (let i = 0; i < cmd.steps; i++) losses.push(await s());
      const weights = await Promise.all(m.trainableWeights.map(async (v) => ({ name: v.originalName, shape: v.shape, data: toB64((await v.read().data()) as Float32Array) })));
      o.dispose();
      m.dispose();
      return { losses, weights };
    }
    case 'train':
      return { times: await timed(cmd.steps, step!) };
    case 'infer': {
      // Compiled once per command, outside the timed steps (ORT's session is likewise created once, untimed).
      plan = process.env.BENCH_TFJS_INFER === '1' ? null : compileInference(model!, BATCH);
      inferPath = plan ? `native executor (${plan.describe()})` : 'tfjs graph';
      const times = await timed(cmd.steps, infer);
      return { times, path: inferPath };
    }
    case 'mem':
      return { peakRssMiB: peakRssMiB() };
    default:
      throw new Error(`unknown command ${cmd.cmd}`);
  }
});
