/**
 * The wire shapes of sweeps (the `sweeps.*` requests of ./api.ts): a sweep's summary with
 * its progress, and its detail with the variants, the runs and the ablation table
 * (./sweep-table.ts computes it; these schemas check what travels).
 */
import { z } from 'zod';

const Id = z.number().int().positive();
const RunStatus = z.enum(['queued', 'running', 'completed', 'failed', 'cancelled', 'interrupted']);
const MeanSdSchema = z.object({ mean: z.number(), sd: z.number(), n: z.number().int() });
const DeltaSchema = z.object({ mean: z.number(), spread: z.number(), n: z.number().int() });

export const SweepVariantSchema = z.object({ index: z.number().int().min(0), values: z.record(z.string(), z.unknown()), label: z.string() });

/** A sweep with how far it is: runs by status. */
export const SweepSummarySchema = z.object({
  id: Id,
  name: z.string(),
  datasetId: z.number().int(),
  /** The dataset's name (null once it was deleted). */
  datasetName: z.string().nullable(),
  createdAt: z.number(),
  /** Set once the sweep was cancelled (its queued and running runs with it). */
  cancelledAt: z.number().nullable(),
  variants: z.number().int(),
  seeds: z.number().int(),
  /** Planned runs (variants × seeds); `deleted` of them are no longer there. */
  runs: z.number().int(),
  deleted: z.number().int(),
  counts: z.object({ queued: z.number().int(), running: z.number().int(), completed: z.number().int(), failed: z.number().int(), cancelled: z.number().int(), interrupted: z.number().int() }),
});
export type SweepSummary = z.infer<typeof SweepSummarySchema>;

export const SweepRunResultSchema = z.object({ runId: Id, variant: z.number().int(), seed: z.number().int(), status: RunStatus, bestValAccuracy: z.number().nullable(), testAccuracy: z.number().nullable(), error: z.string().nullable().optional() });

export const AblationRowSchema = z.object({
  variant: z.number().int(),
  label: z.string(),
  values: z.record(z.string(), z.unknown()),
  runs: z.number().int(),
  completed: z.number().int(),
  val: MeanSdSchema.nullable(),
  test: MeanSdSchema.nullable(),
  deltaVal: DeltaSchema.nullable(),
  deltaTest: DeltaSchema.nullable(),
  baseline: z.boolean(),
  best: z.boolean(),
});

/** A sweep with its spec (the parsed SweepSpec), variants, runs and ablation table. */
export const SweepDetailSchema = SweepSummarySchema.extend({
  spec: z.record(z.string(), z.unknown()),
  variantList: z.array(SweepVariantSchema),
  runList: z.array(SweepRunResultSchema),
  table: z.array(AblationRowSchema),
});
export type SweepDetail = z.infer<typeof SweepDetailSchema>;

/** The run queue: runs trained at once, the machine's cores, the threads an engine gets when the queue is full. */
export const QueueInfoSchema = z.object({ concurrency: z.number().int().min(1), cores: z.number().int().min(1), threadsPerEngine: z.number().int().min(1), queued: z.number().int(), running: z.number().int() });
export type QueueInfo = z.infer<typeof QueueInfoSchema>;
