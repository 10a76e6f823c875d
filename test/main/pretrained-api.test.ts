/**
 * `models.pretrainedSpec` (the API behind the New-run page's Pre-trained choice, issue 13)
 * through the app's request handler with result validation: a dataset of ant and bee photos
 * imported by the CLI, MobileNet v1 0.5/160 from the shared TFLite file. The answer is the
 * spec `layerwise spec --pretrained` writes (one builder, src/main/services/pretrained.ts),
 * runs.start takes it, and bad requests are refused naming their field.
 */
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIO } from '../../src/main/host/cli-program';
import { createApp, type App } from '../../src/main/services/app';
import { ApiError } from '../../src/shared/errors';
import { sharedData, tempDataDir, tempDir, type TempDataDir } from '../helpers';
import { RecordingLauncher } from './runs-helpers';

const models = sharedData('mobilenet-tflite');
const hymen = sharedData('hymenoptera');
const quiet: CliIO = { out: () => {}, err: () => {}, progressStream: { isTTY: false } as NodeJS.WriteStream, onInterrupt: () => () => {} };

describe.skipIf(!models || !hymen)('models.pretrainedSpec', () => {
  let dir: TempDataDir;
  let input: { path: string; cleanup(): void };
  let app: App;
  beforeAll(async () => {
    dir = tempDataDir();
    input = tempDir();
    for (const split of ['train', 'val']) {
      for (const cls of ['ants', 'bees']) {
        mkdirSync(join(input.path, split, cls), { recursive: true });
        const from = join(hymen!, split, cls);
        for (const f of readdirSync(from).filter((n) => n.endsWith('.jpg')).sort().slice(0, 3)) copyFileSync(join(from, f), join(input.path, split, cls, f));
      }
    }
    expect(await runCli(['node', 'layerwise', 'import', input.path, '--name', 'hym', '--data-dir', dir.root], quiet)).toBe(0);
    app = createApp({ dataDir: dir.root, launcher: new RecordingLauncher(), api: { validateResults: true } });
  });
  afterAll(async () => {
    await app?.shutdown();
    input?.cleanup();
    dir?.cleanup();
  });

  it('answers the fine-tune spec for the dataset; runs.start takes it', async () => {
    const file = join(models!, 'mobilenet_v1_0.5_160_quant.tflite');
    const r = (await app.handle('models.pretrainedSpec', { file, datasetId: 1, labels: join(models!, 'imagenet_labels.txt'), dropout: 0.2 })) as { model: { nodes: { name: string }[]; numClasses: number }; pretrained: Record<string, unknown>; summary: string };
    expect(r.model.numClasses).toBe(2);
    expect(r.model.nodes.slice(-2).map((n) => n.name)).toEqual(['head/dropout', 'logits']);
    expect(r.pretrained).toMatchObject({ file, freezeUpTo: 'MobilenetV1/Conv2d_12_pointwise', headInit: [311, 310], inputRange: 'symmetric' });
    expect(r.summary).toContain('ants → "ant, emmet, pismire", bees → "bee"');
    // Without a labels field, imagenet_labels.txt beside the model file is found and starts the head.
    const features = (await app.handle('models.pretrainedSpec', { file, datasetId: 1, freeze: 'features' })) as { pretrained: { freezeUpTo: string; headInit?: number[] }; summary: string };
    expect(features.pretrained.freezeUpTo).toBe('MobilenetV1/Logits/AvgPool_1a');
    expect(features.pretrained.headInit).toEqual([311, 310]);
    expect(features.summary).toContain('labels from imagenet_labels.txt beside the model file');
    const { runId } = (await app.handle('runs.start', { spec: { datasetId: 1, model: r.model, pretrained: r.pretrained, training: { optimizer: { type: 'adam', learningRate: 1e-4 }, batchSize: 4, epochs: 1 } } })) as { runId: number };
    expect(runId).toBe(1);
    // Named by its backbone (as the New-run form and the Runs list name it), not "Custom on …".
    const started = app.runs.get(runId);
    expect(started.name).toMatch(/^mobilenet_v1_0\.5_160_quant fine-tune on /);
    expect(started.backbone).toBe('mobilenet_v1_0.5_160_quant');
    await app.handle('runs.cancel', { runId });
  });

  it('refuses a file that is not a TFLite model, a missing file and an unknown dataset, naming the field', async () => {
    const fail = async (params: unknown): Promise<ApiError> => {
      try {
        await app.handle('models.pretrainedSpec', params);
      } catch (e) {
        return e as ApiError;
      }
      throw new Error('no error');
    };
    let e = await fail({ file: join(models!, 'imagenet_labels.txt'), datasetId: 1 });
    expect([e.code, e.field]).toEqual(['invalid_params', 'file']);
    expect(e.message).toMatch(/not a TFLite file/);
    e = await fail({ file: join(models!, 'nope.tflite'), datasetId: 1 });
    expect([e.code, e.field]).toEqual(['invalid_params', 'file']);
    expect(e.message).toContain('file: cannot read the model file');
    e = await fail({ file: join(models!, 'mobilenet_v1_0.5_160_quant.tflite'), datasetId: 99 });
    expect(e.code).toBe('not_found');
    e = await fail({ file: join(models!, 'mobilenet_v1_0.5_160_quant.tflite'), datasetId: 1, freeze: 'most' });
    expect([e.code, e.field]).toEqual(['invalid_params', 'freeze']);
  });
});
