/**
 * The engine's `attack` job (src/shared/engine-protocol.ts AttackJob): load the checkpoint and
 * the pack, run the accuracy-vs-ε curve (./attack-curve.ts), reply `jobProgress` (phase
 * 'gradients': gradient evaluations done of total) … then `jobResult` (an AttackResult) or
 * `jobCancelled`. With params.save and params.saveFile it also writes the adversarial images of
 * that method and ε for every sample image, rounded to 8 bits, as uint8 NHWC to `saveFile` and
 * `{ packIndices, labels, classNames, height, width, channels, method, epsilon }` to `<saveFile>.json`.
 */
import { writeFile } from 'node:fs/promises';
import type { AttackJob } from '../shared/engine-protocol';
import { AttackParamsSchema } from '../shared/attack';
import { formatZodError } from '../shared/spec';
import { attackCurve, attackSample } from './attack-curve';
import { readCheckpoint } from './checkpoint';
import { readPack } from './pack-reader';
import { inputAffine } from './preprocess';
import type { Post } from './train';

/**
 * Run one attack job. The tfjs backend must be initialised.
 * @throws Error when the params do not parse (naming the field), the checkpoint is missing or
 *   damaged (CheckpointError naming the file), the pack does not fit the model, the split is
 *   empty, or the save file cannot be written.
 */
export async function runAttackJob(job: AttackJob, post: Post, signal: { readonly aborted: boolean }): Promise<void> {
  const parsed = AttackParamsSchema.safeParse(job.params);
  if (!parsed.success) throw new Error(`attack: invalid params: ${formatZodError(parsed.error)}`);
  const params = parsed.data;
  const pack = readPack(job.packDir);
  const model = await readCheckpoint(job.checkpointDir);
  try {
    const [h, w, c] = model.inputs[0].shape.slice(1) as number[];
    const m = pack.meta;
    if (m.height !== h || m.width !== w || m.channels !== c) throw new Error(`attack: the pack is ${m.height}×${m.width}×${m.channels} but the model takes ${h}×${w}×${c}`);
    const outputs = model.outputs[0].shape[1];
    if (outputs !== m.numClasses) throw new Error(`attack: the pack has ${m.numClasses} classes but the model outputs ${outputs}`);
    const save = params.save && params.saveFile ? params.save : null;
    const size = h * w * c;
    const sample = save ? attackSample(pack, params) : null;
    const kept = save ? new Uint8Array(sample!.length * size) : null;
    const affine = inputAffine(params.inputRange);
    // The kept images' method and ε are attacked too when the curve does not name them.
    const curve = save ? { ...params, epsilons: [...new Set([...params.epsilons, save.epsilon])], methods: [...new Set([...params.methods, save.method])] } : params;
    const result = await attackCurve(model, pack, curve, {
      range: params.inputRange,
      signal,
      onProgress: (done, total) => post({ type: 'jobProgress', phase: 'gradients', done, total }),
      onAdversarial: (method, epsilon, from, n, adv) => {
        if (!kept || method !== save!.method || epsilon !== save!.epsilon) return;
        for (let i = 0; i < n * size; i++) kept[from * size + i] = Math.max(0, Math.min(255, Math.round((adv[i] - affine.shift) / affine.scale)));
      },
    });
    if (!result || signal.aborted) {
      post({ type: 'jobCancelled' });
      return;
    }
    if (kept && save && params.saveFile) {
      await writeFile(params.saveFile, kept);
      const labels = Array.from(sample!, (i) => pack.labels[i]);
      await writeFile(`${params.saveFile}.json`, JSON.stringify({ packIndices: Array.from(sample!), labels, classNames: m.classNames, height: h, width: w, channels: c, ...save }));
      result.saved = { ...save, count: sample!.length };
    }
    post({ type: 'jobResult', result });
  } finally {
    model.dispose();
  }
}
