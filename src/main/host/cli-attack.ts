/**
 * `layerwise attack RUN [--method fgsm,pgd] [--eps 0,1,2,4,8] [--steps K] [--step-size A]
 * [--split test] [--target none|next|CLASS] [--max-images N] [--epoch E] [--seed S] [--json]`:
 * accuracy under FGSM / PGD-K for each ε (pixel units, /255) on a split of the run's data, from
 * one attack job (src/main/services/attack.ts) on the run's checkpoint (default: the best).
 * `--json` prints the result without the gallery's images. Ctrl+C cancels the job (exit 130).
 */
import { InvalidArgumentError, type Command, type Option } from 'commander';
import type { Result } from '../../shared/api';
import { AttackParamsSchema, type AttackMethod, type AttackParams } from '../../shared/attack';
import { ApiError } from '../../shared/errors';
import type { App } from '../services/app';
import { int, table } from './cli-args';

type WithApp = (dataDir: string | undefined, fn: (app: App) => Promise<number>) => Promise<void>;

/** "0,1,2,4,8" → [0, 1, 2, 4, 8] (each in [0, 255]). */
function epsList(v: string): number[] {
  const out = v.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((e) => !Number.isFinite(e) || e < 0 || e > 255)) throw new InvalidArgumentError('expected ε values in pixel units (/255) from 0 to 255, comma-separated, e.g. 0,1,2,4,8');
  return out;
}

/** "fgsm,pgd" → ['fgsm', 'pgd']. */
function methodList(v: string): AttackMethod[] {
  const out = v.split(',').map((s) => s.trim().toLowerCase());
  if (out.length === 0 || out.some((m) => m !== 'fgsm' && m !== 'pgd')) throw new InvalidArgumentError('expected fgsm, pgd or fgsm,pgd');
  return [...new Set(out)] as AttackMethod[];
}

/** "none" | "next" | a class index. */
function targetOf(v: string): AttackParams['target'] {
  if (v === 'none' || v === 'next') return v;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected none, next or a class index');
  return n;
}

interface AttackFlags {
  method: AttackMethod[];
  eps: number[];
  steps: number;
  stepSize?: number;
  split: 'train' | 'val' | 'test';
  target: AttackParams['target'];
  maxImages: number;
  epoch?: number;
  seed: number;
  json: boolean;
  dataDir?: string;
}

/** Add `attack` to the program; it opens the data directory through `withApp`. */
export function registerAttackCommand(
  program: Command,
  io: { out(line: string): void; err(line: string): void; onInterrupt(handler: () => void): () => void },
  withApp: WithApp,
  dataDirOption: () => Option,
): void {
  const d = AttackParamsSchema.parse({});
  program
    .command('attack')
    .description('accuracy of a trained run under adversarial examples (FGSM, PGD) for several ε, in pixel units (/255)')
    .argument('<run>', 'run id')
    .option('--method <list>', 'fgsm, pgd or fgsm,pgd', methodList, d.methods)
    .option('--eps <list>', 'ε values in pixel units (/255), comma-separated', epsList, d.epsilons)
    .option('--steps <k>', 'PGD iterations', int(1, 1000), d.steps)
    .option('--step-size <a>', 'PGD step size in pixel units (default 2.5·ε/steps)', (v: string) => {
      const n = Number(v);
      if (!(n > 0 && n <= 255)) throw new InvalidArgumentError('expected a step size in pixel units, above 0 and at most 255');
      return n;
    })
    .option('--split <split>', 'train, val or test', (v: string) => {
      if (v !== 'train' && v !== 'val' && v !== 'test') throw new InvalidArgumentError('expected train, val or test');
      return v;
    }, d.split)
    .option('--target <t>', 'none (untargeted), next (class label+1) or a class index', targetOf, d.target)
    .option('--max-images <n>', 'at most this many images of the split (0: all)', int(0), d.maxImages)
    .option('--epoch <e>', "checkpoint epoch, 1-based like the run page (default the tested epoch: the early-stopping monitor's best, else the last)", int(1))
    .option('--seed <s>', 'seed of the image sample and PGD random starts', int(0), d.seed)
    .option('--json', 'print the result as JSON (without gallery images)', false)
    .addOption(dataDirOption())
    .action(async (ref: string, o: AttackFlags) =>
      withApp(o.dataDir, async (app) => {
        const runId = Number(ref);
        if (!Number.isInteger(runId) || runId < 1) throw new ApiError('invalid_params', `runId: "${ref}" is not a run id`, 'runId');
        const params = { methods: o.method, epsilons: o.eps, steps: o.steps, stepSize: o.stepSize, split: o.split, target: o.target, maxImages: o.maxImages, seed: o.seed, galleryCount: 0 };
        const finished = new Promise<Result<'jobs.get'>>((resolve) => {
          const sub = app.onEvent((e) => {
            if (e.event === 'job.finished' && e.payload.jobId === jobId) {
              sub.dispose();
              resolve(e.payload);
            }
          });
        });
        const { jobId } = (await app.handle('attack.start', { runId, ...(o.epoch !== undefined ? { epoch: o.epoch - 1 } : {}), params })) as Result<'attack.start'>;
        const off = io.onInterrupt(() => {
          io.err('cancelling the attack…');
          void app.handle('jobs.cancel', { jobId }).catch(() => undefined);
        });
        let job: Result<'jobs.get'>;
        try {
          job = await finished;
        } finally {
          off();
        }
        if (job.status === 'cancelled') return 130;
        if (job.status !== 'completed') {
          io.err(`error: attack ${job.status}${job.error ? `: ${job.error}` : ''}`);
          return 1;
        }
        const r = (await app.handle('attack.result', { jobId })) as Result<'attack.result'>;
        if (o.json) {
          const { gallery: _gallery, ...rest } = r;
          io.out(JSON.stringify({ runId, epoch: job.epoch + 1, ...rest }, null, 2));
          return 0;
        }
        const eps = [...new Set(r.points.map((p) => p.epsilon))];
        const targeted = r.params.target !== 'none';
        const head = ['ε (/255)', ...r.params.methods.map((m) => (m === 'pgd' ? `PGD-${r.params.steps}` : 'FGSM'))];
        const cell = (m: AttackMethod, e: number): string => {
          const p = r.points.find((q) => q.method === m && q.epsilon === e)!;
          return `${(100 * p.accuracy).toFixed(2)}%${targeted ? ` (target ${(100 * p.targetRate!).toFixed(1)}%)` : ''}`;
        };
        io.out(`run ${runId}, epoch ${job.epoch + 1}, ${r.count} ${r.params.split} images${targeted ? `, targeted at ${String(r.params.target)}` : ''}: accuracy (clean ${(100 * r.cleanAccuracy).toFixed(2)}%), ${r.seconds.toFixed(1)} s`);
        for (const l of table(head, eps.map((e) => [String(e), ...r.params.methods.map((m) => cell(m, e))]))) io.out(l);
        return 0;
      }),
    );
}
