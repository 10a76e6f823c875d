/**
 * Wall and CPU time of one training step of a bench model (bench/models.ts, batch 64), for
 * before / after comparisons of kernels on a loaded machine: with LAYERWISE_THREADS=1 the CPU
 * time a step takes (process.cpuUsage) hardly moves with other work on the cores, while its wall
 * time does (×2–3 at load average 10). Not a benchmark table (`npm run bench -- engine` is).
 * Run: LAYERWISE_THREADS=1 npx tsx bench/step-time.ts [M1|M2|M3|M4] [sgd|adam|infer] [steps]
 * sgd: momentum 0.9 at lr 0.01 (as the engine bench); adam: lr 1e-3 (as bench/profile.ts);
 * infer: one batch through the native inference executor (src/engine/infer.ts), as the bench times it.
 * The optimizers are the engine's (src/engine/train.ts makeOptimizer: one native update kernel per variable);
 * --stock-opt: tf.train's own (A/B of the fused update). --l2: with the bench's L2 penalty (1e-4 on conv / dense kernels) in the loss.
 * A/B against an older commit: `git archive <commit> | tar -x -C /tmp/base`, link every entry of
 * node_modules into /tmp/base/node_modules but layerwise-native (→ ../native), build it there
 * (`node-gyp rebuild --nodedir=/usr` in /tmp/base/native), copy this file to /tmp/base/bench,
 * and run the two trees in turns.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/engine/backend';
import { compileInference } from '../src/engine/infer';
import { buildModel, crossEntropyFromLogits, penalisedKernels, trainableVariables, weightPenalty } from '../src/engine/model';
import { makeOptimizer } from '../src/engine/train';
import { BATCH, benchModel, type ModelName } from './models';

const med = (a: number[]): number => [...a].sort((p, q) => p - q)[a.length >> 1];

void (async () => {
  const stockOpt = process.argv.includes('--stock-opt');
  const withL2 = process.argv.includes('--l2');
  const argv = process.argv.filter((a) => a !== '--stock-opt' && a !== '--l2');
  const name = (argv[2] ?? 'M3') as ModelName;
  const optName = argv[3] ?? 'sgd';
  const steps = Number(argv[4] ?? 6);
  await initBackend('cpu');
  const { spec } = benchModel(name);
  const model = buildModel(spec, 1);
  const opt = stockOpt
    ? optName === 'adam'
      ? tf.train.adam(1e-3)
      : tf.train.momentum(0.01, 0.9)
    : makeOptimizer(optName === 'adam' ? { type: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } : { type: 'momentum', learningRate: 0.01, momentum: 0.9 });
  const x = tf.randomUniform([BATCH, ...spec.inputShape], 0, 1, 'float32', 3) as tf.Tensor4D;
  const y = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 10), 'int32');
  const vars = trainableVariables(model);
  const kernels = penalisedKernels(model);
  const plan = optName === 'infer' ? compileInference(model, BATCH) : null;
  if (optName === 'infer' && !plan) throw new Error(`${name}: the native executor does not take this model`);
  const xs = x.dataSync() as Float32Array;
  const step = plan
    ? (): void => void plan.run(xs, BATCH)
    : (): void =>
        tf.tidy(() =>
          void opt.minimize(
            () => {
              const loss = crossEntropyFromLogits(model.apply(x, { training: true }) as tf.Tensor2D, y);
              const penalty = withL2 ? weightPenalty(kernels, 0, 1e-4) : null;
              return penalty ? tf.add(loss, penalty) : loss;
            },
            false,
            vars,
          ),
        );
  for (let i = 0; i < 3; i++) step();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  console.log(`${name} ${optName} ${plan ? 'batch' : 'step'}: wall median ${med(wall).toFixed(1)} ms, min ${Math.min(...wall).toFixed(1)} ms; CPU median ${med(cpu).toFixed(1)} ms, min ${Math.min(...cpu).toFixed(1)} ms`);
})();
