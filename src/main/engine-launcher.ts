/**
 * Engine processes: one per training job. Main launches one, sends it a job
 * (MainToEngine), receives its messages (EngineToMain) and watches it exit.
 *
 * This file holds the interface, the transport-independent plumbing (message
 * validation, the stderr tail kept as a failure reason) and the headless host's
 * implementation on `child_process.fork`. The Electron implementation
 * (`utilityProcess.fork`) lives in src/main/electron/, the only code that may import
 * electron.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { EngineToMainSchema, type EngineToMain, type MainToEngine } from '../shared/engine-protocol';
import { Emitter, type Disposable } from './events';

/** How an engine process ended: exit code (null when killed by a signal), signal name, and the last stderr lines. */
export interface EngineExit {
  code: number | null;
  signal: string | null;
  /** The engine's last stderr output (at most ~4 KiB), trimmed; '' when it wrote none. */
  stderrTail: string;
}

/** A running engine process. */
export interface EngineProcess {
  /** OS process id (undefined when the process failed to spawn). */
  readonly pid: number | undefined;
  /** Send a message; silently dropped once the process has exited. */
  send(msg: MainToEngine): void;
  /** Every valid message from the engine; invalid ones are logged and dropped. */
  readonly onMessage: (listener: (msg: EngineToMain) => void) => Disposable;
  /** Fires once when the process has exited (also when it failed to spawn). */
  readonly onExit: (listener: (exit: EngineExit) => void) => Disposable;
  /** Kill the process (default SIGKILL). Safe to call after exit. */
  kill(signal?: NodeJS.Signals): void;
  /** The last stderr output so far (see EngineExit.stderrTail). */
  stderrTail(): string;
  /** True once the process has exited. */
  readonly exited: boolean;
  /** Only where the engine is not a child of this process (a Slurm job): stop following it, leaving it to train on, and report the exit. */
  detach?(): void;
}

/** What one launch may add to the engine's start. */
export interface LaunchOptions {
  /** Variables added to the engine's environment, e.g. `LAYERWISE_THREADS` (its share of the cores, src/main/services/runs/threads.ts). */
  env?: Record<string, string>;
}

/** Starts engine processes. One implementation per host (Node fork, Electron utility process). */
export interface EngineLauncher {
  /** Start a fresh engine process. Never throws for a failed spawn: the process then exits at once (onExit). */
  launch(opts?: LaunchOptions): EngineProcess;
}

/** Bytes of stderr kept as the failure reason. */
const STDERR_TAIL_BYTES = 4096;

/**
 * The shared part of an engine process: emitters, message validation, the stderr tail.
 * Implementations call `receive`, `appendStderr` and `exit` from their transport's callbacks.
 */
export abstract class EngineProcessBase implements EngineProcess {
  private readonly messageEmitter = new Emitter<EngineToMain>();
  private readonly exitEmitter = new Emitter<EngineExit>();
  private stderr = '';
  private exitInfo: EngineExit | null = null;

  readonly onMessage = this.messageEmitter.event;

  /** Subscribe to exit; a listener added after the exit is called at once (asynchronously). */
  readonly onExit = (listener: (exit: EngineExit) => void): Disposable => {
    if (this.exitInfo) {
      const info = this.exitInfo;
      queueMicrotask(() => listener(info));
      return { dispose: () => undefined };
    }
    return this.exitEmitter.event(listener);
  };

  abstract readonly pid: number | undefined;
  abstract send(msg: MainToEngine): void;
  abstract kill(signal?: NodeJS.Signals): void;

  get exited(): boolean {
    return this.exitInfo !== null;
  }

  stderrTail(): string {
    return this.stderr.trim();
  }

  /** Validate and forward one message from the engine. */
  protected receive(raw: unknown): void {
    if (this.exitInfo) return;
    const r = EngineToMainSchema.safeParse(raw);
    if (!r.success) {
      console.warn('[layerwise] dropped an invalid engine message:', JSON.stringify(raw)?.slice(0, 200));
      return;
    }
    this.messageEmitter.fire(r.data);
  }

  /** Keep the last STDERR_TAIL_BYTES characters of stderr. */
  protected appendStderr(chunk: string): void {
    this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL_BYTES);
  }

  /** Record the exit once and notify listeners; later calls are ignored. */
  protected exit(code: number | null, signal: string | null): void {
    if (this.exitInfo) return;
    this.exitInfo = { code, signal, stderrTail: this.stderrTail() };
    this.exitEmitter.fire(this.exitInfo);
    this.messageEmitter.dispose();
    this.exitEmitter.dispose();
  }
}

