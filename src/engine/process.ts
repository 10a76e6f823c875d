/**
 * The engine process's transport: the same JSON messages over an Electron utility
 * process's `process.parentPort` or a `child_process.fork` IPC channel.
 */
import type { EngineToMain } from '../shared/engine-protocol';
import { MainToEngineSchema, type AttackJob, type AugmentPreviewJob, type BaselineJob, type ClassifyJob, type ExportJob, type InspectJob, type LrRangeJob, type TrainJob } from '../shared/engine-protocol';
import { formatZodError } from '../shared/spec';
import { initBackend, probeWebGpu } from './backend';
import { runAttackJob } from './attack-job';
import { runBaselineJob } from './baseline/job';
import { runClassifyJob, runExportJob } from './export/job';
import { lrRangeTest } from './lr-range';
import { augmentPreview } from './augment-preview';
import { runInspectJob } from './inspect';
import { train } from './train';

export interface Transport {
  send(msg: EngineToMain): void;
  /** Subscribe to raw incoming messages. */
  onMessage(listener: (msg: unknown) => void): void;
  /** Resolves once everything sent so far has left the process. */
  flush(): Promise<void>;
}

/**
 * The transport this process was started with: Electron's `process.parentPort`
 * (messages arrive as `{ data }`), else Node's IPC channel (`process.send`).
 * @returns null when the process has neither (started by hand).
 */
export function detectTransport(): Transport | null {
  const parentPort = (process as unknown as { parentPort?: { postMessage(m: unknown): void; on(ev: 'message', l: (e: { data: unknown }) => void): void } }).parentPort;
  if (parentPort) {
    return {
      send: (m) => parentPort.postMessage(m),
      onMessage: (l) => parentPort.on('message', (e) => l(e.data)),
      flush: () => new Promise((r) => setTimeout(r, 50)),
    };
  }
  if (typeof process.send === 'function') {
    let pending: Promise<void> = Promise.resolve();
    return {
      send: (m) => {
        const sent = new Promise<void>((resolve) => process.send!(m, undefined, undefined, () => resolve()));
        pending = pending.then(() => sent);
      },
      onMessage: (l) => process.on('message', l),
      flush: () => pending,
    };
  }
  return null;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Run one engine session over `transport`: wait for a `train`, `inspect` or `attack` job (validated with
 * MainToEngineSchema; a `cancel` before it is ignored), initialise the backend named in
 * the spec, send `ready`, train, and resolve with the exit code: 0 after `done`
 * (or after answering a `probe` message, which trains nothing)
 * (finished or cancelled), 1 after `failed` (bad message, backend or training error).
 * A `cancel` during training stops it between steps.
 */
export function runEngine(transport: Transport): Promise<number> {
  return new Promise<number>((resolveExit) => {
    const abort = new AbortController();
    let job: TrainJob | BaselineJob | InspectJob | AttackJob | LrRangeJob | AugmentPreviewJob | ExportJob | ClassifyJob | null = null;
    const fail = (e: unknown): void => {
      transport.send({ type: 'failed', error: errorText(e) });
      resolveExit(1);
    };
    transport.onMessage((raw) => {
      const parsed = MainToEngineSchema.safeParse(raw);
      if (!parsed.success) {
        if (job) return; // a stray message during training is not worth dying for
        fail(new Error(`engine: invalid message: ${formatZodError(parsed.error)}`));
        return;
      }
      const msg = parsed.data;
      if (msg.type === 'cancel') {
        abort.abort();
        return;
      }
      if (job) return; // one job per process
      if (msg.type === 'probe') {
        void probeWebGpu().then((p) => {
          transport.send('description' in p ? { type: 'probe', gpu: true, detail: p.description } : { type: 'probe', gpu: false, detail: p.why });
          resolveExit(0);
        });
        return;
      }
      job = msg;
      const j = msg;
      void (async () => {
        try {
          // Inspect and attack jobs run on the CPU backend (wasm with our kernels): small batches, input gradients.
          const info = await initBackend(j.type === 'train' || j.type === 'lrRange' ? j.spec.backend : 'cpu');
          transport.send({ type: 'ready', backend: info.backend, detail: info.detail });
          const post = (m: EngineToMain): void => transport.send(m);
          if (j.type === 'train') await train(j, post, abort.signal);
          else if (j.type === 'baseline') await runBaselineJob(j, post, abort.signal);
          else if (j.type === 'inspect') await runInspectJob(j, post, abort.signal);
          else if (j.type === 'export') await runExportJob(j, post);
          else if (j.type === 'classify') await runClassifyJob(j, post);
          else if (j.type === 'augmentPreview') post({ type: 'jobResult', result: augmentPreview(j.spec, j.packDir, j.count) });
          else if (j.type === 'lrRange') {
            const r = await lrRangeTest(j.spec, j.packDir, j.params, (done, total) => post({ type: 'jobProgress', phase: 'lrRange', done, total }), abort.signal);
            post(r ? { type: 'jobResult', result: r } : { type: 'jobCancelled' });
          }
          else await runAttackJob(j, post, abort.signal);
          resolveExit(0);
        } catch (e) {
          fail(e);
        }
      })();
    });
  });
}

/**
 * Process entry: run a session on the detected transport, then exit with its code once
 * the last message has been sent. Uncaught errors become `failed` and exit 1.
 * @throws Error when the process has no parent to talk to.
 */
export async function startEngineProcess(): Promise<void> {
  const transport = detectTransport();
  if (!transport) throw new Error('engine: no parent process (start it with utilityProcess.fork or child_process.fork)');
  const die = (e: unknown): void => {
    transport.send({ type: 'failed', error: errorText(e) });
    void transport.flush().then(() => process.exit(1));
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  // A forked engine whose parent went away (IPC closed) must not train on as an orphan.
  if (typeof process.send === 'function') process.once('disconnect', () => process.exit(1));
  const code = await runEngine(transport);
  await transport.flush();
  process.exit(code);
}
