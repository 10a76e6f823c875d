/**
 * Does this machine have a usable GPU? Asked once per process, of an engine process
 * (src/main never loads WebGPU itself): the engine launcher starts an engine, sends it
 * `probe`, and the engine answers with what Dawn found (hardware adapters only, unless
 * LAYERWISE_ALLOW_SOFTWARE_GPU=1) and exits. The answer is cached for the process's
 * lifetime; RunService refuses backend 'gpu' with it, `system.info` reports it.
 */
import type { EngineLauncher } from './engine-launcher';

/** What the host learned about a hardware GPU adapter. */
export interface GpuInfo {
  /** True: a usable WebGPU adapter exists; false: none (or only a software one). */
  available: boolean;
  /** The adapter, or why there is none. */
  detail: string;
}

/** Milliseconds the probe may take (loading Dawn and asking for an adapter) before it counts as "no GPU". */
export const GPU_PROBE_TIMEOUT_MS = 30_000;

/**
 * Launch one engine, ask it for a GPU adapter and return its answer. Never throws: a
 * probe that exits without answering, or answers too late, reads as no GPU with the reason.
 */
export function probeGpu(launcher: EngineLauncher, timeoutMs = GPU_PROBE_TIMEOUT_MS): Promise<GpuInfo> {
  return new Promise<GpuInfo>((resolve) => {
    const engine = launcher.launch();
    let settled = false;
    const done = (info: GpuInfo): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      engine.kill('SIGKILL');
      resolve(info);
    };
    const timer = setTimeout(() => done({ available: false, detail: `the GPU probe did not answer within ${Math.round(timeoutMs / 1000)} s` }), timeoutMs);
    timer.unref?.();
    engine.onMessage((m) => {
      if (m.type === 'probe') done({ available: m.gpu, detail: m.detail });
      else if (m.type === 'failed') done({ available: false, detail: `the GPU probe failed: ${m.error}` });
    });
    engine.onExit((exit) => done({ available: false, detail: `the GPU probe exited without an answer (code ${exit.code ?? exit.signal})${exit.stderrTail ? `: ${exit.stderrTail.slice(-300)}` : ''}` }));
    engine.send({ type: 'probe' });
  });
}

/** probeGpu once, on first use; later calls share the same answer. */
export function cachedGpuProbe(launcher: EngineLauncher, timeoutMs?: number): () => Promise<GpuInfo> {
  let answer: Promise<GpuInfo> | null = null;
  return () => (answer ??= probeGpu(launcher, timeoutMs));
}