/** Options of the Node (child_process.fork) launcher. */
export interface NodeEngineLauncherOptions {
  /** The engine entry script: the built `out/main/engine.js`, or `src/engine/entry.ts` with execArgv ['--import', 'tsx']. */
  entry: string;
  /** Node flags for the engine process (e.g. ['--import', 'tsx'] to run TypeScript sources). */
  execArgv?: string[];
  /** Environment for the engine (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Echo the engine's stderr to this process's stderr as well (default false). */
  echoStderr?: boolean;
  /**
   * Scheduling niceness of the engine (0–19; default: LAYERWISE_ENGINE_NICE, else 0). The
   * headless host uses HOST_ENGINE_NICENESS: training takes every core it finds, and the host
   * serving many browser tabs must still answer at once. Only matters when the cores are
   * busy: an idle machine trains at full speed either way.
   */
  niceness?: number;
}

/** The niceness the headless host gives its engines (CFS weight 335 against the host's 1024: about a quarter of a contended core's time less for training). */
export const HOST_ENGINE_NICENESS = 5;

/** The engine's niceness: `LAYERWISE_ENGINE_NICE` when set to 0–19, else `fallback`. */
export function defaultEngineNiceness(env: NodeJS.ProcessEnv = process.env, fallback = 0): number {
  const n = Number(env.LAYERWISE_ENGINE_NICE);
  return env.LAYERWISE_ENGINE_NICE !== undefined && Number.isInteger(n) && n >= 0 && n <= 19 ? n : fallback;
}

/**
 * Node flags that make a forked engine exit (code 70) when its IPC channel closes, i.e.
 * when main has died: an engine never trains on as an orphan. (Electron kills utility
 * processes with their parent by itself.)
 */
export const ORPHAN_GUARD = ['--import', 'data:text/javascript,process.once("disconnect",()=>process.exit(70))'];

class NodeEngineProcess extends EngineProcessBase {
  private readonly child: ChildProcess;

  constructor(opts: NodeEngineLauncherOptions, launch: LaunchOptions = {}) {
    super();
    this.child = fork(opts.entry, [], {
      execArgv: [...(opts.execArgv ?? []), ...ORPHAN_GUARD],
      env: { ...(opts.env ?? process.env), ...launch.env },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
      // Its own process group: a terminal's Ctrl+C reaches main only, which then cancels
      // the run cleanly instead of the engine dying mid-step.
      detached: true,
    });
    const nice = opts.niceness ?? defaultEngineNiceness(opts.env ?? process.env);
    if (this.child.pid !== undefined && nice > 0) {
      try {
        setPriority(this.child.pid, nice);
      } catch {
        // not permitted here: train at normal priority
      }
    }
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.appendStderr(chunk);
      if (opts.echoStderr) process.stderr.write(chunk);
    });
    this.child.on('message', (m) => this.receive(m));
    this.child.on('error', (err) => {
      this.appendStderr(`\n${err.message}`);
      // A spawn failure emits 'error' and maybe no 'exit'.
      if (this.child.pid === undefined) this.exit(null, null);
    });
    // 'close' (not 'exit') so that the stderr stream has been read to its end.
    this.child.on('close', (code, signal) => this.exit(code, signal));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(msg: MainToEngine): void {
    if (this.exited || !this.child.connected) return;
    this.child.send(msg, (err) => {
      if (err) this.appendStderr(`\nsend failed: ${err.message}`);
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exited) return;
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** Launches engines with `child_process.fork` (the headless host and the CLI). */
export class NodeEngineLauncher implements EngineLauncher {
  constructor(private readonly opts: NodeEngineLauncherOptions) {}

  launch(opts?: LaunchOptions): EngineProcess {
    return new NodeEngineProcess(this.opts, opts);
  }
}

/**
 * Find the engine entry: `engine.js` next to (or one folder above) the running bundle (out/main/), else the
 * TypeScript sources (src/engine/entry.ts, run with tsx) found by walking up from `from`.
 * @throws Error when neither exists.
 */
export function defaultEngineEntry(from: string = __dirname): Pick<NodeEngineLauncherOptions, 'entry' | 'execArgv'> {
  // Bundled: this code sits in out/main/ or out/main/chunks/.
  for (const built of [join(from, 'engine.js'), join(from, '..', 'engine.js')]) {
    if (existsSync(built)) return { entry: resolve(built) };
  }
  let dir = resolve(from);
  for (;;) {
    const out = join(dir, 'out', 'main', 'engine.js');
    const src = join(dir, 'src', 'engine', 'entry.ts');
    if (existsSync(src)) return { entry: src, execArgv: ['--import', 'tsx'] };
    if (existsSync(out)) return { entry: out };
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`engine: cannot find engine.js near ${from} nor src/engine/entry.ts above it; run \`npx electron-vite build\``);
}
