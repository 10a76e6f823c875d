/**
 * Adversarial-example jobs (issue 10) on a run's checkpoint: main finds the pack the run
 * trained on (its dataset version packed at its input shape; repacked from the dataset's
 * current state when that cache folder is gone), and starts an `attack` engine job through
 * InspectService's job plumbing (progress as `job.progress`, the end as `job.finished`, cancel
 * through `jobs.cancel`). Nothing is written to the database.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { AttackParamsSchema, AttackResultSchema, type AttackParams, type AttackResult } from '../../shared/attack';
import type { SplitConfig } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import { PACK_FILES, SPLIT_CODE } from '../../shared/pack';
import { RunSpecSchema } from '../../shared/spec';
import type { Db } from '../db/db';
import type { InspectService } from './inspect';

export interface AttackServiceOptions {
  db: Db;
  /** The data directory's pack cache (paths.cache). */
  cacheDir: string;
  inspect: Pick<InspectService, 'launch' | 'result'>;
  /** Pack a dataset's current state at an input shape (DatasetService.prepareTraining). */
  prepareTraining(datasetId: number, inputShape: [number, number, 1 | 3]): Promise<{ packDir: string }>;
  /** Import a folder of class folders as a new dataset (DatasetService.startImport / waitForImport). */
  datasets: { startImport(p: { path: string; name?: string; splitConfig?: SplitConfig }): Promise<{ jobId: number }>; waitForImport(jobId: number): Promise<unknown> };
}

/** The saved dataset's split rule: each image in its split folder's split, none carved or re-split (valFromTrain 0). */
const KEEP_SPLITS: SplitConfig = { mode: 'given', train: 80, val: 10, test: 10, valFromTrain: 0, seed: 42 };

/** What the engine writes beside the kept adversarial images (src/engine/attack-job.ts). */
interface SavedImages {
  packIndices: number[];
  labels: number[];
  classNames: string[];
  height: number;
  width: number;
  channels: 1 | 3;
  method: string;
  epsilon: number;
}

export class AttackService {
  /** Jobs that keep their adversarial images: job id → the file the engine writes and the pack it attacked. */
  private readonly saveFiles = new Map<number, { file: string; packDir: string }>();
  constructor(private readonly opts: AttackServiceOptions) {}

  /**
   * The pack folder of run `runId` (its dataset version at its input shape when that is still
   * in the cache, else the dataset packed now) and its model's input range.
   * @throws ApiError not_found (runId).
   */
  async packDirOf(runId: number): Promise<{ packDir: string; inputRange: AttackParams['inputRange'] }> {
    const row = this.opts.db.prepare('SELECT r.spec, r.dataset_id, v.content_hash FROM runs r LEFT JOIN dataset_versions v ON v.id = r.dataset_version_id WHERE r.id = ?').get(runId) as
      | { spec: string; dataset_id: number; content_hash: string | null }
      | undefined;
    if (!row) throw new ApiError('not_found', `runId: run ${runId} not found`, 'runId');
    const spec = RunSpecSchema.parse(JSON.parse(row.spec));
    const [h, w, c] = spec.model.inputShape;
    // The range the run's model was trained in (a pre-trained backbone's, else [0, 1]), as src/engine/pretrained.ts inputRangeOf.
    const inputRange = spec.pretrained?.inputRange ?? 'unit';
    if (row.content_hash) {
      const dir = join(this.opts.cacheDir, `${row.content_hash}-${h}x${w}x${c}`);
      if (existsSync(join(dir, 'meta.json'))) return { packDir: dir, inputRange };
    }
    return { packDir: (await this.opts.prepareTraining(row.dataset_id, [h, w, c])).packDir, inputRange };
  }

