/**
 * The `export` and `classify` engine jobs (issue 13) on a stored checkpoint: write it as an
 * ONNX / TF.js model with signature.json (./index.ts), or give class probabilities of images
 * main decoded as the pack decodes them, preprocessed and run as a run's predictions are
 * (../predict.ts `probabilities`, the input range of ../pretrained.ts `inputRangeOf`).
 */
import type { ClassifyJob, EngineToMain, ExportJob } from '../../shared/engine-protocol';
import { readCheckpoint } from '../checkpoint';
import { probabilities } from '../predict';
import { inputRangeOf } from '../pretrained';
import { exportModel } from './index';

type Post = (msg: EngineToMain) => void;

/** Run an `export` job: `jobResult` { files, signature }. @throws CheckpointError / Error (answered as `failed`). */
export async function runExportJob(job: ExportJob, post: Post): Promise<void> {
  post({ type: 'jobProgress', phase: 'loading', done: 0, total: 2 });
  const model = await readCheckpoint(job.checkpointDir);
  try {
    post({ type: 'jobProgress', phase: 'writing', done: 1, total: 2 });
    const result = await exportModel(model, job.spec, job.format, job.outDir, { runId: job.runId, epoch: job.epoch, classNames: job.classNames });
    post({ type: 'jobResult', result });
  } finally {
    model.dispose();
  }
}

/** Run a `classify` job: `jobResult` { probabilities: number[][] } (one row per image, softmax over the classes). */
export async function runClassifyJob(job: ClassifyJob, post: Post): Promise<void> {
  const model = await readCheckpoint(job.checkpointDir);
  try {
    const shape = job.spec.model.inputShape;
    const size = shape[0] * shape[1] * shape[2];
    const pixels = new Uint8Array(job.images.length * size);
    job.images.forEach((b64, i) => {
      const px = Buffer.from(b64, 'base64');
      if (px.length !== size) throw new Error(`classify: image ${i} has ${px.length} values, the model takes ${size}`);
      pixels.set(px, i * size);
    });
    const k = job.spec.model.numClasses;
    const p = await probabilities(model, pixels, job.images.length, shape, k, 64, inputRangeOf(job.spec));
    post({ type: 'jobResult', result: { probabilities: Array.from({ length: job.images.length }, (_, i) => Array.from(p.subarray(i * k, (i + 1) * k))) } });
  } finally {
    model.dispose();
  }
}
