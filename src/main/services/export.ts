/**
 * Models out of the app and new images through them (issue 13): `runs.export` writes a run's
 * checkpoint (default: the best epoch, as Inspect picks it) as ONNX or TF.js with signature.json
 * (the engine's `export` job, src/engine/export), optionally zipped; `runs.classify` decodes
 * image files as the importer does and resizes them as the pack does (./pack.ts `pixelsAt`),
 * runs them through the checkpoint as a run's predictions are (the engine's `classify` job),
 * top-k per image, and an error row for each file that does not decode.
 * One short engine process per request; nothing is written to the database.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { ApiError } from '../../shared/errors';
import { SignatureSchema, type ClassifyParams, type ClassifyResult, type ExportParams, type ExportResult } from '../../shared/export';
import { RunSpecSchema, type RunSpec } from '../../shared/spec';
import { z } from 'zod';
import type { Db } from '../db/db';
import type { EngineLauncher } from '../engine-launcher';
import { SkipError } from '../images/image';
import type { InspectService } from './inspect';
import { pixelsOfFile } from './pack';
import { runEngineJob } from './runs/engine-job';
import { writeZip } from './zip';

export interface ExportServiceOptions {
  db: Db;
  launcher: EngineLauncher;
  inspect: Pick<InspectService, 'checkpoints'>;
}

/** Seconds an export or classify job may take. */
const JOB_TIMEOUT_S = 600;

const ExportAnswer = z.object({ files: z.array(z.string()), signature: SignatureSchema });
const ClassifyAnswer = z.object({ probabilities: z.array(z.array(z.number())) });

export class ExportService {
  private nextId = 1;
  constructor(private readonly opts: ExportServiceOptions) {}

  /** The run's spec, the checkpoint folder of `epoch` (default the best) and its class names. */
  private checkpoint(runId: number, epoch: number | undefined): { spec: RunSpec; epoch: number; dir: string; classNames: string[] } {
    const cps = this.opts.inspect.checkpoints(runId);
    const e = epoch ?? cps.best;
    const dir = e === null ? undefined : cps.dirs.get(e);
    if (e === null || dir === undefined) throw new ApiError('invalid_params', `epoch: run ${runId} has ${cps.epochs.length ? `checkpoints of epochs ${cps.epochs.join(', ')} only` : 'no checkpoint yet'}`, 'epoch');
    const row = this.opts.db.prepare('SELECT spec FROM runs WHERE id = ?').get(runId) as { spec: string };
    return { spec: RunSpecSchema.parse(JSON.parse(row.spec)), epoch: e, dir, classNames: cps.classNames };
  }

  /**
   * Export run `runId`'s checkpoint as `format` into `outDir` (default `<run folder>/export/<format>-epoch-<n>`).
   * @returns the folder, its files, the zip (`<folder>.zip`) when asked, and the signature
   * @throws ApiError not_found (runId), invalid_params (epoch), internal when the engine fails.
   */
  async export(params: ExportParams): Promise<ExportResult> {
    const cp = this.checkpoint(params.runId, params.epoch);
    const dir = resolve(params.outDir ?? join(dirname(cp.dir), 'export', `${params.format}-epoch-${cp.epoch}`));
    const answer = await runEngineJob(
      this.opts.launcher,
      { type: 'export', jobId: this.nextId++, checkpointDir: cp.dir, spec: cp.spec, format: params.format, outDir: dir, runId: params.runId, epoch: cp.epoch, classNames: cp.classNames },
      (raw) => ExportAnswer.parse(raw),
      `export of run ${params.runId}`,
      { timeoutS: JOB_TIMEOUT_S },
    );
    let zip: string | null = null;
    if (params.zip) {
      zip = `${dir}.zip`;
      await writeZip(zip, dir, answer.files, basename(dir));
    }
    return { dir, files: answer.files, zip, signature: answer.signature };
  }

  /**
   * Classify image files with run `runId`'s checkpoint. Each file is decoded by the importer and
   * resized as the pack resizes (./pack.ts pixelsOfFile: 'cover' + centre crop, sRGB /
   * greyscale), so a new image reaches the model exactly as an imported training image does;
   * preprocessed as in training.
   * @returns per image, in order, the top `top` classes (probability, descending) and all
   * probabilities, or `error` for a file that does not decode (the others are still classified)
   * @throws ApiError not_found / invalid_params as export; internal when the engine fails.
   */
  async classify(params: ClassifyParams): Promise<ClassifyResult> {
    const cp = this.checkpoint(params.runId, params.epoch);
    const [h, w, c] = cp.spec.model.inputShape;
    const decoded: ({ pixels: string } | { error: string })[] = [];
    for (const im of params.images) decoded.push(await this.decode(im.name, Buffer.from(im.dataBase64, 'base64'), h, w, c));
    const images = decoded.flatMap((d) => ('pixels' in d ? [d.pixels] : []));
    const probabilities =
      images.length === 0
        ? []
        : (
            await runEngineJob(this.opts.launcher, { type: 'classify', jobId: this.nextId++, checkpointDir: cp.dir, spec: cp.spec, images }, (raw) => ClassifyAnswer.parse(raw), `classification with run ${params.runId}`, {
              timeoutS: JOB_TIMEOUT_S,
            })
          ).probabilities;
    let next = 0;
    return {
      epoch: cp.epoch,
      classes: cp.classNames,
      images: params.images.map((im, i) => {
        const d = decoded[i];
        if ('error' in d) return { name: im.name, error: d.error };
        const p = probabilities[next++];
        const top = p
          .map((probability, index) => ({ index, name: cp.classNames[index], probability }))
          .sort((a, b) => b.probability - a.probability || a.index - b.index)
          .slice(0, params.top);
        return { name: im.name, top, probabilities: p };
      }),
    };
  }

  /** One file's model input (h × w × c uint8, base64), or the reason it does not decode (the importer's words; no path, no stack). */
  private async decode(name: string, bytes: Buffer, h: number, w: number, c: 1 | 3): Promise<{ pixels: string } | { error: string }> {
    try {
      return { pixels: (await pixelsOfFile(bytes, name, h, w, c)).toString('base64') };
    } catch (e) {
      return { error: e instanceof SkipError ? e.message : ((e as Error).message ?? String(e)).split('\n')[0] };
    }
  }
}