  /**
   * Start an attack job on run `runId` at checkpoint `epoch` (default: the best by validation).
   * @returns the job id (an engine job of kind 'attack'; `what` names the methods).
   * @throws ApiError not_found (runId), invalid_params (epoch without a checkpoint; params.* from the schema).
   */
  async start(p: { runId: number; epoch?: number; params: Omit<Partial<AttackParams>, 'inputRange' | 'saveFile'> }): Promise<{ jobId: number }> {
    const { packDir, inputRange } = await this.packDirOf(p.runId);
    const params = AttackParamsSchema.parse({ ...p.params, inputRange, saveFile: undefined });
    if (params.save) await mkdir(this.opts.cacheDir, { recursive: true });
    return this.opts.inspect.launch({
      runId: p.runId,
      epoch: p.epoch,
      kind: 'attack',
      what: params.methods.join('+'),
      message: (jobId, checkpointDir) => {
        if (!params.save) return { type: 'attack', jobId, checkpointDir, packDir, params };
        const saveFile = join(this.opts.cacheDir, `attack-${process.pid}-${jobId}.u8`);
        this.saveFiles.set(jobId, { file: saveFile, packDir });
        return { type: 'attack', jobId, checkpointDir, packDir, params: { ...params, saveFile } };
      },
      parse: (raw) => AttackResultSchema.parse(raw),
    });
  }

  /**
   * A completed attack job's result.
   * @throws ApiError not_found / conflict (jobId) as InspectService.result.
   */
  result(jobId: number): AttackResult {
    return this.opts.inspect.result(jobId, 'attack') as AttackResult;
  }

  /**
   * Import the adversarial images a completed job kept (params.save) as a new dataset: each
   * image written as an 8-bit PNG (so a perturbation under 0.5/255 is lost, and ε < 1/255
   * cannot be held) into `<split>/<class>/`, its source image's split (read from the attacked
   * pack's splits.u8) and its label, then the folder imported through the folder importer's
   * split folders under the split rule KEEP_SPLITS, so every image keeps its split (attacked
   * test images stay in test; no val is carved from train, nothing re-split 80/10/10). The kept files are removed once the import has read them.
   * @returns the import job (progress as any import's).
   * @throws ApiError not_found / conflict (jobId) as `result`, conflict (jobId) when the job kept no images.
   */
  async saveDataset(p: { jobId: number; name?: string }): Promise<{ importJobId: number; name: string }> {
    const r = this.result(p.jobId);
    const kept = this.saveFiles.get(p.jobId);
    const file = kept?.file;
    if (!r.saved || !kept || !file || !existsSync(`${file}.json`)) throw new ApiError('conflict', `jobId: attack job ${p.jobId} kept no adversarial images (start it with params.save)`, 'jobId');
    const meta = JSON.parse(await readFile(`${file}.json`, 'utf8')) as SavedImages;
    const pixels = await readFile(file);
    const size = meta.height * meta.width * meta.channels;
    const splitCodes = await readFile(join(kept.packDir, PACK_FILES.splits));
    const splitNames = Object.fromEntries(Object.entries(SPLIT_CODE).map(([name, code]) => [code, name])) as Record<number, string>;
    const dir = await mkdtemp(join(tmpdir(), 'layerwise-adversarial-'));
    try {
      const folders = meta.classNames.map((c, i) => c.replace(/[/\\]/g, '_') || `class ${i}`); // class names hold no control characters (src/shared/class-name.ts)
      for (let k = 0; k < meta.labels.length; k++) {
        const split = splitNames[splitCodes[meta.packIndices[k]]];
        if (!split) throw new ApiError('conflict', `jobId: the attacked pack has no split for item ${meta.packIndices[k]} (it changed since the attack ran)`, 'jobId');
        const folder = join(dir, split, folders[meta.labels[k]]);
        await mkdir(folder, { recursive: true });
        const png = await sharp(pixels.subarray(k * size, (k + 1) * size), { raw: { width: meta.width, height: meta.height, channels: meta.channels } }).png().toBuffer();
        await writeFile(join(folder, `${meta.method}-eps${meta.epsilon}-item${meta.packIndices[k]}.png`), png);
      }
      const name = p.name?.trim() || `adversarial ${meta.method.toUpperCase()} ε ${meta.epsilon}/255 (attack job ${p.jobId})`;
      const { jobId } = await this.opts.datasets.startImport({ path: dir, name, splitConfig: KEEP_SPLITS });
      void this.opts.datasets.waitForImport(jobId).finally(() => void rm(dir, { recursive: true, force: true }));
      return { importJobId: jobId, name };
    } catch (e) {
      await rm(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Remove the kept images' files (shutdown). */
  async dispose(): Promise<void> {
    for (const { file: f } of this.saveFiles.values()) await Promise.all([rm(f, { force: true }), rm(`${f}.json`, { force: true })]);
    this.saveFiles.clear();
  }
}
