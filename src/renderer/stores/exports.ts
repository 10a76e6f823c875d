/** Models out of a run (issue 13): export as ONNX / TF.js on the host (`runs.export`), and new images classified by a run (`runs.classify`). */
import { defineStore } from 'pinia';
import type { Result } from '../../shared/api';
import type { ClassifyResult, ExportFormat } from '../../shared/export';
import { useApi } from '../api';
import { batchFiles, fileToUpload, type UploadFile } from '../lib/upload';

/** Images per classify call (the API takes up to 256; the upload budget keeps a call under the frame limit). */
const CLASSIFY_FILES_PER_CALL = 64;

export const useExportsStore = defineStore('exports', () => {
  /**
   * Export run `runId` (its best checkpoint) as `format` into the host's default folder, optionally zipped.
   * @throws ApiError when refused (no checkpoint) or the engine fails.
   */
  async function exportRun(runId: number, format: ExportFormat, zip: boolean): Promise<Result<'runs.export'>> {
    return useApi().call('runs.export', { runId, format, zip });
  }

  /**
   * Classify image files with run `runId`, in calls of at most CLASSIFY_FILES_PER_CALL files
   * within the upload byte budget; `onBatch` after each call with the images done so far.
   * A file that does not decode gets an error row (ClassifiedImage); the others are still classified.
   * @throws ApiError for the run or epoch.
   */
  async function classify(runId: number, files: readonly File[], top: number, onBatch?: (done: number) => void): Promise<ClassifyResult> {
    let all: ClassifyResult | null = null;
    for (const batch of batchFiles(files, CLASSIFY_FILES_PER_CALL)) {
      const images: UploadFile[] = await Promise.all(batch.map(fileToUpload));
      const r = await useApi().call('runs.classify', { runId, images, top });
      if (all) all.images.push(...r.images);
      else all = r;
      onBatch?.(all.images.length);
    }
    if (!all) throw new Error('no images to classify');
    return all;
  }

  return { exportRun, classify };
});
