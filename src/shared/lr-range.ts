/**
 * The learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training Neural
 * Networks", §3.3): train a fresh model of a spec for a few hundred steps while the learning
 * rate grows from `minLearningRate` to `maxLearningRate` (here exponentially, each step the
 * same factor, as Smith & Topin 2019 and fastai's lr_find do), record each step's loss, stop
 * once it diverges, and suggest a rate. Schemas for the API (`runs.lrRange`) and the engine
 * job (`lrRange` in ./engine-protocol.ts). Zod only.
 */
import { z } from 'zod';

export const LrRangeParamsSchema = z
  .object({
    minLearningRate: z.number().gt(0).max(10).default(1e-6),
    maxLearningRate: z.number().gt(0).max(100).default(1),
    steps: z.number().int().min(10).max(500).default(100),
    /** β of the debiased exponential moving average of the loss (TensorBoard / fastai smoothing). */
    smoothing: z.number().min(0).lt(1).default(0.9),
    /** Stop when the smoothed loss exceeds this many times its minimum so far (fastai: 4). */
    divergence: z.number().gt(1).default(4),
  })
  .strict()
  .refine((p) => p.maxLearningRate > p.minLearningRate, { message: 'maxLearningRate must be above minLearningRate', path: ['maxLearningRate'] });
export type LrRangeParams = z.infer<typeof LrRangeParamsSchema>;

export const LrRangePointSchema = z.object({ step: z.number().int(), learningRate: z.number(), loss: z.number(), smoothed: z.number() });

export const LrRangeResultSchema = z.object({
  points: z.array(LrRangePointSchema),
  /** The rate where the smoothed loss falls fastest per decade of rate, before its minimum; null when it never falls. */
  suggestedLearningRate: z.number().nullable(),
  /** The rate of the lowest smoothed loss (Smith's rule of thumb: train somewhat below it). */
  minLossLearningRate: z.number(),
  /** The test stopped before its last step because the loss diverged. */
  diverged: z.boolean(),
});
export type LrRangeResult = z.infer<typeof LrRangeResultSchema>;

/** The rate of step `i` of `steps`: min · (max / min)^(i / (steps − 1)). */
export function lrRangeRate(p: Pick<LrRangeParams, 'minLearningRate' | 'maxLearningRate' | 'steps'>, i: number): number {
  return p.minLearningRate * Math.pow(p.maxLearningRate / p.minLearningRate, i / Math.max(1, p.steps - 1));
}

/**
 * The suggestion from the recorded points: the point before the smoothed minimum where the
 * smoothed loss drops fastest against log rate (the most negative central difference
 * Δsmoothed / Δln lr), and the minimum's rate.
 */
export function suggestLearningRate(points: readonly z.infer<typeof LrRangePointSchema>[]): { suggestedLearningRate: number | null; minLossLearningRate: number } {
  let iMin = 0;
  points.forEach((p, i) => {
    if (p.smoothed < points[iMin].smoothed) iMin = i;
  });
  let best: number | null = null;
  let bestSlope = 0;
  for (let i = 1; i < iMin; i++) {
    const slope = (points[i + 1].smoothed - points[i - 1].smoothed) / (Math.log(points[i + 1].learningRate) - Math.log(points[i - 1].learningRate));
    if (slope < bestSlope) {
      bestSlope = slope;
      best = i;
    }
  }
  return { suggestedLearningRate: best === null ? null : points[best].learningRate, minLossLearningRate: points[iMin]?.learningRate ?? NaN };
}
