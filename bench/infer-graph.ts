/**
 * Inference speed on graph models: the native executor (src/engine/infer.ts) against the
 * tfjs graph it replaces (wasm + our kernels, model.apply in inference mode), on the same
 * weights and batch. Prints samples/s (median of REPS timed batches after a warm-up) and the
 * executor's op sequence, and the largest difference of their logits (max |Δ| / max |ref|).
 * The two take turns within each timed round, so other load on the machine slows both alike.
 *
 *   npx tsx bench/infer-graph.ts [resnet20|mobilenet|all] [--reps N] [--batch N]
 *
 * resnet20: 32×32×3, 10 classes (He et al. 2016 §4.2); mobilenet: width 0.25, 128×128×3 (the
 * bench's M3 and M4). LAYERWISE_THREADS sets the threads (default: all cores).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadavg } from 'node:os';
import { initBackend } from '../src/engine/backend';
import { planInference } from '../src/engine/infer';
import { buildModel } from '../src/engine/model';
import { Rng } from '../src/engine/random';
import { buildPreset, type ModelSpec } from '../src/shared/spec';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const which = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ?? 'all';
const REPS = opt('--reps', 10);
const BATCH = opt('--batch', 64);

const MODELS: Record<string, () => ModelSpec> = {
  resnet20: () => buildPreset('resnet20', { inputShape: [32, 32, 3], numClasses: 10 }),
  mobilenet: () => buildPreset('mobilenet', { inputShape: [128, 128, 3], numClasses: 10, widthMultiplier: 0.25 }),
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * Median ms of each of fs over REPS rounds after two warm-up rounds; the functions take turns
 * within a round, so a machine shared with other work loads them alike.
 */
function timeEach(fs: (() => void)[]): number[] {
  for (let r = 0; r < 2; r++) for (const f of fs) f();
  const ts = fs.map(() => [] as number[]);
  for (let r = 0; r < REPS; r++)
    fs.forEach((f, i) => {
      const t0 = performance.now();
      f();
      ts[i].push(performance.now() - t0);
    });
  return ts.map(median);
}

async function main(): Promise<void> {
  const info = await initBackend('cpu');
  console.log(`backend: ${info.detail}; batch ${BATCH}, median of ${REPS}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const name of which === 'all' ? Object.keys(MODELS) : [which]) {
    const spec = MODELS[name]();
    const model = buildModel(spec, 1);
    const [h, w, c] = spec.inputShape;
    const rng = new Rng(7);
    const x = new Float32Array(BATCH * h * w * c);
    for (let i = 0; i < x.length; i++) x[i] = rng.next();
    const { plan, reason } = planInference(model, BATCH);
    const xt = tf.tensor4d(x, [BATCH, h, w, c]);
    let ref: Float32Array = new Float32Array(0);
    let got: Float32Array = new Float32Array(0);
    const tfjs = (): void => {
      const y = tf.tidy(() => model.apply(xt, { training: false }) as tf.Tensor);
      ref = y.dataSync() as Float32Array;
      y.dispose();
    };
    const native = (): void => {
      got = plan!.run(x, BATCH);
    };
    const [tfjsMs, ms] = timeEach(plan ? [tfjs, native] : [tfjs]);
    const line = (what: string, t: number): string => `${name} ${what}: ${t.toFixed(1)} ms/batch, ${((BATCH * 1000) / t).toFixed(0)} samples/s`;
    console.log(line('tfjs graph (fallback)', tfjsMs));
    if (!plan) {
      console.log(`${name} executor: none (${reason})`);
    } else {
      let d = 0;
      let s = 0;
      for (let i = 0; i < ref.length; i++) [d, s] = [Math.max(d, Math.abs(got[i] - ref[i])), Math.max(s, Math.abs(ref[i]))];
      console.log(`${line('native executor', ms)}; ${(tfjsMs / ms).toFixed(2)}× the tfjs graph; max |Δ| / max |ref| = ${(d / s).toExponential(1)}`);
      console.log(`${name} plan: ${plan.describe()}`);
    }
    xt.dispose();
    model.dispose();
  }
}

void main();
