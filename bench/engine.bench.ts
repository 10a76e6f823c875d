/**
 * `npm run bench [-- engine] [-- --gpu] [-- --strict]`: our engine against PyTorch (training,
 * inference) and ONNX Runtime (inference) on the fixed models of issues 3 and 8 (bench/models.ts:
 * M1 LeNet-5, M2 a small VGG, M3 ResNet-20, M4 MobileNet v1 0.25 at 128×128; BENCH_MODELS=M3,M4 picks some),
 * batch 64, float32, same initial weights and data in every engine.
 *
 * 1. Correctness first: with dropout off, 5 identical optimizer steps (Adam; SGD momentum for
 *    M3 / M4) in ours and in PyTorch;
 *    every step's loss and the final weights must agree to 1e-3 relative error
 *    (max |ours − torch| / max |torch| over all weights), else the benchmark exits 1 before timing.
 *    When they do not, both are compared with the same steps run by PyTorch in float64: ours
 *    passes if its error there is within max(1e-3, 2× PyTorch float32's own) (a model whose
 *    steps amplify rounding, M4 at initialisation, moves either float32 engine by ~1e-3).
 * 2. Speed: warm-up, then ROUNDS interleaved rounds (ours, PyTorch, ONNX Runtime take turns
 *    per model), samples/s from the median step time over all rounds (≥ 20 steps each; M4: 12
 *    training and 24 inference steps, a PyTorch M4 step takes seconds here).
 * 3. Peak resident memory per worker process (one process per engine and model).
 * Threads: LAYERWISE_THREADS, else all cores (os.availableParallelism()); PyTorch and
 * ONNX Runtime get the same count. --gpu runs ours on WebGPU (fails clearly without a GPU).
 * --strict also exits 1 when a speed or memory target is missed (they are noisy on a
 * shared machine, so by default they are reported only).
 * --quick: the same path at its smallest for M1 and M2 (2 checked steps, 1 round of a few
 * steps, no settle pauses), the PyTorch comparison still gating it, then M3 and M4 on our
 * engine alone (1 step each way: PyTorch takes seconds per M4 step on 2 cores); without
 * PyTorch only our engine runs, with the reason printed. Figures are printed, targets never
 * enforced.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { f32FromB64 } from './common';
import { BATCH, MODEL_NAMES, type ModelName } from './models';
import { maxRelErr as relErr } from '../test/engine/helpers/compare';

const flags = new Set(process.argv.slice(2));
const GPU = flags.has('--gpu');
const QUICK = flags.has('--quick');
const STRICT = flags.has('--strict') && !QUICK;
const THREADS = process.env.LAYERWISE_THREADS ? Number(process.env.LAYERWISE_THREADS) : availableParallelism();
const ROUNDS = QUICK ? 1 : 4;
const TRAIN_STEPS: Record<ModelName, number> = QUICK ? { M1: 3, M2: 2, M3: 1, M4: 1 } : { M1: 10, M2: 6, M3: 5, M4: 3 };
const INFER_STEPS: Record<ModelName, number> = QUICK ? { M1: 5, M2: 2, M3: 1, M4: 1 } : { M1: 100, M2: 10, M3: 10, M4: 6 };
const WARMUP_STEPS = QUICK ? 1 : 3;
/**
 * Pause before each timed call: PyTorch's OpenMP and ONNX Runtime's intra-op threads spin for
 * a while after a call, and on 2 shared cores that spinning lands on whichever engine runs
 * next (it halved our M1 inference figure: 0.7 ms batches measured in 20-step windows).
 */
const SETTLE_MS = QUICK ? 0 : 300;
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, SETTLE_MS));
const CHECK_STEPS = Number(process.env.BENCH_CHECK_STEPS ?? (QUICK ? 2 : 5));
/** --quick (BENCH_MODELS unset): the models run on our engine alone after the compared ones. */
const QUICK_SMOKE: ModelName[] = QUICK && !process.env.BENCH_MODELS ? ['M3', 'M4'] : [];
const TOL = 1e-3;
const root = join(__dirname, '..');

