/**
 * signature.json states one preprocessing (issue 13): decode, resize, then x = pixel · scale +
 * offset — no second form (mean/std) a consumer could pick and get wrong. Checked from both
 * ends: the signature written for a [−1, 1] MobileNet-type and a [0, 1] greyscale model holds
 * exactly those fields, and the stranger's script (test/scripts/signature-preprocess.mjs, which
 * follows only the signature) turns real files into the very tensor the app feeds the model
 * (main's pixelsOfFile, as `runs.classify` decodes, then the engine's preprocess): hymenoptera
 * JPEGs, a PNG with transparency (composited onto white, as imported) and a grey PNG.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { signatureOf } from '../../src/engine/export/index';
import { preprocess } from '../../src/engine/preprocess';
import { pixelsOfFile } from '../../src/main/services/pack';
import { preprocessText, SignatureSchema } from '../../src/shared/export';
import { buildPreset, type RunSpec } from '../../src/shared/spec';
import { sharedData, tempDir } from '../helpers';

const hymen = sharedData('hymenoptera');
const REPO_ROOT = join(__dirname, '..', '..');

describe.skipIf(!hymen)('signature.json: one preprocessing, and a script that follows it gets the app\'s input', () => {
  const out = tempDir();
  afterAll(() => out.cleanup());

  for (const c of [
    { name: 'RGB 96×80 in [−1, 1]', shape: [96, 80, 3] as [number, number, 3], range: 'symmetric' as const, scale: 1 / 127.5, offset: -1 },
    { name: 'grey 28×28 in [0, 1]', shape: [28, 28, 1] as [number, number, 1], range: 'unit' as const, scale: 1 / 255, offset: 0 },
  ]) {
    it(c.name, async () => {
      // The fields signatureOf reads: the model, and (a backbone in [−1, 1]) the pre-trained input range.
      const spec = { datasetId: 1, model: buildPreset('lenet5', { inputShape: c.shape, numClasses: 2 }), ...(c.range === 'symmetric' ? { pretrained: { inputRange: 'symmetric' } } : {}) } as unknown as RunSpec;
      const sig = SignatureSchema.parse(JSON.parse(JSON.stringify(signatureOf(spec, 'onnx', ['model.onnx'], { runId: 1, epoch: 0, classNames: ['a', 'b'] }))));
      // One map, stated once: nothing else a consumer could apply.
      expect(Object.keys(sig.preprocessing).sort()).toEqual(['channelOrder', 'decode', 'offset', 'range', 'resize', 'scale']);
      expect(sig.preprocessing.scale).toBe(c.scale);
      expect(sig.preprocessing.offset).toBe(c.offset);
      expect(sig.preprocessing.range).toEqual([c.offset, 255 * c.scale + c.offset]);
      expect(sig.signatureVersion).toBe(2);
      expect(preprocessText(sig.preprocessing)).toBe(c.range === 'symmetric' ? 'x = pixel / 127.5 − 1 → [-1, 1]' : 'x = pixel / 255 → [0, 1]');
      const sigFile = join(out.path, `sig-${c.shape[2]}.json`);
      writeFileSync(sigFile, JSON.stringify(sig));

      const photos = ['ants', 'bees'].map((k) => join(hymen!, 'val', k, readdirSync(join(hymen!, 'val', k)).sort()[0]));
      // A 50 × 40 PNG with a transparent left half and a half-transparent right, over a photo's pixels.
      const { data } = await sharp(photos[0]).resize(50, 40).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const rgba = Buffer.alloc(50 * 40 * 4);
      for (let p = 0; p < 50 * 40; p++) {
        data.copy(rgba, p * 4, p * 3, p * 3 + 3);
        rgba[p * 4 + 3] = p % 50 < 25 ? 0 : 128;
      }
      const alpha = join(out.path, 'alpha.png');
      writeFileSync(alpha, await sharp(rgba, { raw: { width: 50, height: 40, channels: 4 } }).png().toBuffer());
      const grey = join(out.path, 'grey.png');
      writeFileSync(grey, await sharp(photos[1]).resize(60, 45).greyscale().toColourspace('b-w').png().toBuffer());
      const files = [...photos, alpha, grey];

      const f32 = join(out.path, `x-${c.shape[2]}.f32`);
      execFileSync(process.execPath, [join(REPO_ROOT, 'test/scripts/signature-preprocess.mjs'), sigFile, f32, ...files]);
      const theirs = new Float32Array(readFileSync(f32).buffer.slice(0));
      const [h, w, ch] = c.shape;
      const size = h * w * ch;
      expect(theirs.length).toBe(files.length * size);
      for (const [i, f] of files.entries()) {
        const ours = preprocess(await pixelsOfFile(readFileSync(f), f, h, w, ch), c.range);
        let worst = 0;
        for (let j = 0; j < size; j++) worst = Math.max(worst, Math.abs(ours[j] - theirs[i * size + j]));
        // At most one uint8 step of rounding apart (sharp's flatten vs the importer's), most files exactly equal.
        expect(worst, `${f}: script vs app`).toBeLessThanOrEqual(c.scale * 1.0001);
        if (i < 2) expect(worst, `${f}: a JPEG photo is identical`).toBeLessThan(1e-6);
      }
    });
  }
});
