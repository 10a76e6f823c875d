/**
 * The augmentation preview: the first `count` images of a spec's first training batch as the
 * engine trains on them — the epoch-0 shuffle and augmentation generators seeded as train.ts
 * seeds them (deriveSeed(seed, 'shuffle' | 'augment', 0)), its fillBatch and augmentBatch,
 * random labels applied — as uint8 HWC (the model input mapped back to 0…255 and clipped).
 * Adversarial mixing, which comes after augmentation in a step, is not shown.
 */
import type { AugmentPreview } from '../shared/augment-preview';
import type { RunSpec } from '../shared/spec';
import { augmentBatch } from './augment';
import { readPack } from './pack-reader';
import { inputAffine } from './preprocess';
import { inputRangeOf } from './pretrained';
import { deriveSeed, Rng } from './random';
import { checkPackFits, fillBatch, withRandomTrainLabels } from './train';

/** The preview of `count` images (at most the batch size) for `spec` on the pack in `packDir`. @throws Error on a pack that does not fit. */
export function augmentPreview(spec: RunSpec, packDir: string, count: number): AugmentPreview {
  const loaded = readPack(packDir);
  checkPackFits(loaded, spec);
  const pack = spec.training.randomLabels ? withRandomTrainLabels(loaded, spec.seed) : loaded;
  const { height, width, channels, classNames } = pack.meta;
  const size = height * width * channels;
  const order = new Rng(deriveSeed(spec.seed, 'shuffle', 0)).shuffle(Int32Array.from(pack.indices.train));
  // The draws of image k depend on those of images 0…k−1 only, so augmenting the first n reproduces the batch's first n.
  const n = Math.min(count, spec.training.batchSize, order.length);
  const buf = new Float32Array(n * size);
  const lab = new Int32Array(n);
  const range = inputRangeOf(spec);
  fillBatch(pack, order, 0, n, buf, lab, range);
  augmentBatch(buf, n, height, width, channels, spec.training.augmentation, new Rng(deriveSeed(spec.seed, 'augment', 0)));
  const { scale, shift } = inputAffine(range);
  const images = Array.from({ length: n }, (_, b) => {
    const px = new Uint8Array(size);
    for (let i = 0; i < size; i++) px[i] = Math.max(0, Math.min(255, Math.round((buf[b * size + i] - shift) / scale)));
    return { packIndex: order[b], label: classNames[lab[b]] ?? String(lab[b]), pixelsBase64: Buffer.from(px).toString('base64') };
  });
  return { height, width, channels: channels as 1 | 3, images };
}
