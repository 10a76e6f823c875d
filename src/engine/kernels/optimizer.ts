/**
 * Optimizer updates as one native kernel per variable on the wasm backend: Adam (Kingma & Ba
 * 2015, "Adam: a method for stochastic optimization", Alg. 1) and SGD with momentum (Polyak
 * 1964; tfjs' form v ← μ·v + g, w ← w − lr·v), in place of tfjs' 14 (Adam) or 4 (momentum)
 * element-wise kernels per variable, each a dispatch, an intermediate tensor and a pass over
 * memory (Adam on LeNet-5's 10 variables: ≈ 140 of a step's ≈ 260 kernel calls).
 *
 * - `LwAdamUpdate` {x, m, v, g, oneMinusAccBeta1, oneMinusAccBeta2} (attrs beta1, beta2, epsilon,
 *   learningRate) → [x', m', v'], and `LwMomentumUpdate` {x, accumulation, g} (attrs momentum,
 *   learningRate) → [x', accumulation']: kernels of our own name (native/src/optimizer.cc),
 *   float32 operation for operation as tfjs-core 4.22's optimizers compute, so the result is
 *   bit-identical to the stock optimizer on wasm.
 * - `FusedAdamOptimizer` / `FusedMomentumOptimizer`: subclasses of tfjs' AdamOptimizer /
 *   MomentumOptimizer (same class names, state variables, `getWeights` / `setWeights`, so
 *   checkpoints are unchanged) whose `applyGradients` calls those kernels and assigns the
 *   results, when the backend is wasm, the kernel is registered and every variable and
 *   gradient is float32; otherwise (cpu, WebGPU, the addon off, Nesterov) tfjs' own update.
 */
import {
  AdamOptimizer,
  engine,
  getBackend,
  getKernel,
  MomentumOptimizer,
  mul,
  sub,
  tidy,
  zerosLike,
  type KernelConfig,
  type KernelFunc,
  type Tensor,
  type TensorInfo,
  type Variable,
} from '@tensorflow/tfjs-core';
import { nativeAddon, nativeKernelFunc, type NativeAddon } from './native';

export const ADAM_UPDATE = 'LwAdamUpdate';
export const MOMENTUM_UPDATE = 'LwMomentumUpdate';

interface OptimizerAddon extends NativeAddon {
  adamUpdate(x: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, xo: Float32Array, mo: Float32Array, vo: Float32Array, scalars: Float32Array): void;
  momentumUpdate(x: Float32Array, acc: Float32Array, g: Float32Array, xo: Float32Array, acco: Float32Array, scalars: Float32Array): void;
}

/** Whether the loaded addon has the optimizer updates (older builds do not: the kernels are then not registered). */
export function nativeOptimizerAvailable(): boolean {
  const na = nativeAddon() as OptimizerAddon | null;
  return !!na && typeof na.adamUpdate === 'function' && typeof na.momentumUpdate === 'function';
}

function optimizerAddon(): OptimizerAddon {
  if (!nativeOptimizerAvailable()) throw new Error('native optimizer: the addon is missing or predates it; run `npm rebuild layerwise-native`');
  return nativeAddon() as OptimizerAddon;
}

const sizeOf = (t: TensorInfo): number => t.shape.reduce((p, d) => p * d, 1);

/** The two configs [LwAdamUpdate, LwMomentumUpdate] on wasm (float32 inputs of the variable's size; the optimizers check before calling). */
export function makeNativeOptimizerKernels(): KernelConfig[] {
  const na = optimizerAddon();
  const adam = nativeKernelFunc((args) => {
    const { x, m, v, g, oneMinusAccBeta1, oneMinusAccBeta2 } = args.inputs as Record<string, TensorInfo>;
    const { beta1, beta2, epsilon, learningRate } = args.attrs as { beta1: number; beta2: number; epsilon: number; learningRate: number };
    return {
      outputs: [x.shape, x.shape, x.shape],
      run: (h, [xo, mo, vo]) => {
        // The float32 scalars tfjs makes: mul(m, β₁), mul(g, 1 − β₁) (1 − β₁ in double, then float32), sub(1, β₁ᵗ) as a tensor, ε, −lr.
        const s = Float32Array.of(beta1, 1 - beta1, beta2, 1 - beta2, h(oneMinusAccBeta1)[0], h(oneMinusAccBeta2)[0], epsilon, -learningRate);
        na.adamUpdate(h(x), h(m), h(v), h(g), xo, mo, vo, s);
      },
    };
  });
  const momentum = nativeKernelFunc((args) => {
    const { x, accumulation, g } = args.inputs as Record<string, TensorInfo>;
    const { momentum: mu, learningRate } = args.attrs as { momentum: number; learningRate: number };
    return { outputs: [x.shape, x.shape], run: (h, [xo, acco]) => na.momentumUpdate(h(x), h(accumulation), h(g), xo, acco, Float32Array.of(mu, -learningRate)) };
  });
  return [
    { kernelName: ADAM_UPDATE, backendName: 'wasm', kernelFunc: adam as unknown as KernelFunc },
    { kernelName: MOMENTUM_UPDATE, backendName: 'wasm', kernelFunc: momentum as unknown as KernelFunc },
  ];
}

