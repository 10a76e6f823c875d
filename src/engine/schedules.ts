/**
 * Per-epoch judges of a monitored metric, with state that a checkpoint carries (so a
 * resumed run decides as the uninterrupted one would): the best epoch and early stopping
 * (Keras EarlyStopping with restore_best_weights), and reduce-on-plateau (Keras
 * ReduceLROnPlateau without cooldown). Plain numbers in, plain JSON state out; no tensors.
 */
import { higherIsBetter, type MonitorMetric } from '../shared/metrics';
import type { EarlyStoppingSpec, LearningRateSchedule } from '../shared/spec';

/** An epoch's monitored values (null: not measured, e.g. no validation split). */
export type EpochValues = Readonly<Record<MonitorMetric, number | null>>;

/** State of a Monitor: the best value so far, its epoch, epochs since the last improvement. */
export interface MonitorState {
  best: number | null;
  bestEpoch: number | null;
  wait: number;
}

/**
 * Keras' improvement rule: under 'min' `value < best − minDelta`, under 'max'
 * `value > best + minDelta`; 'auto' is 'max' for accuracies, 'min' for losses. The first
 * measured value always improves.
 */
export function improves(value: number, best: number | null, monitor: MonitorMetric, mode: 'auto' | 'min' | 'max', minDelta: number): boolean {
  if (best === null) return true;
  const max = mode === 'max' || (mode === 'auto' && higherIsBetter(monitor));
  return max ? value > best + minDelta : value < best - minDelta;
}

/**
 * The best epoch and early stopping. `observe(epoch, values)` after each epoch returns
 * whether to stop: `patience` > 0 epochs in a row without improvement. An epoch whose
 * monitored value is null (no validation split) neither improves nor counts: early
 * stopping and the best epoch then stay off (bestEpoch null: test the last epoch).
 */
export class EarlyStopping {
  state: MonitorState;
  constructor(
    private readonly spec: EarlyStoppingSpec,
    state?: MonitorState,
  ) {
    this.state = state ? { ...state } : { best: null, bestEpoch: null, wait: 0 };
  }

  /** Record epoch `epoch`'s values. @returns true when training should stop after this epoch. */
  observe(epoch: number, values: EpochValues): boolean {
    const v = values[this.spec.monitor];
    if (v === null || !Number.isFinite(v)) return false;
    const s = this.state;
    if (improves(v, s.best, this.spec.monitor, this.spec.mode, this.spec.minDelta)) {
      s.best = v;
      s.bestEpoch = epoch;
      s.wait = 0;
      return false;
    }
    s.wait++;
    return this.spec.patience > 0 && s.wait >= this.spec.patience;
  }

  /** The epoch whose weights are tested: the best one when restoreBest and one was measured, else null (the last). */
  get restoreEpoch(): number | null {
    return this.spec.restoreBest ? this.state.bestEpoch : null;
  }
}

/** State of ReduceOnPlateau: its monitor and the current factor on the base rate. */
export interface PlateauState extends MonitorState {
  scale: number;
}

/**
 * Reduce-on-plateau: after `patience` epochs without improvement (the same rule, mode
 * 'auto') the rate is multiplied by `factor`, never below `minLearningRate`, and the wait
 * starts again. `rate(base)` is the rate for the next epoch.
 */
export class ReduceOnPlateau {
  state: PlateauState;
  constructor(
    private readonly spec: Extract<LearningRateSchedule, { type: 'plateau' }>,
    state?: PlateauState,
  ) {
    this.state = state ? { ...state } : { best: null, bestEpoch: null, wait: 0, scale: 1 };
  }

  /** Record epoch `epoch`'s values (after its training at the current rate). */
  observe(epoch: number, values: EpochValues, base: number): void {
    const v = values[this.spec.monitor];
    if (v === null || !Number.isFinite(v)) return;
    const s = this.state;
    if (improves(v, s.best, this.spec.monitor, 'auto', this.spec.minDelta)) {
      s.best = v;
      s.bestEpoch = epoch;
      s.wait = 0;
      return;
    }
    if (++s.wait >= this.spec.patience) {
      s.scale = Math.max(s.scale * this.spec.factor, Math.min(1, this.spec.minLearningRate / base));
      s.wait = 0;
    }
  }

  /** The rate of the next epoch: base · scale, at least minLearningRate (unless base is below it). */
  rate(base: number): number {
    return Math.max(base * this.state.scale, Math.min(base, this.spec.minLearningRate));
  }
}
