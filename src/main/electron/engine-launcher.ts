/**
 * The Electron engine launcher: each engine is an Electron utility process
 * (`utilityProcess.fork` of out/main/engine.js), talking over `process.parentPort`.
 */
import { utilityProcess, type UtilityProcess } from 'electron';
import type { MainToEngine } from '../../shared/engine-protocol';
import { EngineProcessBase, type EngineLauncher, type EngineProcess, type LaunchOptions } from '../engine-launcher';

class UtilityEngineProcess extends EngineProcessBase {
  private readonly child: UtilityProcess;

  constructor(entry: string, launch: LaunchOptions = {}) {
    super();
    this.child = utilityProcess.fork(entry, [], { stdio: ['ignore', 'ignore', 'pipe'], serviceName: 'Layerwise engine', env: { ...process.env, ...launch.env } });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string | Buffer) => this.appendStderr(String(chunk)));
    this.child.on('message', (m: unknown) => this.receive(m));
    // A utility process reports only its exit code; a crash gives a non-zero code.
    this.child.on('exit', (code: number) => setImmediate(() => this.exit(code, null)));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(msg: MainToEngine): void {
    if (!this.exited) this.child.postMessage(msg);
  }

  kill(): void {
    if (!this.exited) this.child.kill();
  }
}

/** Launches engines as Electron utility processes running `entry` (out/main/engine.js). */
export class UtilityEngineLauncher implements EngineLauncher {
  constructor(private readonly entry: string) {}

  launch(opts?: LaunchOptions): EngineProcess {
    return new UtilityEngineProcess(this.entry, opts);
  }
}
