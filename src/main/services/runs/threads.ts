/**
 * How runs on one machine share its cores: the queue's default concurrency from the core
 * count, and each engine's CPU threads (the native kernels' pool, src/engine/kernels/native.ts)
 * as its share of the cores, so that C runs at once do not each start a pool of every core
 * (C × cores threads fighting over the caches).
 */
import { availableParallelism } from 'node:os';

/** The most runs the default lets train at once, however many cores there are. */
const MAX_DEFAULT_CONCURRENCY = 4;

/**
 * The default number of runs trained at once: one per 4 cores, at least 1, at most 4
 * (2 cores → 1, 8 → 2, 16 or more → 4). Small runs scale poorly past a few threads each
 * (docs/ENGINE.md), so several runs with 4 threads each finish a sweep sooner than one run at a time.
 */
export function defaultConcurrency(cores: number = availableParallelism()): number {
  return Math.max(1, Math.min(MAX_DEFAULT_CONCURRENCY, Math.floor(cores / 4)));
}

/**
 * CPU threads for an engine starting while `slots` runs share the machine (the service
 * passes min(concurrency, runs training or waiting, this one included): a lone run gets
 * every core, a full queue of concurrency C gives each engine floor(cores / C)):
 * LAYERWISE_THREADS when set to a positive integer (the user's word wins), else
 * max(1, floor(cores / slots)). An engine keeps its count; one started alone may briefly
 * share its cores with later ones.
 */
export function engineThreads(slots: number, cores: number = availableParallelism(), env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.LAYERWISE_THREADS);
  if (env.LAYERWISE_THREADS !== undefined && env.LAYERWISE_THREADS !== '' && Number.isInteger(n) && n >= 1) return n;
  return Math.max(1, Math.floor(cores / Math.max(1, slots)));
}