/** What tfjs' applyGradients takes: named gradients as a list or a map. */
type Gradients = Parameters<AdamOptimizer['applyGradients']>[0];
interface Slot {
  originalName: string;
  variable: Variable;
}

/** Names and gradients of an applyGradients argument, in tfjs' order; null when the fused kernel cannot take them all. */
function fusable(kernel: string, grads: Gradients): { names: string[]; gradient: (i: number, name: string) => Tensor | undefined } | null {
  if (getBackend() !== 'wasm' || !getKernel(kernel, 'wasm')) return null;
  const names = Array.isArray(grads) ? grads.map((g) => g.name) : Object.keys(grads);
  const gradient = (i: number, name: string): Tensor | undefined => (Array.isArray(grads) ? grads[i].tensor : grads[name]);
  const ok = names.every((name, i) => {
    const v = engine().registeredVariables[name];
    const g = gradient(i, name);
    return v && v.dtype === 'float32' && (!g || (g.dtype === 'float32' && sizeOf(g) === v.size));
  });
  return ok ? { names, gradient } : null;
}

/** tfjs' slot variable for variable `name` (created as tfjs does: zeros, untrainable, named `${name}/${suffix}`). */
function slot(slots: Slot[], i: number, name: string, suffix: string): Variable {
  if (slots[i] == null) {
    const value = engine().registeredVariables[name];
    slots[i] = { originalName: `${name}/${suffix}`, variable: tidy(() => zerosLike(value).variable(false)) };
  }
  return slots[i].variable;
}

/** tfjs' AdamOptimizer state, as its applyGradients uses it (private in its typings). */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: Variable;
  accBeta2: Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
}

/** tf.train.adam with the update in one native kernel per variable on wasm (module comment); same constructor. */
export class FusedAdamOptimizer extends AdamOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    const f = fusable(ADAM_UPDATE, variableGradients);
    if (!f) return super.applyGradients(variableGradients);
    const s = this as unknown as AdamState;
    tidy(() => {
      const oneMinusAccBeta1 = sub(1, s.accBeta1);
      const oneMinusAccBeta2 = sub(1, s.accBeta2);
      f.names.forEach((name, i) => {
        const value = engine().registeredVariables[name];
        const m = slot(s.accumulatedFirstMoment, i, name, 'm');
        const v = slot(s.accumulatedSecondMoment, i, name, 'v');
        const g = f.gradient(i, name);
        if (g == null) return;
        const attrs = { beta1: s.beta1, beta2: s.beta2, epsilon: s.epsilon, learningRate: s.learningRate };
        const [x1, m1, v1] = engine().runKernel(ADAM_UPDATE, { x: value, m, v, g, oneMinusAccBeta1, oneMinusAccBeta2 }, attrs) as Tensor[];
        m.assign(m1);
        v.assign(v1);
        value.assign(x1);
      });
      s.accBeta1.assign(mul(s.accBeta1, s.beta1));
      s.accBeta2.assign(mul(s.accBeta2, s.beta2));
    });
    this.incrementIterations();
  }
}

/** tfjs' MomentumOptimizer state (private in its typings). */
interface MomentumState {
  learningRate: number;
  momentum: number;
  useNesterov: boolean;
  accumulations: Slot[];
}

/** tf.train.momentum with the update in one native kernel per variable on wasm (not for Nesterov: tfjs' own update then). */
export class FusedMomentumOptimizer extends MomentumOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    const s = this as unknown as MomentumState;
    const f = s.useNesterov ? null : fusable(MOMENTUM_UPDATE, variableGradients);
    if (!f) return super.applyGradients(variableGradients);
    f.names.forEach((name, i) => {
      const value = engine().registeredVariables[name];
      const accumulation = slot(s.accumulations, i, name, 'momentum');
      const g = f.gradient(i, name);
      if (g == null) return;
      tidy(() => {
        const [x1, a1] = engine().runKernel(MOMENTUM_UPDATE, { x: value, accumulation, g }, { momentum: s.momentum, learningRate: s.learningRate }) as Tensor[];
        accumulation.assign(a1);
        value.assign(x1);
      });
    });
    this.incrementIterations();
  }
}