/** A worker process speaking JSON lines (bench/common.ts). */
class Worker {
  private proc: ChildProcessWithoutNullStreams;
  private waiting: ((v: any) => void)[] = [];
  constructor(
    readonly label: string,
    cmd: string,
    args: string[],
  ) {
    this.proc = spawn(cmd, args, { cwd: root, env: process.env, stdio: ['pipe', 'pipe', 'pipe'] }) as ChildProcessWithoutNullStreams;
    createInterface({ input: this.proc.stdout }).on('line', (l) => this.waiting.shift()?.(JSON.parse(l)));
    this.proc.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      if (!/^\s*$/.test(s) && !/^\/usr\/bin\/python|UserWarning|warnings\.warn/.test(s)) process.stderr.write(`[${label}] ${s}`);
    });
    this.proc.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w({ error: `${label} exited with code ${code}` });
    });
  }
  async call(cmd: Record<string, unknown>): Promise<any> {
    const reply = await new Promise<any>((resolve) => {
      this.waiting.push(resolve);
      this.proc.stdin.write(JSON.stringify(cmd) + '\n');
    });
    if (reply?.error) throw new Error(`${this.label}: ${reply.error}`);
    return reply;
  }
  close(): void {
    this.proc.stdin.end();
  }
}

/**
 * The models compared with PyTorch / ONNX Runtime: BENCH_MODELS (comma-separated, e.g. "M3,M4")
 * when set, else all four (--quick: M1 and M2; M3 and M4 then only run on our engine, see QUICK_SMOKE).
 */
