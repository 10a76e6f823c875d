#!/usr/bin/env node
/**
 * A stranger's preprocessing: reads ONLY an exported model's signature.json (issue 13) and
 * turns image files into the model's input tensor, without any Layerwise code — the check that
 * catches a training / inference preprocessing mismatch (Lobe's "same prediction for every
 * input"). Decoding and resizing with sharp as the signature names them (EXIF orientation,
 * alpha composited onto white, 'cover' + centre crop, lanczos3, sRGB or luminance), then
 * x = pixel · scale + offset, the one map the signature states.
 *
 *   node test/scripts/signature-preprocess.mjs SIGNATURE.json OUT.f32 IMAGE...
 *
 * Writes float32 little-endian [n, height, width, channels] to OUT.f32.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';

const [sigPath, outPath, ...images] = process.argv.slice(2);
if (!sigPath || !outPath || images.length === 0) {
  console.error('usage: signature-preprocess.mjs SIGNATURE.json OUT.f32 IMAGE...');
  process.exit(2);
}
const sig = JSON.parse(readFileSync(sigPath, 'utf8'));
const [, height, width, channels] = sig.input.shape;
const p = sig.preprocessing;
if (sig.input.layout !== 'NHWC' || sig.input.dtype !== 'float32') throw new Error(`unexpected input ${JSON.stringify(sig.input)}`);
if (p.resize.rule !== 'cover' || p.resize.crop !== 'centre') throw new Error(`unexpected resize ${JSON.stringify(p.resize)}`);
if (typeof p.scale !== 'number' || typeof p.offset !== 'number') throw new Error(`no scale / offset in ${JSON.stringify(p)}`);
const size = height * width * channels;
const out = new Float32Array(images.length * size);
for (const [i, file] of images.entries()) {
  const decoded = await sharp(readFileSync(file)).rotate().flatten({ background: '#ffffff' }).raw().toBuffer({ resolveWithObject: true });
  let img = sharp(decoded.data, { raw: { width: decoded.info.width, height: decoded.info.height, channels: decoded.info.channels } });
  if (!(p.resize.skipWhenSameSize && decoded.info.width === width && decoded.info.height === height)) img = img.resize(width, height, { fit: 'cover', position: 'centre', kernel: p.resize.kernel });
  const { data, info } = await img.removeAlpha().toColourspace(p.channelOrder === 'L' ? 'b-w' : 'srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.width !== width || info.height !== height || info.channels !== channels) throw new Error(`${file}: ${info.width}×${info.height}×${info.channels}`);
  for (let j = 0; j < size; j++) out[i * size + j] = data[j] * p.scale + p.offset;
}
writeFileSync(outPath, Buffer.from(out.buffer));