function modelsToRun(): ModelName[] {
  const env = process.env.BENCH_MODELS;
  if (!env) return QUICK ? ['M1', 'M2'] : [...MODEL_NAMES];
  const names = env.split(',').map((s) => s.trim());
  const bad = names.filter((n) => !(MODEL_NAMES as readonly string[]).includes(n));
  if (bad.length) throw new Error(`BENCH_MODELS: unknown model ${bad.join(', ')} (known: ${MODEL_NAMES.join(', ')})`);
  return names as ModelName[];
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sps = (times: number[]): number => (BATCH * 1000) / median(times);

interface Row {
  model: ModelName;
  train: { ours: number[]; torch: number[] };
  infer: { ours: number[]; torch: number[]; ort: number[] };
  mem: { ours: number; torch: number; ort: number };
}

interface CheckResult {
  losses: number[];
  weights: { name?: string; shape: number[]; data: string }[];
}

/**
 * How far check trajectory `a` is from `ref`: the largest relative loss error over the steps, the weights' error as
 * one vector (max |a − ref| / max |ref|: the criterion) with where the largest difference is, and the worst single
 * tensor (printed: parameters that start at 0 and whose gradients batch norm cancels, like the first BN's beta, are
 * ill-conditioned in any float32 engine). `a.weights` carry the names; `ref`'s are in the same order.
 */
function trajectoryError(a: CheckResult, ref: CheckResult): { lossErr: number; allErr: number; dMaxAt: string; worst: string; wErr: number } {
  const lossErr = Math.max(...a.losses.map((l, i) => Math.abs(l - ref.losses[i]) / Math.abs(ref.losses[i])));
  let [wErr, worst, dMax, sMax, dMaxAt] = [0, '', 0, 0, ''];
  a.weights.forEach((w, i) => {
    const [wa, wb] = [f32FromB64(w.data), f32FromB64(ref.weights[i].data)];
    for (let j = 0; j < wb.length; j++) {
      const d = Math.abs(wa[j] - wb[j]);
      if (d > dMax) [dMax, dMaxAt] = [d, `${w.name} [${w.shape}]`];
      sMax = Math.max(sMax, Math.abs(wb[j]));
    }
    const e = relErr(wa, wb);
    if (process.env.BENCH_VERBOSE) console.log(`  ${w.name} [${w.shape}] rel. error ${e.toExponential(2)}`);
    if (e > wErr) [wErr, worst] = [e, `${w.name} [${w.shape}]`];
  });
  return { lossErr, allErr: dMax / sMax, dMaxAt, worst, wErr };
}

async function main(): Promise<void> {
  // Debian's python3-torch lives in the system Python; a pyenv/venv python3 on PATH may lack it.
  // LAYERWISE_PYTHON, when set, is the only one tried.
  const candidates = process.env.LAYERWISE_PYTHON ? [process.env.LAYERWISE_PYTHON] : ['/usr/bin/python3', 'python3'];
  const python = candidates.find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
  if (!python) {
    const why = 'PyTorch is missing (python3 -c "import torch" failed). Install it: apt-get install -y python3-torch (or set LAYERWISE_PYTHON)';
    if (!QUICK) {
      console.error(`bench: ${why}`);
      process.exit(1);
    }
    console.log(`skipped: the PyTorch and ONNX Runtime comparison (${why}); our engine alone:`);
    return oursAlone(modelsToRun());
  }
  const dir = mkdtempSync(join(tmpdir(), 'layerwise-bench-'));
  const models = modelsToRun();
  const workers: Record<string, { ours: Worker; torch: Worker; ort: Worker }> = {};
  let failed = false;
  let oursDetail = '';
  const inferPath: Record<string, string> = {};
  let torchInfo: any = null;
  try {
    // Start, check correctness.
    for (const m of models) {
      const ours = new Worker(`ours ${m}`, process.execPath, ['--import', 'tsx', join(root, 'bench', 'tfjs-worker.ts')]);
      const init = await ours.call({ cmd: 'init', model: m, backend: GPU ? 'gpu' : 'cpu', threads: THREADS }).catch((e: Error) => {
        ours.close();
        throw new Error(GPU ? `--gpu: our engine could not start on a GPU: ${e.message.split('\n').find((l) => /backend:|Error/.test(l)) ?? e.message}` : e.message);
      });
      oursDetail = init.detail;
      const torch = new Worker(`torch ${m}`, python, [join(root, 'bench', 'torch_worker.py')]);
      torchInfo = await torch.call({ cmd: 'init', spec: init.spec, graph: init.graph, training: init.training, weights: init.weights, x: init.x, y: init.y, threads: THREADS, gpu: GPU });
      const checkTraining = { ...init.training, learningRate: init.training.checkLearningRate ?? init.training.learningRate, epsilon: Number(process.env.BENCH_CHECK_EPSILON ?? init.training.epsilon) };
      const [a, b] = [await ours.call({ cmd: 'check', steps: CHECK_STEPS, training: checkTraining }), await torch.call({ cmd: 'check', steps: CHECK_STEPS, training: checkTraining })];
      const direct = trajectoryError(a, b);
      let ok = direct.lossErr <= TOL && direct.allErr <= TOL && a.weights.length === b.weights.length;
      // Two float32 engines can disagree by more than TOL on a model whose steps amplify rounding (M4 at
      // initialisation: PyTorch's own 5th loss moves by 2e-4 between 1 and 2 threads). Then both are measured against
      // the same steps in float64: ours passes when it is as close to that as PyTorch's float32 is (within 2×, or TOL).
      let exact = '';
      if (!ok && a.weights.length === b.weights.length) {
        const c = await torch.call({ cmd: 'check', steps: CHECK_STEPS, training: checkTraining, float64: true });
        const [o64, t64] = [trajectoryError(a, c), trajectoryError(b, c)];
        const [lossBar, wBar] = [Math.max(TOL, 2 * t64.lossErr), Math.max(TOL, 2 * t64.allErr)];
        ok = o64.lossErr <= lossBar && o64.allErr <= wBar;
        exact =
          `; against the same steps in float64: ours loss ${o64.lossErr.toExponential(2)} / weights ${o64.allErr.toExponential(2)}, PyTorch float32 ${t64.lossErr.toExponential(2)} / ${t64.allErr.toExponential(2)}` +
          ` → ${ok ? 'OK' : 'FAIL'} (ours within max(${TOL}, 2× PyTorch float32's): ${lossBar.toExponential(2)} / ${wBar.toExponential(2)})`;
      }
      console.log(
        `correctness ${m}: ${CHECK_STEPS} ${checkTraining.optimizer === 'momentum' ? `SGD momentum ${checkTraining.momentum}` : `Adam (epsilon ${checkTraining.epsilon})`} steps at lr ${checkTraining.learningRate}, dropout off: losses ours ${a.losses.map((l: number) => l.toFixed(5)).join(' ')} | torch ${b.losses.map((l: number) => l.toFixed(5)).join(' ')}; ` +
          `max loss rel. error ${direct.lossErr.toExponential(2)}, weight rel. error ${direct.allErr.toExponential(2)} (largest difference in ${direct.dMaxAt}; worst tensor alone ${direct.worst}: ${direct.wErr.toExponential(2)}) → ${exact ? 'over' : ok ? 'OK' : 'FAIL'} (tolerance ${TOL})${exact}`,
      );
      if (!ok) failed = true;
      const onnx = join(dir, `${m}.onnx`);
      await torch.call({ cmd: 'export_onnx', path: onnx });
      const ort = new Worker(`ort ${m}`, process.execPath, ['--import', 'tsx', join(root, 'bench', 'ort-worker.ts')]);
      const [h, w, c] = init.spec.inputShape;
      await ort.call({ cmd: 'init', path: onnx, threads: THREADS, x: init.x, shape: [BATCH, h, w, c] });
      workers[m] = { ours, torch, ort };
    }
    if (failed) {
      console.error('bench: our engine does not match PyTorch; no timings (a fast wrong engine fails the benchmark)');
      process.exitCode = 1;
      return;
    }
    // Warm-up, then interleaved rounds.
    const rows: Row[] = models.map((model) => ({ model, train: { ours: [], torch: [] }, infer: { ours: [], torch: [], ort: [] }, mem: { ours: 0, torch: 0, ort: 0 } }));
    for (const m of models) {
      const { ours, torch, ort } = workers[m];
      await ours.call({ cmd: 'train', steps: WARMUP_STEPS });
      await torch.call({ cmd: 'train', steps: WARMUP_STEPS });
      await ours.call({ cmd: 'infer', steps: WARMUP_STEPS });
      await torch.call({ cmd: 'infer', steps: WARMUP_STEPS });
      await ort.call({ cmd: 'infer', steps: WARMUP_STEPS });
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const row of rows) {
        const { ours, torch, ort } = workers[row.model];
        const first = r % 2 === 0 ? [ours, torch] : [torch, ours];
        for (const w of first) {
          await settle();
          const t = (await w.call({ cmd: 'train', steps: TRAIN_STEPS[row.model] })).times as number[];
          (w === ours ? row.train.ours : row.train.torch).push(...t);
        }
        for (const w of r % 2 === 0 ? [ours, torch, ort] : [ort, torch, ours]) {
          await settle();
          const reply = await w.call({ cmd: 'infer', steps: INFER_STEPS[row.model] });
          const t = reply.times as number[];
          if (w === ours) inferPath[row.model] = reply.path;
          (w === ours ? row.infer.ours : w === torch ? row.infer.torch : row.infer.ort).push(...t);
        }
      }
    }
    for (const row of rows) {
      const { ours, torch, ort } = workers[row.model];
      row.mem = { ours: (await ours.call({ cmd: 'mem' })).peakRssMiB, torch: (await torch.call({ cmd: 'mem' })).peakRssMiB, ort: (await ort.call({ cmd: 'mem' })).peakRssMiB };
    }
    // Table.
    const f0 = (v: number): string => v.toFixed(0);
    const f2 = (v: number): string => v.toFixed(2);
    console.log(`\nours: ${oursDetail}\nPyTorch ${torchInfo.torch} (${torchInfo.device}, ${torchInfo.threads} threads); ONNX Runtime (CPU EP, ${THREADS} intra-op threads); batch ${BATCH}, float32; ` +
      `median of ${QUICK ? 'a few' : '≥ 20 (M4 ≥ 12)'} steps over ${ROUNDS} interleaved rounds; ${availableParallelism()} cores, shared (noisy)` +
      (QUICK ? '\n--quick: too few steps for the figures to mean much; targets reported, never enforced' : ''));
    for (const m of models) console.log(`ours, ${m} inference: ${inferPath[m]}`);
    console.log('');
    console.log('| model | measure | ours | PyTorch | ours/PyTorch | ONNX Runtime | ours/ORT | target | met |');
    console.log('|---|---|---:|---:|---:|---:|---:|---|---|');
    const misses: string[] = [];
    for (const row of rows) {
      const tr = [sps(row.train.ours), sps(row.train.torch)];
      const inf = [sps(row.infer.ours), sps(row.infer.torch), sps(row.infer.ort)];
      // Issue 8's targets: training ≥ 1.0× PyTorch on every model, inference ≥ 1.0× ONNX Runtime on M2–M4
      // (M1 keeps issue 3's ≥ 0.5×), M2's training peak RSS ≤ PyTorch's.
      const infTarget = row.model === 'M1' ? 0.5 : 1;
      const trOk = tr[0] / tr[1] >= 1;
      const infOk = inf[0] / inf[2] >= infTarget;
      if (!trOk) misses.push(`${row.model} training`);
      if (!infOk) misses.push(`${row.model} inference`);
      console.log(`| ${row.model} | training samples/s | ${f0(tr[0])} | ${f0(tr[1])} | ${f2(tr[0] / tr[1])} | – | – | ≥ 1.0× PyTorch | ${trOk ? 'yes' : 'NO'} |`);
      console.log(`| ${row.model} | inference samples/s | ${f0(inf[0])} | ${f0(inf[1])} | ${f2(inf[0] / inf[1])} | ${f0(inf[2])} | ${f2(inf[0] / inf[2])} | ≥ ${infTarget.toFixed(1)}× ORT | ${infOk ? 'yes' : 'NO'} |`);
      const memOk = row.model !== 'M2' || row.mem.ours <= row.mem.torch;
      if (!memOk) misses.push('M2 memory');
      console.log(
        `| ${row.model} | peak RSS MiB (train + infer) | ${f0(row.mem.ours)} | ${f0(row.mem.torch)} | ${f2(row.mem.ours / row.mem.torch)} | ${f0(row.mem.ort)} (infer) | – | ${row.model === 'M2' ? '≤ PyTorch' : '–'} | ${row.model === 'M2' ? (memOk ? 'yes' : 'NO') : '–'} |`,
      );
    }
    console.log(`\nreference (issue 3, this machine): PyTorch M1 3,800–5,200 and M2 310–350 training samples/s; TF.js wasm (1 thread) 550 and 9–12.5`);
    if (misses.length) {
      console.log(`targets missed: ${misses.join(', ')}${STRICT ? '' : ' (reported only; --strict fails on them)'}`);
      if (STRICT) process.exitCode = 1;
    } else console.log('all targets met');
  } finally {
    for (const w of Object.values(workers)) for (const x of Object.values(w)) x.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (QUICK_SMOKE.length && !failed) {
    console.log(`\n--quick: ${QUICK_SMOKE.join(', ')} on our engine alone (the full run compares them with PyTorch and ONNX Runtime):`);
    await oursAlone(QUICK_SMOKE);
  }
}

/**
 * Our engine alone, figures only: every command of our worker per model (--quick without
 * PyTorch: the compared models; --quick with it: QUICK_SMOKE, the deep models, which PyTorch
 * would take minutes for, so that CI still sees them build, train and infer here).
 */
async function oursAlone(models: ModelName[]): Promise<void> {
  for (const m of models) {
    const ours = new Worker(`ours ${m}`, process.execPath, ['--import', 'tsx', join(root, 'bench', 'tfjs-worker.ts')]);
    try {
      const init = await ours.call({ cmd: 'init', model: m, backend: GPU ? 'gpu' : 'cpu', threads: THREADS });
      const check = await ours.call({ cmd: 'check', steps: models === QUICK_SMOKE ? 1 : CHECK_STEPS, training: init.training });
      if (!check.losses.every((l: number) => Number.isFinite(l))) throw new Error(`${m}: a training loss is not finite: ${check.losses.join(' ')}`);
      const train = (await ours.call({ cmd: 'train', steps: TRAIN_STEPS[m] })).times as number[];
      const infer = await ours.call({ cmd: 'infer', steps: INFER_STEPS[m] });
      const mem = (await ours.call({ cmd: 'mem' })).peakRssMiB as number;
      console.log(`ours ${m}: ${init.detail}; losses ${check.losses.map((l: number) => l.toFixed(5)).join(' ')}; training ${sps(train).toFixed(0)} samples/s, inference ${sps(infer.times).toFixed(0)} samples/s (${infer.path}), peak RSS ${mem.toFixed(0)} MiB`);
    } finally {
      ours.close();
    }
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
